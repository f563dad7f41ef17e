// The simulator as a library: start a local OctoEverywhere (service, portal, relay) with simulated
// printers behind it, for tests, benchmarks and demos.
export {
  startSimulator,
  DEFAULT_PRINTERS,
  type Simulator,
  type SimulatorOptions,
  type PrinterSpec,
  type PrinterFactory,
  type SharedConnectionValues,
  type SocketChaos,
} from './service/simulator';
export { ConnackCode, MAX_PACKET_BYTES, NOT_A_WEBSOCKET } from './service/mqtt-proxy';
export { MQTT_PROXY_PATH } from './service/relay-gate';
export type { CompletionKeys, AppConnectionOptions } from './service/account';
export type { AppApiShape } from './service/app-api';
export type { ChaosKnobs } from './service/chaos';
export { SimGadgetApi, type GadgetApiCall, type GadgetApiKnobs, type GadgetKeyState } from './service/gadget-api';
export { DEFAULT_LIMITS, DEFAULT_WEBCAM_VIEW_LIMIT, type PrinterLimitsWire, type WebcamViewLimit } from './service/limits';
export type { WebhookDelivery } from './service/webhooks';
export { localhostLookup, createLocalhostAgent } from './service/localhost';
export { createClock, type ClockOptions, type ManagedClock } from './clock';
export type { PrinterKind, JobState, GadgetWire, SimPrinter, SimPrinterEvent, SimClock, SimTimer, SimMqttBroker, SimMqttMessage } from './contract';
