// Live status over the printer's own push socket (issue 16): one LiveConnection per printer.
export * from './backoff';
export * from './session';
export { openPrinterSocket, upgradeError, LOCAL_RETRY_AFTER_MS, type PrinterSocketOptions } from './printer-socket';
export { MQTT_PROXY_PATH } from './mqtt-proxy-link';
export * from './printer-mqtt';
export { moonrakerStatus, MOONRAKER_OBJECTS } from './moonraker';
export { octoPrintStatus } from './octoprint';
export { bambuStatus } from './bambu';
export { cc2Status } from './elegoo-cc2';
export * from './live-connection';
export { livePlatformOf, needsSerialNumber, parseSerialNumber, type PlatformVerdict } from './platform';
export { checkSocketPath, type RawClose, type RawFrame, RawPrinterSocket, type RawPrinterSocketOptions } from './raw-socket';
export { type SupervisedState } from './supervisor';
