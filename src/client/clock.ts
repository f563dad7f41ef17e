// The time source of everything that waits (the status poller, webhook renewal, cool-downs). Injected
// so that tests drive time by hand instead of sleeping; production uses `realClock`. The simulator's
// clock has the same shape, so one manual clock can drive the simulator and our code together.

/** An opaque handle from Clock.setTimeout, only ever given back to clearTimer. */
export type ClockTimer = object;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimer(timer: ClockTimer | undefined): void;
}

/** Node's timers take at most 2^31-1 ms (~24.8 days); a longer one would fire at once, so it is chained. */
const MAX_TIMER_MS = 0x7fffffff;

class RealTimer {
  handle?: NodeJS.Timeout;
}

/** The wall clock and Node's own timers; any delay works, including the webhook's 30-day renewal. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer = new RealTimer();
    // The common case (every request's deadline) without the chaining closure.
    if (ms <= MAX_TIMER_MS) {
      timer.handle = setTimeout(fn, Math.max(0, ms));
      return timer;
    }
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
