// The one status poller per App Connection config node (owned by its PrinterConnection, closed with
// it): every status-poll node on that printer subscribes to it, so their polls are shared rather than repeated. It polls the command API status,
// the Info API (App Connections only) and, under the Gadget rules (client/gadget-rules.ts), the Gadget
// status; backs off on temporary errors and stops on permanent ones. Time comes from a Clock so tests
// drive it by hand.
import {
  type Clock,
  type ClockTimer,
  type ConnectionInfo,
  GadgetPollRules,
  type GadgetStatus,
  type OctoEverywhereClient,
  OctoEverywhereError,
  offlineJobStatus,
  parseJobStatus,
  type PrinterSnapshot,
} from '../../client';
import { backoffDelay } from '../../client/backoff';
import { asOctoEverywhereError, stops } from './failure';

/** No poll of one connection closer than this, whoever asks. */
export const MIN_INTERVAL_MS = 10_000;
export const DEFAULT_INTERVAL_MS = 30_000;
/** Temporary failures retry after 30 s, doubling up to 10 min. */
export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_MAX_MS = 10 * 60_000;
/** Printer name and limits change rarely: the Info API is asked on the first poll and then this often. */
export const INFO_INTERVAL_MS = 5 * 60_000;

export interface PollSubscriber {
  /** How often this subscriber wants a poll; the poller uses the smallest, never below MIN_INTERVAL_MS. */
  readonly intervalMs: number;
  /** Every completed poll (and, on 601, an offline snapshot). */
  snapshot(snapshot: PrinterSnapshot): void;
  /** A failed poll: `retryInMs` for temporary errors, `stopped` for permanent ones (no more polls). */
  failed(error: OctoEverywhereError, outcome: { stopped: boolean; retryInMs?: number }): void;
}

export interface StatusPollerOptions {
  clock: Clock;
  /** App API access (an App Connection): Info and Gadget are polled only then. */
  hasAppApi: boolean;
  /** The config node's printer name, until the Info API says otherwise. */
  printerName?: string | null;
  /** The catalog's words for OE_CLOSED (the config node's). */
  closedMessage: string;
}

export function backoffMs(failures: number): number {
  return backoffDelay({ baseMs: BACKOFF_BASE_MS, maxMs: BACKOFF_MAX_MS }, failures);
}

export class StatusPoller {
  private readonly clock: Clock;
  private readonly subscribers = new Set<PollSubscriber>();
  private readonly gadgetRules = new GadgetPollRules();
  private timer: ClockTimer | undefined;
  private running: Promise<PrinterSnapshot> | undefined;
  private latest: PrinterSnapshot | undefined;
  private lastAttemptMs: number | undefined;
  private failures = 0;
  private lastError: OctoEverywhereError | undefined;
  private stoppedBy: OctoEverywhereError | undefined;
  private info: ConnectionInfo | undefined;
  private infoAtMs: number | undefined;
  /** The Gadget verdict of the current print, kept between Gadget calls. */
  private gadget: { status: GadgetStatus; printId: string | null } | undefined;
  private closed = false;
  /** Cancels the poll in flight when the poller closes. */
  private readonly abort = new AbortController();

  constructor(
    private readonly client: () => OctoEverywhereClient,
    private readonly options: StatusPollerOptions,
  ) {
    this.clock = options.clock;
  }

  /** Timers this poller holds (0 or 1): lets tests check that nothing is left behind. */
  get pendingTimers(): number {
    return this.timer === undefined ? 0 : 1;
  }

  /** The last Info API answer (App Connections only): the printer's OctoEverywhere page and limits. */
  get connectionInfo(): ConnectionInfo | undefined {
    return this.info;
  }

  get stopped(): boolean {
    return this.stoppedBy !== undefined;
  }

  get intervalMs(): number {
    let interval = Infinity;
    for (const s of this.subscribers) interval = Math.min(interval, s.intervalMs);
    return Math.max(MIN_INTERVAL_MS, Number.isFinite(interval) ? interval : DEFAULT_INTERVAL_MS);
  }

  /**
   * Starts delivering polls to `subscriber` (the latest snapshot at once, if there is one). A new
   * subscriber to a poller stopped by a permanent error (a redeployed node) gets one fresh try.
   * Returns the unsubscribe function.
   */
  subscribe(subscriber: PollSubscriber): () => void {
    if (this.closed) throw this.closedError();
    this.subscribers.add(subscriber);
    if (this.stoppedBy) {
      this.stoppedBy = undefined;
      this.failures = 0;
      this.lastError = undefined;
      this.lastAttemptMs = undefined;
    }
    if (this.latest) subscriber.snapshot(this.latest);
    if (this.lastError) subscriber.failed(this.lastError, { stopped: false, retryInMs: this.untilNextPoll() });
    // start() handles the poll's outcome itself (succeeded/failed); its promise is for pollNow().
    if (!this.latest && !this.running) void this.start();
    else this.schedule();
    return () => {
      this.subscribers.delete(subscriber);
      this.schedule();
    };
  }

  /**
   * A poll now, within the rules: joins a poll in flight, and within MIN_INTERVAL_MS of the last one
   * answers with its result instead of asking the service again.
   */
  pollNow(): Promise<PrinterSnapshot> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.stoppedBy) return Promise.reject(this.stoppedBy);
    if (this.running) return this.running;
    if (this.lastAttemptMs !== undefined && this.clock.now() - this.lastAttemptMs < MIN_INTERVAL_MS) {
      if (this.lastError) return Promise.reject(this.lastError);
      if (this.latest) return Promise.resolve(this.latest);
    }
    return this.start();
  }

  /** Resolves once no poll is in flight (whatever its outcome): lets tests step time deterministically. */
  async settled(): Promise<void> {
    while (this.running) await this.running.then(noop, noop);
  }

  /** Stops for good: no timer, no further deliveries, the request in flight cancelled. */
  close(): void {
    this.closed = true;
    this.abort.abort();
    this.subscribers.clear();
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private start(): Promise<PrinterSnapshot> {
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
    const poll = this.poll();
    this.running = poll;
    // The outcome is handled here for everyone; callers of pollNow() may also await `poll`.
    poll.then(
      (snapshot) => this.succeeded(snapshot),
      (err: unknown) => this.failed(asOctoEverywhereError(err)),
    );
    return poll;
  }

  private async poll(): Promise<PrinterSnapshot> {
    const now = this.clock.now();
    this.lastAttemptMs = now;
    const client = this.client();
    const call = { signal: this.abort.signal };
    const job = parseJobStatus(await client.commands.status(call));
    if (this.options.hasAppApi && (this.infoAtMs === undefined || now - this.infoAtMs >= INFO_INTERVAL_MS)) {
      this.infoAtMs = now;
      this.info = (await optional(() => client.app.info(call))) ?? this.info;
    }
    // A Gadget verdict belongs to one print.
    if (!job.printing || (this.gadget && this.gadget.printId !== job.printId)) this.gadget = undefined;
    if (this.options.hasAppApi && this.gadgetRules.due(now, job)) {
      this.gadgetRules.attempted(now);
      const status = await optional(() => client.app.gadgetStatus(call));
      if (status) {
        this.gadgetRules.answered(status, job);
        this.gadget = { status, printId: job.printId };
      }
    }
    return {
      ...job,
      online: true,
      printerName: this.printerName(),
      gadget: this.gadget?.status ?? null,
      limits: this.info?.limits ?? null,
      polledAt: this.clock.now(),
    };
  }

  private succeeded(snapshot: PrinterSnapshot): void {
    this.running = undefined;
    if (this.closed) return;
    this.failures = 0;
    this.lastError = undefined;
    this.latest = snapshot;
    for (const s of [...this.subscribers]) s.snapshot(snapshot);
    this.schedule();
  }

  private failed(error: OctoEverywhereError): void {
    this.running = undefined;
    if (this.closed) return;
    if (stops(error)) {
      this.stoppedBy = error;
      this.schedule();
      for (const s of [...this.subscribers]) s.failed(error, { stopped: true });
      return;
    }
    this.failures++;
    this.lastError = error;
    if (error.behaviour === 'offline') {
      // Unreachable printer: say so on the status output, keeping nothing stale about its job.
      this.latest = {
        ...offlineJobStatus(),
        online: false,
        printerName: this.printerName(),
        gadget: null,
        limits: this.info?.limits ?? null,
        polledAt: this.clock.now(),
      };
      this.gadget = undefined;
      for (const s of [...this.subscribers]) s.snapshot(this.latest);
    }
    this.schedule();
    const retryInMs = this.untilNextPoll();
    for (const s of [...this.subscribers]) s.failed(error, { stopped: false, retryInMs });
  }

  private closedError(): OctoEverywhereError {
    return new OctoEverywhereError('OE_CLOSED', this.options.closedMessage);
  }

  private printerName(): string | null {
    return this.info?.printerName || this.options.printerName || null;
  }

  /** The one timer: the next poll at the interval (or the back-off), counted from the last attempt. */
  private schedule(): void {
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (this.closed || this.stoppedBy || this.running || this.subscribers.size === 0) return;
    const delay = Math.max(0, this.untilNextPoll());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.start();
    }, delay);
  }

  private untilNextPoll(): number {
    const wait = this.lastError ? backoffMs(this.failures) : this.intervalMs;
    return this.lastAttemptMs === undefined ? 0 : this.lastAttemptMs + wait - this.clock.now();
  }
}

function noop(): void {}

/**
 * Info and Gadget add to the status; a temporary failure of theirs (e.g. 611, no Gadget beta access)
 * must not hold the status back, so it keeps the last known values and the rules' timing retries it.
 * A permanent one means the connection itself is gone, so it fails the poll.
 */
async function optional<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    const error = asOctoEverywhereError(err);
    if (stops(error)) throw error;
    return undefined;
  }
}
