// The time source of the webhook node's timers (renewal, retry back-off, slow-sender limit, status).
// Real time by default; tests put the simulator's manual clock in `RED.settings.octoeverywhereClock`
// so that 30-day renewals run without sleeping. The shape matches the simulator's SimClock.
import type { NodeAPI } from './types';

export type ClockTimer = object;

export interface NodeClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimer(timer: ClockTimer | undefined): void;
}

/** Node's timers take at most 2^31-1 ms (~24.8 days); longer ones fire at once, so they are chained. */
const MAX_TIMER_MS = 0x7fffffff;

class RealTimer {
  handle?: NodeJS.Timeout;
}

export const realClock: NodeClock = {
  now: () => Date.now(),
  setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer = new RealTimer();
    const due = Date.now() + Math.max(0, ms);
    const arm = (): void => {
      const left = due - Date.now();
      timer.handle = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fn, Math.max(0, left));
    };
    arm();
    return timer;
  },
  clearTimer(timer: ClockTimer | undefined): void {
    if (timer instanceof RealTimer) clearTimeout(timer.handle);
  },
};

function isClock(value: unknown): value is NodeClock {
  const c = value as Partial<NodeClock> | null;
  return typeof c === 'object' && c !== null && typeof c.now === 'function' && typeof c.setTimeout === 'function' && typeof c.clearTimer === 'function';
}

/** The test hook `octoeverywhereClock` from settings, else real time. */
export function clockFor(RED: NodeAPI): NodeClock {
  const hook: unknown = (RED.settings as unknown as Record<string, unknown>).octoeverywhereClock;
  return isClock(hook) ? hook : realClock;
}

/** A set of pending timers released together on close. */
export class Timers {
  private readonly pending = new Set<ClockTimer>();

  constructor(private readonly clock: NodeClock) {}

  after(ms: number, fn: () => void): ClockTimer {
    const timer = this.clock.setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.add(timer);
    return timer;
  }

  cancel(timer: ClockTimer | undefined): void {
    if (!timer) return;
    this.clock.clearTimer(timer);
    this.pending.delete(timer);
  }

  cancelAll(): void {
    for (const timer of this.pending) this.clock.clearTimer(timer);
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}
