// The OctoEverywhere client: everything needed to use an App Connection or Shared Connection, with no
// Node-RED dependency. The node adapters under src/nodes/ and any other program can use it alike.
import { AppApi } from './app-api';
import { CommandApi } from './command-api';
import { AppConnection, type AppConnectionOptions } from './connection';

// The public API: what a program using the client needs. Internals (checks, codecs, value
// readers, back-off, deadlines) are imported from their own modules by the package's own code.
export {
  AppConnectionRequiredError,
  COMMAND_CODES,
  CommandError,
  CompletionError,
  describeCode,
  type ErrorBehaviour,
  type ErrorDetails,
  type ErrorKind,
  FAILURE_DETECTION_CODES,
  FailureDetectionError,
  InvalidArgumentError,
  NetworkError,
  noSupporterPerksUrl,
  OctoEverywhereError,
  SERVICE_CODES,
  ServiceError,
  toOctoEverywhereError,
} from './errors';
export {
  type AnswerHead,
  AppConnection,
  type AppConnectionOptions,
  type AuthType,
  type CallOptions,
  DEFAULT_APP_ID,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_SERVICE_URL,
  DEFAULT_TIMEOUT_MS,
  type HttpMethod,
  type PrinterRequest,
  type PrinterResponse,
} from './connection';
export {
  AppApi,
  type ConnectionInfo,
  GADGET_STATES,
  type GadgetColor,
  type GadgetStateName,
  type GadgetStatus,
  type LiveLink,
  type LiveLinkOptions,
  type PrinterLimits,
  type WebhookTestResult,
} from './app-api';
export {
  boundaryOf,
  COMMAND_API_PATH,
  COMMAND_FEATURE,
  CommandApi,
  FEATURES,
  type MjpegStreamResponse,
  parseTransform,
  type PauseOptions,
  type SetTempOptions,
  type Snapshot,
  type StartOptions,
  type StatusWire,
  type Webcam,
  type WebcamList,
  type WebcamTransform,
} from './command-api';
export { LIMIT_CHECK_FLOOR_BYTES, localFile, transfer, type TransferRequest } from './transfer';
export {
  isActiveState,
  JOB_STATES,
  type JobState,
  type JobStatus,
  type Light,
  offlineJobStatus,
  parseJobStatus,
  type PrinterSnapshot,
  sameSnapshot,
  type Temperature,
} from './status';
export {
  DETECTION_EVENTS,
  type DetectionEvent,
  EVENT_DESCRIPTIONS,
  EVENT_NAMES,
  EVENT_TYPES,
  eventFromWebhook,
  eventName,
  OWN_EVENT_DESCRIPTIONS,
  type PrinterEvent,
} from './events';
export { DEFAULT_BED_COOLDOWN_C, deriveEvents, type DeriveMemory, type DeriveOptions, type DeriveResult } from './derive';
export { buildPortalUrl, type CompletionResult, parseCompletion, type PortalOptions } from './portal';
export { findPrinterId, type PrinterIdResult } from './local-plugin';
export { type ConnectionHostKind, connectionHostKind } from './urls';
export { DEFAULT_MAX_FRAME_BYTES, type FrameHandler, type MjpegFrame, mjpegFrames, MjpegParser, type MjpegParserOptions, MjpegStream } from './mjpeg';
export {
  checkContentType,
  checkSecretKey,
  checkToken,
  checkWebhookPath,
  DEFAULT_WEBHOOK_MAX_BYTES,
  type Delivery,
  DeliveryDeduper,
  eventTypesFromNames,
  generateWebhookToken,
  isStrongWebhookToken,
  parseDelivery,
  readBoundedBody,
  WebhookRejection,
  webhookUrl,
} from './webhook-intake';
export {
  GADGET_DISABLED_INTERVAL_MS,
  GADGET_MIN_INTERVAL_MS,
  GADGET_WARNING_RATING,
  GadgetPollRules,
  type GadgetPrintContext,
  GadgetState,
  isGadgetWarning,
} from './gadget-rules';
export {
  CREATE_RETRY_SEC,
  CREATE_TIMEOUT_MS,
  DEFAULT_CONFIDENCE,
  DetectionContext,
  type DetectionResult,
  FAILURE_DETECTION_URL,
  FailureDetectionClient,
  type FailureDetectionOptions,
  FailureDetectionSession,
  FIRST_INTERVAL_SEC,
  isSessionState,
  type SessionState,
  FREE_CALLS_PER_MONTH,
  looksLikeJpeg,
  MIN_INTERVAL_SEC,
  PROCESS_TIMEOUT_MS,
} from './failure-detection';
export { type Clock, type ClockTimer, realClock } from './clock';
export { type ResponseType } from './body-codec';
export { type AccountLimitsOptions } from './limits';
export { type Route } from './route-chooser';
export * from './live';

/** One connection with its two API families: `client.app` (App APIs) and `client.commands` (plugin command API). */
export class OctoEverywhereClient {
  readonly connection: AppConnection;
  readonly app: AppApi;
  readonly commands: CommandApi;

  constructor(options: AppConnectionOptions) {
    this.connection = new AppConnection(options);
    this.app = new AppApi(this.connection);
    this.commands = new CommandApi(this.connection);
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
