// Live status over the printer's own push socket (issue 16): what a program using the client needs —
// one LiveConnection per printer, the raw printer socket and the printer MQTT client, the platform
// and serial-number helpers that choose a LiveConnection's platform, and their options and states.
// The platform sessions, the back-off arithmetic and the socket opener stay internal: the package's
// own code imports them from their modules.
export type { BackoffOptions } from './backoff';
export type { LivePlatform } from './session';
export { MQTT_PROXY_PATH } from './mqtt-proxy-link';
export {
  type MqttQos,
  PRINTER_MQTT_KEEPALIVE_MS,
  PRINTER_MQTT_QUEUE_LIMIT,
  PRINTER_MQTT_QUEUE_TIMEOUT_MS,
  PrinterMqttClient,
  type PrinterMqttEvents,
  type PrinterMqttMessage,
  type PrinterMqttOptions,
  type PrinterMqttState,
  type PublishOptions,
} from './printer-mqtt';
export {
  DEFAULT_HEARTBEAT_MS,
  LiveConnection,
  type LiveConnectionEvents,
  type LiveConnectionOptions,
  type LiveState,
  MAX_HEARTBEAT_MS,
} from './live-connection';
export { livePlatformOf, needsSerialNumber, parseSerialNumber, type PlatformVerdict } from './platform';
export { type RawClose, type RawFrame, RawPrinterSocket, type RawPrinterSocketOptions } from './raw-socket';
export { type SupervisedState } from './supervisor';
