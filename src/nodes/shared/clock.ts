// The nodes' one time source: every node timer (status polls, webhook renewal and read limits, the
// webcam cool-down and stream limit) runs on the Clock from `clockFor(RED)`, and a node releases its
// timers on close through `Timers`.
import { type Clock, type ClockTimer, realClock } from '../../client';
import type { NodeAPI } from './types';

function isClock(value: unknown): value is Clock {
  const c = value as Partial<Clock> | null;
  return typeof c === 'object' && c !== null && typeof c.now === 'function' && typeof c.setTimeout === 'function' && typeof c.clearTimer === 'function';
}

/**
 * The clock of this runtime's nodes: the real one, unless `RED.settings.octoeverywhereClock` holds a
 * Clock. That setting is TEST-ONLY and not documented for users: tests put the simulator's manual
 * clock there (it is a Clock) so that 30-day renewals, back-off and cool-downs run without sleeping.
 * A setting rather than a module variable, so it belongs to one runtime and ends with it.
 */
export function clockFor(RED: NodeAPI): Clock {
  const hook: unknown = (RED.settings as unknown as Record<string, unknown>).octoeverywhereClock;
  return isClock(hook) ? hook : realClock;
}

/** A set of pending timers released together on close. */
export class Timers {
  private readonly pending = new Set<ClockTimer>();

  constructor(private readonly clock: Clock) {}

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
}
