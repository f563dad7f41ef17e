// The time source of everything that waits (the status poller, back-off). Injected so that tests
// drive time by hand instead of sleeping; production uses `realClock`.

/** An opaque handle from Clock.setTimeout, only ever given back to clearTimeout. */
export type ClockTimer = object;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
}

/** The wall clock and Node's own timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => {
    if (timer) clearTimeout(timer as NodeJS.Timeout);
  },
};
