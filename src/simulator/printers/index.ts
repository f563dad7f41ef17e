// The simulated printers: start one per kind and drive its print from a SimClock.
export { startPrinter, newPrinterId, type StartPrinterOptions, type SimulatedPrinter } from './printer';
export { PrintSimulation, EventType, BED_COOLDOWN_C, type PrintOptions, type PauseOptions } from './print-simulation';
export { GadgetModel, GADGET_RATING, type GadgetSetting } from './gadget';
export { SimWebcam, LARGE_FRAME_WEBCAM, type WebcamOptions, type WebcamSettings } from './webcam';
export { COMMAND_API_PREFIX, CommandStatus } from './command-api';
export { Feature, PLATFORMS, PLUGIN_VERSION } from './platform';
export { FileStore, type FileInfo, type FileRoot } from './files';
export { NO_FRAME_TIMEOUT_MS } from './mjpeg';
