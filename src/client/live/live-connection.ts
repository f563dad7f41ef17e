// The supervisor of one printer's live socket: opens the platform's session, runs the heartbeat,
// reconnects with jittered back-off, stops with one error on the codes that need the user (603/604/606
// and other permanent refusals), and turns the session's statuses into the snapshots and print events
// the poller produces — the same derivation (derive.ts), so both give the same sequence by construction.
import { EventEmitter } from 'node:events';
import { type Clock, realClock } from '../clock';
import type { AppConnection, Route } from '../connection';
import { deriveEvents, type DeriveMemory, type DeriveOptions } from '../derive';
import { NetworkError, type OctoEverywhereError } from '../errors';
import type { PrinterEvent } from '../events';
import { type JobStatus, type PrinterSnapshot, sameSnapshot } from '../status';
import type { BackoffOptions } from './backoff';
import { BambuSession } from './bambu';
import { ElegooCc2Session } from './elegoo-cc2';
import { MoonrakerSession } from './moonraker';
import { octoPrintUnsupported, OctoPrintSession } from './octoprint';
import type { LocalRouteState } from './printer-socket';
import { type HostNotice, type LivePlatform, type LiveSession, type PrintKey, samePrint, type SessionContext } from './session';
import { type AttemptHandle, boundedHeartbeatMs, SocketSupervisor, type SupervisedAttempt } from './supervisor';

export { DEFAULT_HEARTBEAT_MS, MAX_HEARTBEAT_MS } from './supervisor';

export type LiveState =
  | { status: 'connecting'; attempt: number; retryInMs?: number; error?: OctoEverywhereError }
  | { status: 'connected'; via: Route }
  | { status: 'stopped'; error?: OctoEverywhereError }
  | { status: 'unsupported'; code: string; reason: string };

/** The shortest readings period honoured: Moonraker itself pushes every 250 ms. */
const MIN_READINGS_MS = 1_000;

function readingsPeriod(ms: number | undefined): number | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : Math.max(MIN_READINGS_MS, ms);
}

export interface LiveConnectionOptions {
  connection: AppConnection;
  platform: LivePlatform;
  /** Timers of the heartbeat and the back-off; default the real clock. */
  clock?: Clock;
  /** Bambu Lab and Elegoo CC2: the printer's serial number, from the config node (no API returns it). */
  serialNumber?: string;
  /** For the snapshots' printerName (the config node's name). */
  printerName?: string | null;
  /** Ping period (ms); a socket silent for two periods is replaced. Default 15 s, 1–30 s. */
  heartbeatMs?: number;
  backoff?: BackoffOptions;
  /** Injectable for seeded tests of the reconnect spread. */
  random?: () => number;
  derive?: DeriveOptions;
  /** How the socket names itself to the printer. Default `node-red-octoeverywhere`. */
  clientName?: string;
  /** `auto` (default): the LAN URL first while it answers (WebSocket platforms), else the relay. */
  via?: 'auto' | 'relay';
  /**
   * Readings (temperatures, progress, durations) asked for this often rather than pushed at every
   * change, where the platform lets a client choose (Moonraker: its state is still pushed, and each
   * state change comes with readings of that moment); undefined (default): as the printer pushes them.
   * A print farm's CPU and the relay's traffic are mostly these pushes. See setReadingsMs.
   */
  readingsMs?: number;
  /** Another session for the platform (a printer kind of its own, or a scripted one in tests). */
  createSession?: (ctx: SessionContext) => LiveSession;
}

export interface LiveConnectionEvents {
  state: [LiveState];
  snapshot: [PrinterSnapshot];
  event: [PrinterEvent];
  host: [HostNotice];
}

/**
 * One printer's live status. Events: `state` (LiveState), `snapshot` (PrinterSnapshot, only when it
 * changed), `event` (PrinterEvent with source `live`), `host` (Klipper ready/shutdown/disconnected).
 */
export class LiveConnection extends EventEmitter<LiveConnectionEvents> {
  readonly platform: LivePlatform;
  private readonly clock: Clock;
  private readonly heartbeatMs: number;
  private readonly local: LocalRouteState = { downUntilMs: 0 };
  private readonly memo: Record<string, number> = {};
  private readonly supervisor: SocketSupervisor<SupervisedAttempt>;
  private current: LiveState = { status: 'stopped' };
  private memory: DeriveMemory | undefined;
  private latestSnapshot: PrinterSnapshot | undefined;
  /** The print whose print-started was announced (or that was already running when we joined). */
  private startedPrint: PrintKey | null = null;
  /** The print of the latest status while nobody listened to the events. */
  private latestPrint: PrintKey | null = null;
  private readings: number | undefined;
  /** The session of the current attempt, to tell it when the readings period changes. */
  private session: LiveSession | undefined;

  constructor(private readonly options: LiveConnectionOptions) {
    super();
    this.platform = options.platform;
    this.clock = options.clock ?? realClock;
    this.heartbeatMs = boundedHeartbeatMs(options.heartbeatMs);
    this.readings = readingsPeriod(options.readingsMs);
    this.supervisor = new SocketSupervisor((handle) => this.attempt(handle), {
      clock: this.clock,
      heartbeatMs: this.heartbeatMs,
      backoff: options.backoff,
      random: options.random,
    });
    this.supervisor.on('state', (state) => this.setState(state));
    // The first event listener: what is true now is its baseline (as if derived all along, nothing replayed).
    (this as EventEmitter).on('newListener', (name: string | symbol) => {
      const latest = this.latestSnapshot;
      if (name !== 'event' || this.listenerCount('event') > 0 || !latest || latest.state === 'unknown') return;
      this.memory = deriveEvents(undefined, latest, this.options.derive).memory;
      if (latest.printing) this.startedPrint = this.latestPrint;
    });
  }

  get state(): LiveState {
    return this.current;
  }

  get latest(): PrinterSnapshot | undefined {
    return this.latestSnapshot;
  }

  /** Timers held now (heartbeat, retry): lets tests check nothing is left behind. */
  get pendingTimers(): number {
    return this.supervisor.pendingTimers;
  }

  /** Starts (again, after a stop: a redeploy gives a stopped connection one fresh try). */
  start(): void {
    if (this.supervisor.isRunning) return;
    const unsupported = this.unsupported();
    if (unsupported) {
      this.setState({ status: 'unsupported', ...unsupported });
      return;
    }
    this.supervisor.start();
  }

  /** Changes LiveConnectionOptions.readingsMs on the running connection (its session subscribes again). */
  setReadingsMs(ms: number | undefined): void {
    const next = readingsPeriod(ms);
    if (next === this.readings) return;
    this.readings = next;
    this.session?.readingsChanged?.();
  }

  /** Closes the socket cleanly and releases every timer; no further events. */
  stop(): void {
    this.supervisor.stop(true);
    if (this.current.status !== 'stopped' && this.current.status !== 'unsupported') this.setState({ status: 'stopped' });
  }

  private unsupported(): { code: string; reason: string } | undefined {
    const { platform, serialNumber } = this.options;
    if ((platform === 'bambu' || platform === 'elegoo-cc2') && !serialNumber?.trim()) {
      return {
        code: 'OE_LIVE_NEEDS_SERIAL',
        reason: "The printer's serial number is needed for its MQTT topics (no OctoEverywhere API returns it); enter it in the config node.",
      };
    }
    return platform === 'octoprint' ? octoPrintUnsupported(this.context()) : undefined;
  }

  private context(): SessionContext & { local: LocalRouteState } {
    return {
      connection: this.options.connection,
      clock: this.clock,
      serialNumber: this.options.serialNumber?.trim(),
      clientName: this.options.clientName ?? 'node-red-octoeverywhere',
      preferLocal: this.options.via !== 'relay',
      heartbeatMs: this.heartbeatMs,
      memo: this.memo,
      local: this.local,
      readingsMs: () => this.readings,
    };
  }

  private createSession(): LiveSession {
    const ctx = this.context();
    if (this.options.createSession) return this.options.createSession(ctx);
    switch (this.platform) {
      case 'moonraker':
        return new MoonrakerSession(ctx);
      case 'octoprint':
        return new OctoPrintSession(ctx);
      case 'bambu':
        return new BambuSession(ctx, ctx.serialNumber ?? '');
      case 'elegoo-cc2':
        return new ElegooCc2Session(ctx, ctx.serialNumber ?? '');
    }
  }

  /** One attempt for the supervisor: the platform's session, its reports counted while it is current. */
  private attempt(handle: AttemptHandle): SupervisedAttempt {
    const session = this.createSession();
    this.session = session;
    return {
      open: () =>
        session.open({
          status: (job, print) => {
            if (!handle.current) return;
            // A session that delivers whole statuses is healthy: the next drop starts the back-off afresh.
            handle.healthy();
            this.status(job, print);
          },
          alive: () => undefined,
          host: (notice) => {
            if (handle.current) this.emit('host', notice);
          },
          closed: (error) => handle.ended(error ?? new NetworkError('OE_SOCKET_CLOSED', 'The printer socket closed; reconnecting.', { kind: 'temporary' })),
          unsupported: (reason, code) => {
            if (!handle.current) return;
            this.supervisor.stop(true);
            this.setState({ status: 'unsupported', code, reason });
          },
        }),
      heartbeat: () => session.heartbeat(),
      close: (how) => {
        if (this.session === session) this.session = undefined;
        session.close(how);
      },
    };
  }

  private status(job: JobStatus, print: PrintKey | null): void {
    const snapshot: PrinterSnapshot = {
      ...job,
      online: true,
      printerName: this.options.printerName ?? null,
      gadget: null,
      limits: null,
      polledAt: this.clock.now(),
    };
    const changed = !this.latestSnapshot || !sameSnapshot(this.latestSnapshot, snapshot);
    this.latestSnapshot = snapshot;
    // Moonraker pushes every few hundred ms, mostly what leaves the snapshot as it was: an unchanged
    // snapshot derives nothing (the derivation looks at nothing polledAt aside), so it is not derived again.
    if (!changed) return;
    this.emit('snapshot', snapshot);
    // A state the mapping does not know says nothing about the print: like an offline poll, it is not derived from.
    if (job.state === 'unknown') return;
    // Nobody listens to the events (the status nodes derive their own, each from its own baseline): no
    // derivation; a listener that comes later starts from the status of then (see the constructor).
    if (this.listenerCount('event') === 0) {
      this.memory = undefined;
      this.latestPrint = print;
      return;
    }
    const first = this.memory === undefined;
    const { memory, events } = deriveEvents(this.memory, snapshot, this.options.derive);
    this.memory = memory;
    if (first && snapshot.printing) this.startedPrint = print;
    for (const event of events) {
      if (event.event === 'print-started') {
        // Keyed by the print: a socket that rejoins a running print never announces it again.
        if (print && samePrint(print, this.startedPrint)) continue;
        this.startedPrint = print;
      }
      this.emit('event', { ...event, source: 'live' });
    }
  }

  private setState(state: LiveState): void {
    this.current = state;
    this.emit('state', state);
  }
}
