// The simulated printers: start one per kind and drive its print from a SimClock.
export { startPrinter, newPrinterId, type StartPrinterOptions, type SimulatedPrinter } from './printer';
export { PrintSimulation, EventType, BED_COOLDOWN_C, type PrintOptions, type PauseOptions } from './print-simulation';
export { GadgetModel, GADGET_RATING, type GadgetSetting } from './gadget';
export { SimWebcam, LARGE_FRAME_WEBCAM, type WebcamOptions, type WebcamSettings } from './webcam';
export { COMMAND_API_PREFIX, CommandStatus } from './command-api';
export { Feature, PLATFORMS, PLUGIN_VERSION } from './platform';
export { FileStore, type FileInfo, type FileRoot } from './files';
export { NO_FRAME_TIMEOUT_MS } from './mjpeg';
export { BambuBroker, BAMBU_RECONNECT_MS, BAMBU_FAULT_CODE, bambuPrintReport } from './bambu';
export { Cc2Broker, CC2_METHOD, CC2_STATUS_METHOD, CC2_CLIENT_TIMEOUT_MS, cc2Status } from './elegoo-cc2';
export { PrinterBroker } from './mqtt-broker';
