// Every failure the client reports is an OctoEverywhereError: a stable `code` for Catch nodes, whether
// retrying can help (`kind`), and a message that says what to do. Messages never contain a secret:
// they are built only from codes, tables and caller-chosen words, never from request data.

export type ErrorKind = 'temporary' | 'permanent';

/**
 * What a failure means for what the package does next — the one place nodes read it from, instead
 * of testing codes one by one:
 * - `retry`: passing; try again with back-off.
 * - `offline`: the printer cannot be reached right now; say so (status "offline") and keep trying.
 * - `reconnect`: the connection is gone for good; stop and ask the user to connect again through the portal.
 * - `supporter`: the owner lost Supporter Perks; show the no-Supporter page, it works again once they return.
 * - `cool-down`: asked too often (or a call budget is used up); stop asking for a while.
 * - `refused`: this request cannot succeed as it is (arguments, state, limits, platform, an unusable
 *   frame); nothing to retry, the next different request may work.
 * - `stop`: the credential itself is dead (a Gadget developer API key that is invalid, disabled,
 *   blocked or missing); make no more calls with it until the user changes the configuration. Not
 *   `reconnect`, which means the App Connection Portal; not `refused`, which is about one request.
 *
 * The Gadget Failure Detection codes use the same words: the next interval is `retry` (or
 * `cool-down`), a frame that cannot be used is `refused`, a dead key is `stop`.
 */
export type ErrorBehaviour = 'retry' | 'offline' | 'reconnect' | 'supporter' | 'cool-down' | 'refused' | 'stop';

interface CodeInfo {
  readonly meaning: string;
  readonly kind: ErrorKind;
  /** What the user should do about it. */
  readonly advice: string;
  /** When it is not what `kind` implies (temporary → retry, permanent → refused). */
  readonly behaviour?: ErrorBehaviour;
}

const RECONNECT = 'Reconnect the printer through the App Connection Portal (the config node\'s "Connect with OctoEverywhere").';
const RETRY_LATER = 'This is usually temporary; it is retried with back-off.';

/** The shared 6xx codes of the relay, the App APIs and the command API (docs/octoeverywhere.md §8). */
export const SERVICE_CODES: Readonly<Record<number, CodeInfo>> = {
  600: { meaning: 'OctoEverywhere had an unknown server error', kind: 'temporary', advice: RETRY_LATER },
  601: {
    meaning: 'the printer is not connected to OctoEverywhere',
    kind: 'temporary',
    behaviour: 'offline',
    advice: 'Check that the printer and its OctoEverywhere plugin are powered on and online.',
  },
  602: { meaning: "the connection to the printer's OctoEverywhere plugin timed out", kind: 'temporary', advice: RETRY_LATER },
  603: { meaning: 'the App Connection was not found', kind: 'permanent', behaviour: 'reconnect', advice: RECONNECT },
  604: { meaning: 'the App Connection was revoked or has expired', kind: 'permanent', behaviour: 'reconnect', advice: RECONNECT },
  605: {
    meaning: "the printer owner's account no longer has OctoEverywhere Supporter Perks",
    kind: 'temporary',
    behaviour: 'supporter',
    advice: 'Restore Supporter Perks at the no-Supporter page; the connection works again once they return.',
  },
  606: { meaning: 'the App Connection credentials are invalid', kind: 'permanent', behaviour: 'reconnect', advice: RECONNECT },
  607: {
    meaning: 'the download is larger than the account allows',
    kind: 'permanent',
    advice: "Download a smaller file; the limit is in the account's printer limits.",
  },
  608: {
    meaning: 'the upload is larger than the account allows',
    kind: 'permanent',
    advice: "Upload a smaller file; the limit is in the account's printer limits.",
  },
  609: {
    meaning: 'the webcam was viewed too many times back to back',
    kind: 'temporary',
    behaviour: 'cool-down',
    advice: 'Wait a while before asking for the webcam again.',
  },
  610: { meaning: "the printer's OctoEverywhere plugin must be updated", kind: 'temporary', advice: 'Update the OctoEverywhere plugin on the printer.' },
  611: {
    meaning: 'this feature needs OctoEverywhere beta access',
    kind: 'temporary',
    advice: 'Enable beta access on the OctoEverywhere account or do without this feature.',
  },
  612: { meaning: "the printer's OctoEverywhere plugin reported an error", kind: 'temporary', advice: RETRY_LATER },
  613: { meaning: 'no print is running', kind: 'temporary', advice: 'Try again while a print is running.' },
};

/** The command API's envelope codes (docs/octoeverywhere.md §7); 400 is its "arguments out of range". */
export const COMMAND_CODES: Readonly<Record<number, CodeInfo>> = {
  400: { meaning: "the printer rejected the command's arguments", kind: 'permanent', advice: "Check the command's arguments against their allowed ranges." },
  750: { meaning: 'the command failed for an unknown reason', kind: 'temporary', advice: RETRY_LATER },
  751: { meaning: "the command's arguments are invalid", kind: 'permanent', advice: "Check the command's arguments and their types." },
  752: { meaning: 'the printer failed to execute the command', kind: 'temporary', advice: 'Check the printer; the command may work once it is ready.' },
  753: { meaning: 'the plugin could not serialize the result', kind: 'temporary', advice: RETRY_LATER },
  754: {
    meaning: 'the command is unknown, there is no webcam, or the plugin is too old',
    kind: 'permanent',
    advice: 'Check the command and the webcam, and update the OctoEverywhere plugin.',
  },
  785: {
    meaning: 'the OctoEverywhere plugin is not connected to the printer',
    kind: 'temporary',
    advice: 'Check that the printer firmware or host is running and connected to the plugin.',
  },
  786: {
    meaning: 'the printer is not in a state that allows this command',
    kind: 'permanent',
    advice: 'Send it when the printer is in the right state (for example pause only while printing).',
  },
  787: { meaning: 'too many clients are connected to the printer', kind: 'temporary', advice: RETRY_LATER },
  788: { meaning: 'this command is not supported on this printer', kind: 'permanent', advice: "Use a command this printer's platform supports." },
  789: {
    meaning: 'the plugin has no access to the printer (missing printer auth)',
    kind: 'permanent',
    advice: 'Give the OctoEverywhere plugin access to the printer in its settings.',
  },
};

const NO_SUPPORTER_PAGE = 'https://octoeverywhere.com/appportal/v1/nosupporterperks';

/** The page that explains lost Supporter Perks, for the configured App ID (605). */
export function noSupporterPerksUrl(appId: string): string {
  return `${NO_SUPPORTER_PAGE}?appid=${encodeURIComponent(appId)}`;
}

export interface ErrorDetails {
  /** HTTP status or envelope code the failure arrived as, when it came from the far side. */
  status?: number;
  kind?: ErrorKind;
  /** Default: from the code table for `status`, else from `kind`. */
  behaviour?: ErrorBehaviour;
  /** Link the user should open (605: the no-Supporter page). */
  helpUrl?: string;
  cause?: unknown;
}

export class OctoEverywhereError extends Error {
  override name = 'OctoEverywhereError';
  /** Stable, for Catch nodes: `OE_605`, `OE_786`, `OE_INVALID_ARGUMENT` … */
  readonly code: string;
  readonly status?: number;
  readonly kind: ErrorKind;
  /** What it means for what happens next (see ErrorBehaviour). */
  readonly behaviour: ErrorBehaviour;
  readonly helpUrl?: string;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message);
    this.code = code;
    this.status = details.status;
    this.kind = details.kind ?? 'permanent';
    this.behaviour = details.behaviour ?? behaviourOf(details.status, this.kind);
    this.helpUrl = details.helpUrl;
    // Only our own errors are kept as causes: a library error (axios) carries request config,
    // headers included, so it is never attached.
    if (details.cause instanceof OctoEverywhereError) {
      Object.defineProperty(this, 'cause', { value: details.cause, enumerable: false });
    }
  }

  get temporary(): boolean {
    return this.kind === 'temporary';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, status: this.status, kind: this.kind, helpUrl: this.helpUrl };
  }
}

/**
 * Any thrown value as an OctoEverywhereError: ours as it is, anything else (a bug, a library's error)
 * as OE_INTERNAL, keeping only its type name, since its text or fields could hold request data.
 * `where` names the part of the package it happened in.
 */
export function toOctoEverywhereError(err: unknown, where = 'the OctoEverywhere client'): OctoEverywhereError {
  if (err instanceof OctoEverywhereError) return err;
  const name = err instanceof Error ? err.name : typeof err;
  return new OctoEverywhereError('OE_INTERNAL', `An unexpected ${name} happened in ${where}; please report it.`, { kind: 'temporary' });
}

/** A code's behaviour from the tables, else what its kind implies. */
function behaviourOf(status: number | undefined, kind: ErrorKind): ErrorBehaviour {
  const info = status === undefined ? undefined : (SERVICE_CODES[status] ?? COMMAND_CODES[status]);
  return info?.behaviour ?? (kind === 'temporary' ? 'retry' : 'refused');
}

/** A 6xx from the relay or an App API, or another HTTP failure of an App API. */
export class ServiceError extends OctoEverywhereError {
  override name = 'ServiceError';
}

/** A command API envelope whose Status is not 200. */
export class CommandError extends OctoEverywhereError {
  override name = 'CommandError';
}

/** Input that cannot be used: caught before anything is sent. */
export class InvalidArgumentError extends OctoEverywhereError {
  override name = 'InvalidArgumentError';
  constructor(message: string, code = 'OE_INVALID_ARGUMENT') {
    super(code, message, { kind: 'permanent' });
  }
}

/** The App Connection Portal's completion could not be used. */
export class CompletionError extends OctoEverywhereError {
  override name = 'CompletionError';
}

/** The far side could not be reached, or did not answer in time. */
export class NetworkError extends OctoEverywhereError {
  override name = 'NetworkError';
}

/** An App API was asked of a connection that has no appApiToken (a Shared Connection). */
export class AppConnectionRequiredError extends OctoEverywhereError {
  override name = 'AppConnectionRequiredError';
  constructor(feature: string) {
    super(
      'OE_APP_CONNECTION_REQUIRED',
      `${feature} needs an App Connection (with an App API token); a Shared Connection cannot use OctoEverywhere's App APIs. Connect the printer through the App Connection Portal.`,
      { kind: 'permanent' },
    );
  }
}

/**
 * The error for a 6xx (or an unknown code) from the relay or an App API. `appId` fills the
 * no-Supporter link of 605.
 */
export function serviceError(status: number, what: string, appId = 'devtest'): ServiceError {
  const info = SERVICE_CODES[status];
  if (!info) {
    const kind: ErrorKind = status >= 500 || status === 429 || status === 408 ? 'temporary' : 'permanent';
    return new ServiceError(`OE_${status}`, `${what} failed: OctoEverywhere answered HTTP ${status} (${kind}).`, { status, kind });
  }
  const helpUrl = status === 605 ? noSupporterPerksUrl(appId) : undefined;
  const advice = helpUrl ? `${info.advice} ${helpUrl}` : info.advice;
  return new ServiceError(`OE_${status}`, `${what} failed: ${info.meaning} (${status}, ${info.kind}). ${advice}`, {
    status,
    kind: info.kind,
    helpUrl,
  });
}

/** The error for a command API envelope code other than 200. `detail` is the plugin's own text. */
export function commandError(status: number, command: string, detail?: string): CommandError {
  const service = SERVICE_CODES[status];
  if (service) {
    const e = serviceError(status, `The ${command} command`);
    return new CommandError(e.code, e.message, { status, kind: e.kind, helpUrl: e.helpUrl });
  }
  const info = COMMAND_CODES[status];
  const said = detail ? ` The printer said: ${sanitizeDetail(detail)}` : '';
  if (!info) {
    return new CommandError(`OE_${status}`, `The ${command} command failed with code ${status}, which this version does not know.${said}`, {
      status,
      kind: status >= 500 ? 'temporary' : 'permanent',
    });
  }
  return new CommandError(`OE_${status}`, `The ${command} command failed: ${info.meaning} (${status}). ${info.advice}${said}`, {
    status,
    kind: info.kind,
  });
}

/** Plugin error text is the printer's own words: keep it short and on one line. */
function sanitizeDetail(detail: string): string {
  const oneLine = detail.replace(/[\r\n\t]+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

/** The meaning of a code from either table, for statuses and docs. */
export function describeCode(status: number): { meaning: string; kind: ErrorKind; behaviour: ErrorBehaviour } | undefined {
  const info = SERVICE_CODES[status] ?? COMMAND_CODES[status];
  return info ? { meaning: info.meaning, kind: info.kind, behaviour: behaviourOf(status, info.kind) } : undefined;
}

// ---- the Gadget Failure Detection API (docs/octoeverywhere.md §10) -----------------------

/**
 * A Failure Detection code's behaviour (see ErrorBehaviour), read by the failure-detection node from
 * here (not code by code): `stop` no more calls with this key until the user acts (redeploy with a new
 * or fixed key); `retry` this frame is lost, the next call waits for the next interval (same context);
 * `cool-down` no calls until the budget allows again; `refused` this frame (or request) could not be
 * used, the next frame is tried at the next interval.
 */
interface DetectionCodeInfo extends CodeInfo {
  readonly behaviour: 'stop' | 'retry' | 'cool-down' | 'refused';
}

const NEXT_INTERVAL = 'Nothing to do: the next frame is sent after the next interval.';
const NEW_KEY = 'No more calls are made with this key; put a working key in the Gadget API config node and deploy.';

/**
 * The Failure Detection API's ErrorType values (they are already stable `OE_…` names, so they are
 * our codes as they are) and the package's own codes of the failure-detection node.
 */
export const FAILURE_DETECTION_CODES: Readonly<Record<string, DetectionCodeInfo>> = {
  OE_BAD_ARGS: {
    meaning: "the Failure Detection API refused the request's arguments",
    kind: 'permanent',
    behaviour: 'refused',
    advice: 'Check the confidence levels (1–5) of the Gadget API config node.',
  },
  OE_ARGS_PARSE_FAILED: {
    meaning: 'the Failure Detection API could not parse the request',
    kind: 'permanent',
    behaviour: 'refused',
    advice: 'Please report it: the request was malformed.',
  },
  OE_CONTEXT_RATE_LIMITED: {
    meaning: "this print's context was called sooner than the service allows",
    kind: 'temporary',
    behaviour: 'retry',
    advice: NEXT_INTERVAL,
  },
  OE_IMAGE_DECODE_FAILED: {
    meaning: 'the service could not decode the image',
    kind: 'permanent',
    behaviour: 'refused',
    advice: 'Send a complete JPEG (headers included) as a Buffer in msg.payload; the next frame is tried.',
  },
  OE_INVALID_API_KEY: { meaning: 'the developer API key is not valid', kind: 'permanent', behaviour: 'stop', advice: `Check the key. ${NEW_KEY}` },
  OE_API_KEY_DISABLED: {
    meaning: 'the developer API key was disabled',
    kind: 'permanent',
    behaviour: 'stop',
    advice: `A new key is needed (https://octoeverywhere.com/support). ${NEW_KEY}`,
  },
  OE_API_KEY_BLOCKED_PAYMENT_FAILED: {
    meaning: 'the developer API key is blocked because a payment failed',
    kind: 'permanent',
    behaviour: 'stop',
    advice: `Settle the payment with OctoEverywhere. ${NEW_KEY}`,
  },
  OE_BACKEND_THROTTLED: { meaning: 'the Failure Detection service is overloaded', kind: 'temporary', behaviour: 'retry', advice: NEXT_INTERVAL },
  OE_INTERNAL_ERROR: { meaning: 'the Failure Detection service had an internal error', kind: 'temporary', behaviour: 'retry', advice: NEXT_INTERVAL },
  OE_GADGET_BUDGET_REACHED: {
    meaning: "this month's call budget of the Gadget API config node is used up",
    kind: 'temporary',
    behaviour: 'cool-down',
    advice: "No calls until the next calendar month (UTC), or raise the monthly budget; calls beyond 5,000 a month cost the key's owner money.",
  },
  OE_GADGET_NO_API_KEY: {
    meaning: 'the Gadget API config node has no developer API key',
    kind: 'permanent',
    behaviour: 'stop',
    advice: 'Enter the developer API key in the Gadget API config node and deploy.',
  },
  OE_GADGET_UNTRUSTED_URL: {
    meaning: 'the service named a process URL that is not an OctoEverywhere host',
    kind: 'temporary',
    behaviour: 'retry',
    advice: 'The API key was not sent there; a new context is asked for 30 s later.',
  },
  OE_GADGET_NOT_JPEG: {
    meaning: 'msg.payload is not a JPEG image',
    kind: 'permanent',
    behaviour: 'refused',
    advice: 'Send the JPEG bytes as a Buffer in msg.payload (an http request node with "a binary buffer" output, or the webcam snapshot node).',
  },
};

/** A failure of the Gadget Failure Detection API (an ErrorType answer, or the package's own refusal). */
export class FailureDetectionError extends OctoEverywhereError {
  override name = 'FailureDetectionError';

  /** `behaviour` defaults to the code's in FAILURE_DETECTION_CODES, else what `kind` implies. */
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(code, message, { ...details, behaviour: details.behaviour ?? FAILURE_DETECTION_CODES[code]?.behaviour });
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), behaviour: this.behaviour };
  }
}

/**
 * The error for a Failure Detection answer that is not 2XX: its ErrorType when it has one (unknown
 * `OE_…` types pass through as codes; the rest become `OE_GADGET_HTTP_<status>`). `detail` is the
 * service's ErrorDetails, already stripped of the key by the caller.
 */
export function failureDetectionError(status: number, errorType: string | undefined, what: string, detail?: string): FailureDetectionError {
  const said = detail ? ` The service said: ${sanitizeDetail(detail)}` : '';
  const known = errorType ? FAILURE_DETECTION_CODES[errorType] : undefined;
  if (known && errorType) {
    return new FailureDetectionError(errorType, `${what} failed: ${known.meaning} (${errorType}, ${known.kind}). ${known.advice}${said}`, {
      status,
      kind: known.kind,
    });
  }
  const kind: ErrorKind = status >= 500 || status === 429 || status === 408 || status === 0 ? 'temporary' : 'permanent';
  const code = errorType && /^OE_[A-Z0-9_]{1,60}$/.test(errorType) ? errorType : `OE_GADGET_HTTP_${status}`;
  return new FailureDetectionError(
    code,
    `${what} failed: the Failure Detection API answered HTTP ${status}${errorType ? ` (${code})` : ''} (${kind}).${said}`,
    { status, kind },
  );
}

/** An own-code Failure Detection error from the table (budget, no key, not a JPEG …); `extra` is added to the advice. */
export function detectionCodeError(code: keyof typeof FAILURE_DETECTION_CODES, extra = ''): FailureDetectionError {
  const info = FAILURE_DETECTION_CODES[code];
  return new FailureDetectionError(code, `${capitalize(info.meaning)}. ${info.advice}${extra ? ` ${extra}` : ''}`, { kind: info.kind });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
