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
 * - `cool-down`: asked too often; stop asking for a while.
 * - `refused`: this request cannot succeed as it is (arguments, state, limits, platform); nothing to retry.
 */
export type ErrorBehaviour = 'retry' | 'offline' | 'reconnect' | 'supporter' | 'cool-down' | 'refused';

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

/** The shared 6xx codes of the relay, the App APIs and the command API (facts §8). */
export const SERVICE_CODES: Readonly<Record<number, CodeInfo>> = {
  600: { meaning: 'OctoEverywhere had an unknown server error', kind: 'temporary', advice: RETRY_LATER },
  601: { meaning: 'the printer is not connected to OctoEverywhere', kind: 'temporary', behaviour: 'offline', advice: 'Check that the printer and its OctoEverywhere plugin are powered on and online.' },
  602: { meaning: 'the connection to the printer\'s OctoEverywhere plugin timed out', kind: 'temporary', advice: RETRY_LATER },
  603: { meaning: 'the App Connection was not found', kind: 'permanent', behaviour: 'reconnect', advice: RECONNECT },
  604: { meaning: 'the App Connection was revoked or has expired', kind: 'permanent', behaviour: 'reconnect', advice: RECONNECT },
  605: { meaning: 'the printer owner\'s account no longer has OctoEverywhere Supporter Perks', kind: 'temporary', behaviour: 'supporter', advice: 'Restore Supporter Perks at the no-Supporter page; the connection works again once they return.' },
  606: { meaning: 'the App Connection credentials are invalid', kind: 'permanent', behaviour: 'reconnect', advice: RECONNECT },
  607: { meaning: 'the download is larger than the account allows', kind: 'permanent', advice: 'Download a smaller file; the limit is in the account\'s printer limits.' },
  608: { meaning: 'the upload is larger than the account allows', kind: 'permanent', advice: 'Upload a smaller file; the limit is in the account\'s printer limits.' },
  609: { meaning: 'the webcam was viewed too many times back to back', kind: 'temporary', behaviour: 'cool-down', advice: 'Wait a while before asking for the webcam again.' },
  610: { meaning: 'the printer\'s OctoEverywhere plugin must be updated', kind: 'temporary', advice: 'Update the OctoEverywhere plugin on the printer.' },
  611: { meaning: 'this feature needs OctoEverywhere beta access', kind: 'temporary', advice: 'Enable beta access on the OctoEverywhere account or do without this feature.' },
  612: { meaning: 'the printer\'s OctoEverywhere plugin reported an error', kind: 'temporary', advice: RETRY_LATER },
  613: { meaning: 'no print is running', kind: 'temporary', advice: 'Try again while a print is running.' },
};

/** The command API's envelope codes (facts §7); 400 is its "arguments out of range". */
export const COMMAND_CODES: Readonly<Record<number, CodeInfo>> = {
  400: { meaning: 'the printer rejected the command\'s arguments', kind: 'permanent', advice: 'Check the command\'s arguments against their allowed ranges.' },
  750: { meaning: 'the command failed for an unknown reason', kind: 'temporary', advice: RETRY_LATER },
  751: { meaning: 'the command\'s arguments are invalid', kind: 'permanent', advice: 'Check the command\'s arguments and their types.' },
  752: { meaning: 'the printer failed to execute the command', kind: 'temporary', advice: 'Check the printer; the command may work once it is ready.' },
  753: { meaning: 'the plugin could not serialize the result', kind: 'temporary', advice: RETRY_LATER },
  754: { meaning: 'the command is unknown, there is no webcam, or the plugin is too old', kind: 'permanent', advice: 'Check the command and the webcam, and update the OctoEverywhere plugin.' },
  785: { meaning: 'the OctoEverywhere plugin is not connected to the printer', kind: 'temporary', advice: 'Check that the printer firmware or host is running and connected to the plugin.' },
  786: { meaning: 'the printer is not in a state that allows this command', kind: 'permanent', advice: 'Send it when the printer is in the right state (for example pause only while printing).' },
  787: { meaning: 'too many clients are connected to the printer', kind: 'temporary', advice: RETRY_LATER },
  788: { meaning: 'this command is not supported on this printer', kind: 'permanent', advice: 'Use a command this printer\'s platform supports.' },
  789: { meaning: 'the plugin has no access to the printer (missing printer auth)', kind: 'permanent', advice: 'Give the OctoEverywhere plugin access to the printer in its settings.' },
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
    return new CommandError(
      `OE_${status}`,
      `The ${command} command failed with code ${status}, which this version does not know.${said}`,
      { status, kind: status >= 500 ? 'temporary' : 'permanent' },
    );
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
