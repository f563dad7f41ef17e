// The one back-off policy of the package: how long to wait before the next attempt after `failures`
// failures in a row. Exponential from `baseMs`, capped at `maxMs`; with `jitter`, part of each wait is
// random, so that many connections that failed together do not all come back at the same moment.

export interface BackoffPolicy {
  /** The wait after the first failure. */
  baseMs: number;
  /** No wait is longer than this. */
  maxMs: number;
  /** Growth per failure; default 2 (doubling). */
  factor?: number;
  /**
   * The random share of each wait, 0…1 (default 0: none, the exact wait, as timers on a manual clock
   * need). With 0.5, a 60 s wait becomes one between 30 and 60 s; 1 is "full jitter".
   */
  jitter?: number;
  /** The shortest jittered wait (default 0), so a retry never hammers a far side that refuses at once. */
  minMs?: number;
}

/**
 * The wait before the attempt after `failures` consecutive failures (1 = the first failure). `random`
 * (0 ≤ r < 1, default Math.random) is only drawn when the policy has jitter.
 */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const steps = Math.max(0, Math.floor(failures) - 1);
  const exact = Math.min(policy.maxMs, policy.baseMs * (policy.factor ?? 2) ** steps);
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0));
  if (jitter === 0) return exact;
  const shortest = Math.min(exact, Math.max(0, policy.minMs ?? 0));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(exact - jitter * (1 - r) * (exact - shortest));
}
