// The simulator's one time source. 'manual' time moves only when a test calls advance(), so
// hour-long prints run in milliseconds with no sleeps; 'real' time follows the wall clock sped up
// by timeScale, so a demo printer finishes a two-hour print in two minutes at timeScale 60.
import type { SimClock, SimTimer } from './contract';

export interface ClockOptions {
  mode: 'real' | 'manual';
  /** Simulated milliseconds per real millisecond ('real' mode only). Default 1. */
  timeScale?: number;
  /** Simulated epoch milliseconds at creation. Default: the wall clock. */
  startMs?: number;
}

/** A SimClock that owns its timers: dispose() cancels them all. */
export interface ManagedClock extends SimClock {
  readonly mode: 'real' | 'manual';
  /** Simulated ms per real ms (1 for a manual clock); lets consumers pace real-world things. */
  readonly timeScale: number;
  /** Timers waiting to fire (lets tests check that everything was cleaned up). */
  readonly pendingTimers: number;
  dispose(): void;
}

interface Entry extends SimTimer {
  due: number;
  /** Insertion order breaks ties between timers due at the same moment. */
  seq: number;
  fn: () => void;
  /** Repeat period for intervals; undefined for one-shot timers. */
  period?: number;
}

/** Lets settled promises and pending I/O callbacks run, so a fired timer's effects are visible. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createClock(options: ClockOptions): ManagedClock {
  const timeScale = options.mode === 'real' ? (options.timeScale ?? 1) : 1;
  if (!(timeScale > 0)) throw new RangeError(`timeScale must be positive, got ${timeScale}`);
  const realStart = Date.now();
  const simStart = options.startMs ?? realStart;
  /** Manual: the current time. Real: time added by advance() on top of the scaled wall clock. */
  let manualNow = simStart;
  let jumped = 0;
  let nextId = 1;
  let seq = 0;
  let disposed = false;
  const timers = new Map<number, Entry>();
  /** Real mode: the one wall-clock timer armed for the earliest due entry. */
  let pump: NodeJS.Timeout | undefined;

  const now = (): number => (options.mode === 'manual' ? manualNow : simStart + (Date.now() - realStart) * timeScale + jumped);

  const earliest = (): Entry | undefined => {
    let best: Entry | undefined;
    for (const t of timers.values()) {
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  };

  /** Runs one due entry, re-queueing intervals at their next period. */
  const fire = (t: Entry): void => {
    if (t.period === undefined) timers.delete(t.id);
    else {
      t.due += t.period;
      t.seq = seq++;
    }
    t.fn();
  };

  const arm = (): void => {
    if (options.mode !== 'real' || disposed) return;
    if (pump) clearTimeout(pump);
    pump = undefined;
    const next = earliest();
    if (!next) return;
    const delay = Math.max(0, (next.due - now()) / timeScale);
    // Node timers take at most 2^31-1 ms; a far-future entry is simply re-armed when this fires.
    pump = setTimeout(onPump, Math.min(delay, 0x7fffffff));
  };

  function onPump(): void {
    pump = undefined;
    const limit = now();
    for (let t = earliest(); t && t.due <= limit && !disposed; t = earliest()) fire(t);
    arm();
  }

  const add = (fn: () => void, ms: number, period?: number): SimTimer => {
    if (disposed) throw new Error('clock is disposed');
    const delay = Math.max(0, ms);
    const entry: Entry = { id: nextId++, due: now() + delay, seq: seq++, fn, period };
    timers.set(entry.id, entry);
    arm();
    return { id: entry.id };
  };

  return {
    mode: options.mode,
    timeScale,
    get pendingTimers() {
      return timers.size;
    },
    now,
    async advance(ms: number): Promise<void> {
      if (!(ms >= 0)) throw new RangeError(`advance needs a non-negative duration, got ${ms}`);
      const target = now() + ms;
      for (let t = earliest(); t && t.due <= target && !disposed; t = earliest()) {
        if (options.mode === 'manual') manualNow = Math.max(manualNow, t.due);
        else if (t.due > now()) jumped += t.due - now();
        fire(t);
        await flush();
      }
      if (options.mode === 'manual') manualNow = Math.max(manualNow, target);
      else if (target > now()) jumped += target - now();
      arm();
    },
    setTimeout: (fn, ms) => add(fn, ms),
    // A zero period would loop forever inside advance(); 1 ms is the finest step that makes sense.
    setInterval: (fn, ms) => add(fn, Math.max(1, ms), Math.max(1, ms)),
    clearTimer(timer: SimTimer | undefined): void {
      if (!timer) return;
      timers.delete(timer.id);
      if (timers.size === 0 && pump) {
        clearTimeout(pump);
        pump = undefined;
      }
    },
    dispose(): void {
      disposed = true;
      timers.clear();
      if (pump) clearTimeout(pump);
      pump = undefined;
    },
  };
}

/** Simulated ms per real ms of any SimClock (1 for clocks that do not say). */
export function timeScaleOf(clock: SimClock): number {
  const scale = (clock as Partial<ManagedClock>).timeScale;
  return typeof scale === 'number' && scale > 0 ? scale : 1;
}
