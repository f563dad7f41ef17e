// When a live socket tries again: jittered exponential back-off on the injectable clock. After a relay
// restart a thousand printers lose their sockets in the same instant; full jitter over a window of
// tens of seconds spreads their reconnects so no second carries more than a few percent of them.
import { backoffDelay } from '../backoff';

export interface BackoffOptions {
  /** Window of the first retry (ms); each further failure doubles it. Default 20 s. */
  baseMs?: number;
  /** Largest window (ms). Default 30 s: every socket is back within base + cap of a relay that refuses for up to 30 s. */
  capMs?: number;
  /** Shortest delay (ms), so a socket never hammers an edge that closes it at once. Default 1 s. */
  minMs?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 20_000, capMs: 30_000, minMs: 1_000 };

/**
 * The delay before reconnect attempt `attempt` (0 = the first after a drop): uniform ("full jitter")
 * between minMs and min(capMs, baseMs · 2^attempt) — the package's one back-off policy with full jitter.
 * `random` is injectable so tests can seed it.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random, options: BackoffOptions = {}): number {
  const { baseMs, capMs, minMs } = { ...DEFAULT_BACKOFF, ...definedOnly(options) };
  const failures = Math.max(0, Math.min(30, attempt)) + 1;
  return backoffDelay({ baseMs: Math.max(baseMs, minMs), maxMs: Math.max(capMs, minMs), jitter: 1, minMs }, failures, random);
}

function definedOnly(options: BackoffOptions): BackoffOptions {
  const out: BackoffOptions = {};
  for (const [k, v] of Object.entries(options) as Array<[keyof BackoffOptions, number | undefined]>) {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[k] = v;
  }
  return out;
}
