// The supervision every long-lived printer socket shares (the live status connection, the raw printer
// socket): one attempt at a time, a heartbeat that replaces a silent socket, reconnects with the
// jittered back-off, and one stop with the error on the codes that need the user (603/604/606, other
// permanent refusals). What an attempt says on the socket is its owner's business.
import { EventEmitter } from 'node:events';
import type { Clock, ClockTimer } from '../clock';
import { NetworkError, OctoEverywhereError } from '../errors';
import type { Route } from '../route-chooser';
import { type BackoffOptions, reconnectDelayMs } from './backoff';
import { type ConnectPacer, pacerFor } from './pacer';

export const DEFAULT_HEARTBEAT_MS = 15_000;
/** The Elegoo CC2 forgets a client silent for 65 s, and the MQTT keepalive follows the heartbeat. */
export const MAX_HEARTBEAT_MS = 30_000;
export const MIN_HEARTBEAT_MS = 1_000;

/** The heartbeat period asked for, bounded to 1–30 s (default 15 s when not a number). */
export function boundedHeartbeatMs(ms: number | undefined): number {
  const hb = ms ?? DEFAULT_HEARTBEAT_MS;
  return Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, Number.isFinite(hb) ? hb : DEFAULT_HEARTBEAT_MS));
}

export type SupervisedState =
  | { status: 'connecting'; attempt: number; retryInMs?: number; error?: OctoEverywhereError }
  | { status: 'connected'; via: Route }
  | { status: 'stopped'; error?: OctoEverywhereError };

/** One socket, for one attempt; the supervisor makes a new one to reconnect. */
export interface SupervisedAttempt {
  /** Resolves once the socket is open; rejects with an OctoEverywhereError if it cannot open. */
  open(): Promise<{ via: Route }>;
  /** Called every heartbeat period: send the keepalives. False when nothing arrived since the last call (dead). */
  heartbeat(): boolean;
  /** Ends the socket (the attempt reports nothing afterwards): cleanly, or at once when the path is dead. */
  close(how?: 'clean' | 'dead'): void;
}

/** What an attempt may tell its supervisor. */
export interface AttemptHandle {
  /** Whether this attempt is still the supervisor's (its reports count). */
  readonly current: boolean;
  /** The socket ended by itself (not our close): reconnect, or stop on a code that needs the user. At most once counts. */
  ended(error: OctoEverywhereError): void;
  /** The socket proved itself (whole statuses, a heartbeat answered): the next drop starts the back-off afresh. */
  healthy(): void;
}

export interface SupervisorOptions {
  clock: Clock;
  /** Already bounded (boundedHeartbeatMs). */
  heartbeatMs: number;
  backoff?: BackoffOptions;
  /** Injectable for seeded tests of the reconnect spread. */
  random?: () => number;
  /** Paces the openings of every socket on the clock (default: the process's pacer for `clock`). */
  pacer?: ConnectPacer;
}

export interface SupervisorEvents {
  state: [SupervisedState];
}

export class SocketSupervisor<A extends SupervisedAttempt> extends EventEmitter<SupervisorEvents> {
  private attempt: A | undefined;
  private heartbeatTimer: ClockTimer | undefined;
  private retryTimer: ClockTimer | undefined;
  /** Cancels an opening that waits for the pacer. */
  private cancelAdmission: (() => void) | undefined;
  private failures = 0;
  private running = false;
  private current: SupervisedState = { status: 'stopped' };

  constructor(
    private readonly make: (handle: AttemptHandle) => A,
    private readonly options: SupervisorOptions,
  ) {
    super();
  }

  get state(): SupervisedState {
    return this.current;
  }

  /** The attempt of now, open or opening (undefined between attempts and when stopped). */
  get active(): A | undefined {
    return this.attempt;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Timers held now (heartbeat, retry): lets tests check nothing is left behind. */
  get pendingTimers(): number {
    return (this.heartbeatTimer ? 1 : 0) + (this.retryTimer ? 1 : 0) + (this.cancelAdmission ? 1 : 0);
  }

  /** Starts (again, after a stop: a redeploy gives a stopped socket one fresh try). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.admit();
  }

  /**
   * Closes the socket cleanly and releases every timer. `quiet`: no `stopped` state (the owner says
   * something else, e.g. that the platform is unsupported).
   */
  stop(quiet = false): void {
    this.running = false;
    this.clearTimers();
    const attempt = this.attempt;
    this.attempt = undefined;
    attempt?.close();
    if (!quiet && this.current.status !== 'stopped') this.setState({ status: 'stopped' });
  }

  /** Opens when the pacer lets it (at once unless many sockets of this process are opening right now). */
  private admit(): void {
    const pacer = this.options.pacer ?? pacerFor(this.options.clock);
    let admitted = false;
    const cancel = pacer.admit(() => {
      admitted = true;
      this.cancelAdmission = undefined;
      this.connect();
    });
    if (admitted) return;
    this.cancelAdmission = cancel;
    if (this.current.status !== 'connecting') this.setState({ status: 'connecting', attempt: this.failures + 1 });
  }

  private connect(): void {
    if (!this.running) return;
    this.setState({ status: 'connecting', attempt: this.failures + 1 });
    let ended = false;
    // The handle refers to the attempt made with it; `made` is set before any report can come (they are asynchronous).
    let made: A | undefined;
    const isCurrent = (): boolean => made !== undefined && this.attempt === made;
    const handle: AttemptHandle = {
      get current() {
        return isCurrent();
      },
      ended: (error) => {
        if (ended || !handle.current) return;
        ended = true;
        this.attempt = undefined;
        this.failed(error);
      },
      healthy: () => {
        if (handle.current) this.failures = 0;
      },
    };
    try {
      made = this.make(handle);
    } catch (err) {
      this.failed(asError(err));
      return;
    }
    const attempt = made;
    this.attempt = attempt;
    attempt.open().then(
      ({ via }) => {
        if (!handle.current || ended) return;
        this.setState({ status: 'connected', via });
        this.armHeartbeat(attempt);
      },
      (err: unknown) => handle.ended(asError(err)),
    );
  }

  private armHeartbeat(attempt: A): void {
    this.options.clock.clearTimer(this.heartbeatTimer);
    this.heartbeatTimer = this.options.clock.setTimeout(() => {
      this.heartbeatTimer = undefined;
      if (this.attempt !== attempt) return;
      if (attempt.heartbeat()) {
        this.armHeartbeat(attempt);
        return;
      }
      // Nothing arrived for a whole period after a ping: the path is dead even if TCP says otherwise.
      this.attempt = undefined;
      attempt.close('dead');
      this.failed(
        new NetworkError(
          'OE_SOCKET_STALLED',
          `The printer socket went silent (no answer for ${Math.round((2 * this.options.heartbeatMs) / 1000)} s); reconnecting.`,
          { kind: 'temporary' },
        ),
      );
    }, this.options.heartbeatMs);
  }

  private failed(error: OctoEverywhereError): void {
    this.clearTimers();
    if (!this.running) return;
    if (error.behaviour === 'reconnect' || error.kind === 'permanent') {
      // One error, and no more attempts: the user must act (reconnect through the portal, fix a key).
      this.running = false;
      this.setState({ status: 'stopped', error });
      return;
    }
    const retryInMs = reconnectDelayMs(this.failures, this.options.random, this.options.backoff);
    this.failures++;
    this.setState({ status: 'connecting', attempt: this.failures + 1, retryInMs, error });
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.admit();
    }, retryInMs);
  }

  private setState(state: SupervisedState): void {
    this.current = state;
    this.emit('state', state);
  }

  private clearTimers(): void {
    this.options.clock.clearTimer(this.heartbeatTimer);
    this.options.clock.clearTimer(this.retryTimer);
    this.heartbeatTimer = undefined;
    this.retryTimer = undefined;
    this.cancelAdmission?.();
    this.cancelAdmission = undefined;
  }
}

function asError(err: unknown): OctoEverywhereError {
  if (err instanceof OctoEverywhereError) return err;
  return new NetworkError('OE_NETWORK', 'The printer socket failed.', { kind: 'temporary' });
}
