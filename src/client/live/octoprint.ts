// OctoPrint's push socket (docs/octoeverywhere.md §9.2): a passive login with the API key gives a session, which the
// socket's `auth` message presents; then `current` messages become the status and OctoPrint's own
// events only sharpen it (a PrintDone marks the job complete). Print events come from the one
// derivation, so a cancel (PrintCancelled and PrintFailed on the wire) is one print-failed.
import { isObject } from '../values';
import { OctoEverywhereError } from '../errors';
import { parseJobStatus } from '../status';
import { WebSocketSession } from './printer-socket';
import type { PrintKey, SessionContext } from './session';

/** The command API's Features of an OctoPrint printer (docs/octoeverywhere.md §7). */
const OCTOPRINT_FEATURES = 32;

/** Without an OctoPrint API key there is no passive login, so no status on the socket. */
export function octoPrintUnsupported(ctx: SessionContext): { code: string; reason: string } | undefined {
  if (ctx.connection.relayAuthHeaders()['X-Api-Key']) return undefined;
  return {
    code: 'OE_LIVE_NEEDS_API_KEY',
    reason: "OctoPrint's push socket needs the OctoPrint API key (the App Connection's octoPrintApiKey); without it the status is polled.",
  };
}

export class OctoPrintSession extends WebSocketSession {
  private login: { name: string; session: string } | undefined;
  private version: string | null = null;
  /** The file whose PrintDone was seen (until the next PrintStarted). */
  private doneFile: string | null = null;
  /** A `current` or `history` has arrived on this socket. */
  private statusSeen = false;

  constructor(ctx: SessionContext) {
    super(ctx, '/sockjs/websocket');
  }

  protected override async beforeOpen(): Promise<void> {
    this.login = await this.passiveLogin();
  }

  protected onOpen(): void {
    this.subscribeAndAuthenticate();
  }

  protected keepalive(): void {
    // No status yet: the subscription or the auth was lost on the way (a socket opened while the path
    // was stalled), so send them again. Otherwise what OctoPod sends: OctoPrint ignores an empty
    // object, and it crosses every hop as a text frame.
    if (!this.statusSeen) this.subscribeAndAuthenticate();
    else this.send({});
  }

  private subscribeAndAuthenticate(): void {
    // Subscribe before auth (OctoPrint ≥ 1.8); older versions ignore it and send everything.
    this.send({ subscribe: { state: { logs: false, messages: false }, events: true, plugins: false } });
    this.authenticate();
  }

  protected onMessage(message: unknown): void {
    if (!isObject(message)) return;
    if (isObject(message.connected) && typeof message.connected.version === 'string') this.version = message.connected.version;
    if (isObject(message.reauthRequired)) {
      this.passiveLogin().then(
        (login) => {
          this.login = login;
          this.authenticate();
        },
        () => this.close(),
      );
      return;
    }
    if (isObject(message.event)) {
      const { type, payload } = message.event;
      const p = isObject(payload) ? payload : {};
      if (type === 'PrintStarted') this.doneFile = null;
      if (type === 'PrintDone') this.doneFile = typeof p.path === 'string' ? p.path : typeof p.name === 'string' ? p.name : '';
      return;
    }
    const current = isObject(message.current) ? message.current : isObject(message.history) ? message.history : undefined;
    if (!current) return;
    this.statusSeen = true;
    const { job, print } = octoPrintStatus(current, { doneFile: this.doneFile, version: this.version, nowMs: this.ctx.clock.now() });
    this.sink?.status(job, print);
  }

  private authenticate(): void {
    if (this.login) this.send({ auth: `${this.login.name}:${this.login.session}` });
  }

  private async passiveLogin(): Promise<{ name: string; session: string }> {
    const res = await this.ctx.connection.request<unknown>({
      method: 'POST',
      path: '/api/login',
      body: { passive: true },
      responseType: 'json',
      via: this.ctx.preferLocal ? 'auto' : 'relay',
    });
    const body = isObject(res.body) ? res.body : {};
    if (res.statusCode !== 200 || typeof body.name !== 'string' || typeof body.session !== 'string') {
      const kind = res.statusCode >= 500 ? 'temporary' : 'permanent';
      throw new OctoEverywhereError('OE_OCTOPRINT_LOGIN', `OctoPrint refused the passive login (HTTP ${res.statusCode}); check the OctoPrint API key.`, {
        status: res.statusCode,
        kind,
      });
    }
    return { name: body.name, session: body.session };
  }
}

/** One `current` (or `history`) message as the command API's status would describe it. */
export function octoPrintStatus(
  current: Record<string, unknown>,
  known: { doneFile: string | null; version: string | null; nowMs: number },
): { job: ReturnType<typeof parseJobStatus>; print: PrintKey | null } {
  const state = isObject(current.state) ? current.state : {};
  const flags = isObject(state.flags) ? state.flags : {};
  const jobInfo = isObject(current.job) ? current.job : {};
  const file = isObject(jobInfo.file) ? jobInfo.file : {};
  const progress = isObject(current.progress) ? current.progress : {};
  const path = typeof file.path === 'string' && file.path !== '' ? file.path : null;
  const name = typeof file.name === 'string' && file.name !== '' ? file.name : path;
  const completion = typeof progress.completion === 'number' ? progress.completion : null;
  const printTime = typeof progress.printTime === 'number' ? progress.printTime : null;
  const jobState =
    flags.error === true || flags.closedOrError === true
      ? 'error'
      : flags.paused === true || flags.pausing === true
        ? 'paused'
        : flags.resuming === true
          ? 'resuming'
          : flags.printing === true || flags.cancelling === true || flags.finishing === true
            ? 'printing'
            : name !== null && (completion === 100 || (known.doneFile !== null && (known.doneFile === '' || known.doneFile === path)))
              ? 'complete'
              : 'idle';
  const temps = Array.isArray(current.temps) ? current.temps.filter(isObject) : [];
  const last = temps[temps.length - 1] ?? {};
  const tool = isObject(last.tool0) ? last.tool0 : {};
  const bed = isObject(last.bed) ? last.bed : {};
  const showJob = jobState !== 'idle' && name !== null;
  const error = typeof state.error === 'string' && state.error !== '' ? state.error : null;
  const job = parseJobStatus({
    JobStatus: {
      State: jobState,
      Error: jobState === 'error' ? (error ?? (typeof state.text === 'string' ? state.text : null)) : null,
      CurrentPrint: {
        ...(showJob
          ? {
              Progress: completion,
              DurationSec: printTime,
              TimeLeftSec: typeof progress.printTimeLeft === 'number' ? progress.printTimeLeft : -1,
              FileName: name,
            }
          : {}),
        Temps: { BedActual: bed.actual, BedTarget: bed.target, HotendActual: tool.actual, HotendTarget: tool.target },
      },
    },
    PlatformVersion: known.version,
    Features: OCTOPRINT_FEATURES,
  });
  return { job, print: showJob ? { fileName: path ?? name, startedAtMs: known.nowMs - (printTime ?? 0) * 1000 } : null };
}
