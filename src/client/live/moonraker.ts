// Moonraker's JSON-RPC socket (docs/octoeverywhere.md §9.2): identify, wait for Klipper, subscribe to what an
// automation needs, merge the partial notify_status_update into the subscribed state, subscribe again
// on notify_klippy_ready, and say when Klipper shuts down or disconnects.
import type { ClockTimer } from '../clock';
import { isObject } from '../values';
import { parseJobStatus } from '../status';
import { WebSocketSession } from './printer-socket';
import type { PrintKey, SessionContext } from './session';

type ObjectStatus = Record<string, Record<string, unknown>>;

/** What a status snapshot needs, and nothing more (a subscription of everything floods the relay). */
export const MOONRAKER_OBJECTS: Readonly<Record<string, string[] | null>> = {
  print_stats: null,
  virtual_sdcard: ['progress', 'is_active'],
  display_status: ['progress'],
  extruder: ['temperature', 'target'],
  heater_bed: ['temperature', 'target'],
  'temperature_sensor chamber': ['temperature'],
  webhooks: ['state', 'state_message'],
};
/**
 * The readings in MOONRAKER_OBJECTS: attributes that change while the printer just carries on (the
 * durations tick, progress creeps, temperatures wander), so Klipper pushes them four times a second.
 * With a readings period (SessionContext.readingsMs) they are asked for on that period instead.
 */
export const MOONRAKER_READINGS: Readonly<Record<string, string[]>> = {
  print_stats: ['print_duration', 'total_duration'],
  virtual_sdcard: ['progress'],
  display_status: ['progress'],
  extruder: ['temperature'],
  heater_bed: ['temperature'],
  'temperature_sensor chamber': ['temperature'],
};
/** MOONRAKER_OBJECTS without the readings: pushed only when the printer's state changes. */
export const MOONRAKER_STATE_OBJECTS: Readonly<Record<string, string[]>> = {
  print_stats: ['state', 'filename', 'message', 'info'],
  virtual_sdcard: ['is_active'],
  extruder: ['target'],
  heater_bed: ['target'],
  webhooks: ['state', 'state_message'],
};
/** Klipper still starting: ask again this often (Moonraker's own advice). */
const STARTUP_RETRY_MS = 2_000;
/** The command API's Features of a Moonraker printer (docs/octoeverywhere.md §7): the socket cannot ask for them. */
const MOONRAKER_FEATURES = 63;

const STATES: Record<string, string> = {
  standby: 'idle',
  printing: 'printing',
  paused: 'paused',
  complete: 'complete',
  cancelled: 'cancelled',
  error: 'error',
};

export class MoonrakerSession extends WebSocketSession {
  private nextId = 1;
  /** Answers awaited: the result, or undefined after a JSON-RPC error. */
  private pending = new Map<number, (result: unknown, failed: boolean) => void>();
  private state: ObjectStatus | undefined;
  private retry: ClockTimer | undefined;
  /** With a readings period: the next readings query, and whether one is out. */
  private readingsTimer: ClockTimer | undefined;
  private reading = false;

  constructor(ctx: SessionContext) {
    super(ctx, '/websocket');
  }

  protected onOpen(): void {
    this.call('server.connection.identify', {
      client_name: this.ctx.clientName,
      version: '1',
      type: 'other',
      url: 'https://github.com/node-red-contrib-octoeverywhere',
    });
    this.awaitKlippy();
  }

  protected keepalive(pingAnswered: boolean): void {
    // Not subscribed and no retry due: the opening calls (or their answers) were lost on the way, as
    // on a socket opened while the path was stalled. Ask again. Otherwise, where the edge lets pings go
    // unanswered, a plain round trip gives the next heartbeat something to hear; where pongs come, they
    // do that, and the printer is spared a call every heartbeat.
    if (!this.state && !this.retry) this.awaitKlippy();
    else if (!pingAnswered) this.call('server.info', {});
  }

  protected override onEnded(): void {
    this.ctx.clock.clearTimer(this.retry);
    this.retry = undefined;
    this.ctx.clock.clearTimer(this.readingsTimer);
    this.readingsTimer = undefined;
    this.pending.clear();
  }

  /** The readings period changed (another node, a redeploy): subscribe again the other way. */
  readingsChanged(): void {
    if (this.state && !this.retry) this.awaitKlippy();
  }

  protected onMessage(message: unknown): void {
    if (!isObject(message)) return;
    if (typeof message.id === 'number' && this.pending.has(message.id)) {
      const answer = this.pending.get(message.id);
      this.pending.delete(message.id);
      answer?.(message.result, 'error' in message);
      return;
    }
    switch (message.method) {
      case 'notify_status_update': {
        const params = Array.isArray(message.params) ? message.params : [];
        if (this.state && isObject(params[0])) {
          mergeStatus(this.state, params[0]);
          // Without the readings subscribed, a state change reports with readings of the same moment
          // (a print that starts reports its duration, so that it is not taken for still heating).
          if (this.readingsMs() === undefined) this.report();
          else this.readNow();
        }
        return;
      }
      case 'notify_klippy_ready':
        this.sink?.host('ready');
        this.awaitKlippy();
        return;
      case 'notify_klippy_shutdown':
        this.sink?.host('shutdown');
        return;
      case 'notify_klippy_disconnected':
        this.state = undefined;
        this.sink?.host('disconnected');
        return;
    }
  }

  /** server.info until Klipper is ready, then subscribe (again: a new subscribe replaces the old). */
  private awaitKlippy(): void {
    this.ctx.clock.clearTimer(this.retry);
    this.retry = undefined;
    this.call('server.info', {}, (result) => {
      const info = isObject(result) ? result : {};
      if (info.klippy_connected === true && info.klippy_state === 'ready') {
        const periodic = this.readingsMs() !== undefined;
        this.call('printer.objects.subscribe', { objects: periodic ? MOONRAKER_STATE_OBJECTS : MOONRAKER_OBJECTS }, (sub, failed) => {
          // Klipper went away between the two calls: wait for it again.
          if (failed) {
            this.retryLater();
            return;
          }
          // The period changed while the call was out: subscribe the other way.
          if (periodic !== (this.readingsMs() !== undefined)) {
            this.awaitKlippy();
            return;
          }
          const status = isObject(sub) && isObject(sub.status) ? sub.status : {};
          this.state = {};
          mergeStatus(this.state, status);
          this.ctx.clock.clearTimer(this.readingsTimer);
          this.readingsTimer = undefined;
          // The first report waits for the readings: a session reports only whole statuses.
          if (periodic) this.readNow();
          else this.report();
        });
        return;
      }
      this.sink?.host(info.klippy_state === 'startup' ? 'startup' : 'disconnected');
      this.retryLater();
    });
  }

  private retryLater(): void {
    this.ctx.clock.clearTimer(this.retry);
    this.retry = this.ctx.clock.setTimeout(() => this.awaitKlippy(), STARTUP_RETRY_MS);
  }

  private readingsMs(): number | undefined {
    return this.ctx.readingsMs?.();
  }

  /** Asks for the readings now (one query at a time), reports, and asks again a period later. */
  private readNow(): void {
    if (this.reading) return; // the answer on its way reports what has been merged meanwhile
    this.reading = true;
    this.ctx.clock.clearTimer(this.readingsTimer);
    this.readingsTimer = undefined;
    this.call('printer.objects.query', { objects: MOONRAKER_READINGS }, (result, failed) => {
      this.reading = false;
      if (!this.state) return; // Klipper went away meanwhile; the subscription is made again
      if (!failed && isObject(result) && isObject(result.status)) mergeStatus(this.state, result.status);
      this.report();
      const every = this.readingsMs();
      if (every !== undefined) this.readingsTimer = this.ctx.clock.setTimeout(() => this.readNow(), every);
    });
  }

  private report(): void {
    if (!this.state || !this.sink) return;
    const { job, print } = moonrakerStatus(this.state, this.ctx.clock.now());
    this.sink.status(job, print);
  }

  private call(method: string, params: Record<string, unknown>, answer?: (result: unknown, failed: boolean) => void): void {
    const id = this.nextId++;
    if (answer) this.pending.set(id, answer);
    this.send({ jsonrpc: '2.0', method, params, id });
  }
}

/** Merges a partial update into the subscribed state, object by object (only changed fields arrive). */
export function mergeStatus(into: ObjectStatus, update: Record<string, unknown>): void {
  for (const [name, attrs] of Object.entries(update)) {
    if (!isObject(attrs)) continue;
    into[name] = { ...(into[name] ?? {}), ...attrs };
  }
}

/** Moonraker's objects as the command API's status would describe them, parsed by the one normaliser. */
export function moonrakerStatus(s: ObjectStatus, nowMs: number): { job: ReturnType<typeof parseJobStatus>; print: PrintKey | null } {
  const stats = s.print_stats ?? {};
  const info = isObject(stats.info) ? stats.info : {};
  const raw = typeof stats.state === 'string' ? stats.state : '';
  const printDuration = numberOr(stats.print_duration, 0);
  const totalDuration = numberOr(stats.total_duration, 0);
  // Klipper "prints" while it heats; nothing has been printed yet then.
  const state = raw === 'printing' && printDuration === 0 ? 'warmingup' : (STATES[raw] ?? 'unknown');
  const fraction = numberOr(s.display_status?.progress, numberOr(s.virtual_sdcard?.progress, 0));
  const fileName = typeof stats.filename === 'string' && stats.filename !== '' ? stats.filename : null;
  const active = fileName !== null && state !== 'idle';
  const timeLeft = active && fraction > 0 && fraction < 1 ? Math.round((printDuration / fraction) * (1 - fraction)) : active && fraction >= 1 ? 0 : -1;
  const job = parseJobStatus({
    JobStatus: {
      State: state,
      SubState: state === 'warmingup' ? 'Heating' : null,
      Error: state === 'error' && typeof stats.message === 'string' && stats.message !== '' ? stats.message : null,
      CurrentPrint: active
        ? {
            Progress: fraction * 100,
            DurationSec: totalDuration,
            TimeLeftSec: timeLeft,
            FileName: fileName,
            CurrentLayer: info.current_layer,
            TotalLayers: info.total_layer,
            Temps: temps(s),
          }
        : null,
    },
    Features: MOONRAKER_FEATURES,
  });
  if (!active) job.temperatures = parseJobStatus({ JobStatus: { CurrentPrint: { Temps: temps(s) } } }).temperatures;
  return { job, print: active ? { fileName, startedAtMs: nowMs - totalDuration * 1000 } : null };
}

function temps(s: ObjectStatus): Record<string, unknown> {
  const chamber = s['temperature_sensor chamber'];
  return {
    BedActual: s.heater_bed?.temperature,
    BedTarget: s.heater_bed?.target,
    HotendActual: s.extruder?.temperature,
    HotendTarget: s.extruder?.target,
    ChamberActual: chamber?.temperature,
    ChamberTarget: null,
  };
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
