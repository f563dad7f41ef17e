// Socket openings of one process, paced (issue 16). The back-off's jitter spreads a thousand printers'
// reconnects after a relay restart, but when the event loop stalls (a deploy, a GC pause) their timers
// fire together; a token bucket per clock caps the openings in any second whatever the timers do, and
// spreads a deploy of many live printers the same way.
import type { Clock, ClockTimer } from '../clock';

export interface PacerOptions {
  /** Openings per second once the burst is spent. */
  perSecond: number;
  /** Openings allowed at once after a quiet spell. */
  burst: number;
}

/** 1,000 sockets are all back within 20 s; no second carries more than 6 % of them. */
export const DEFAULT_PACE: PacerOptions = { perSecond: 50, burst: 10 };

export class ConnectPacer {
  private tokens: number;
  private last: number;
  /** Waiting openings in arrival order (a Set keeps it and makes a cancel O(1)). */
  private readonly waiting = new Set<() => void>();
  private timer: ClockTimer | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly options: PacerOptions = DEFAULT_PACE,
  ) {
    this.tokens = options.burst;
    this.last = clock.now();
  }

  /** Openings waiting for a slot now. */
  get queued(): number {
    return this.waiting.size;
  }

  /** Runs `go` now when a slot is free (and nobody waits before it), else when one is. Returns the cancel. */
  admit(go: () => void): () => void {
    this.refill();
    if (this.waiting.size === 0 && this.tokens >= 1) {
      this.tokens--;
      go();
      return () => undefined;
    }
    this.waiting.add(go);
    this.schedule();
    return () => {
      this.waiting.delete(go);
      if (this.waiting.size === 0) this.release();
    };
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.last) * this.options.perSecond) / 1000);
    this.last = now;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.options.perSecond));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, wait);
  }

  private drain(): void {
    this.refill();
    for (const go of this.waiting) {
      if (this.tokens < 1) break;
      this.tokens--;
      this.waiting.delete(go);
      go();
    }
    if (this.waiting.size > 0) this.schedule();
  }

  private release(): void {
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}

const pacers = new WeakMap<Clock, ConnectPacer>();

/** The process's pacer for sockets on `clock` (one per clock, so tests on manual clocks stay apart). */
export function pacerFor(clock: Clock): ConnectPacer {
  let pacer = pacers.get(clock);
  if (!pacer) {
    pacer = new ConnectPacer(clock);
    pacers.set(clock, pacer);
  }
  return pacer;
}
