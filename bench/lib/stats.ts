// Rounds, medians and percentiles: every figure the benchmarks print is the median of ROUNDS
// measured rounds taken after a warm-up.
export const ROUNDS = Math.max(5, Number(process.env.BENCH_ROUNDS) || 5);
/** Length of one measured round; BENCH_ROUND_MS overrides (the whole run must stay under 10 minutes). */
export const ROUND_MS = Number(process.env.BENCH_ROUND_MS) || 2000;
export const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS) || 1000;

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank];
}

/** Per-metric median over rounds of metric records. */
export function medians<K extends string>(rounds: Array<Record<K, number>>): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const key of Object.keys(rounds[0] ?? {}) as K[]) out[key] = median(rounds.map((r) => r[key]));
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time (user + system) in µs since `since`. */
export function cpuSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

export function round(value: number, digits = 0): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
