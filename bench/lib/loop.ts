// Closed-loop measurement: N requests (or messages) always outstanding; each round reports
// throughput, latency percentiles and the CPU the measuring process spent per completed item.
import { performance } from 'node:perf_hooks';
import { profiled } from './profile';
import { cpuSince, medians, percentile, ROUNDS, ROUND_MS, sleep, WARMUP_MS } from './stats';

export interface Tally {
  completed: number;
  errors: number;
  latenciesMs: number[];
}

export interface ClosedLoop {
  start(): void;
  /** Stops issuing new work and resolves when what is outstanding has finished. */
  stop(): Promise<void>;
  /** What completed since the last take, and resets the counters. */
  take(): Tally;
}

export interface LoopFigures {
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerItem: number;
  errors: number;
}

/** A tally that a loop adds to and `take()` drains. */
export class Counter {
  private t: Tally = { completed: 0, errors: 0, latenciesMs: [] };

  done(startedAt: number, failed: boolean): void {
    this.t.completed++;
    if (failed) this.t.errors++;
    this.t.latenciesMs.push(performance.now() - startedAt);
  }

  take(): Tally {
    const t = this.t;
    this.t = { completed: 0, errors: 0, latenciesMs: [] };
    return t;
  }
}

/** Runs the loop: warm-up, then ROUNDS rounds of ROUND_MS; the median of each figure. `label` names its profile (BENCH_PROFILE). */
export async function measureLoop(loop: ClosedLoop, label = 'loop'): Promise<LoopFigures> {
  loop.start();
  await sleep(WARMUP_MS);
  loop.take();
  const rounds = await profiled(label, () => measureRounds(loop));
  await loop.stop();
  const m = medians(rounds);
  return { ...m, errors: rounds.reduce((sum, r) => sum + r.errors, 0) };
}

async function measureRounds(loop: ClosedLoop): Promise<LoopFigures[]> {
  const rounds: LoopFigures[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(ROUND_MS);
    const t = loop.take();
    const cpu = cpuSince(cpu0);
    const elapsed = performance.now() - t0;
    rounds.push({
      perSec: (t.completed * 1000) / elapsed,
      p50Ms: percentile(t.latenciesMs, 50),
      p99Ms: percentile(t.latenciesMs, 99),
      cpuUsPerItem: t.completed ? cpu / t.completed : NaN,
      errors: t.errors,
    });
  }
  return rounds;
}

/** One party of measureTurns(). */
export interface Turn {
  name: string;
  loop: ClosedLoop;
}

/** Slices per round and party in measureTurns(): each gets ROUND_MS in all per round, in this many turns. */
const TURNS_PER_ROUND = 4;

/**
 * The parties take turns: in each of ROUNDS rounds, each runs TURNS_PER_ROUND slices of
 * ROUND_MS / TURNS_PER_ROUND, one party at a time, so that load coming and going on a shared machine
 * lands on every party alike. A slice starts the loop, lets it run, stops it and waits for what was
 * in flight (its CPU and completions counted). Warm-up: each party WARMUP_MS alone first. Figures are
 * medians over rounds; `simCpuUs` (the simulator's CPU so far) gives each party's simulator cores.
 */
export async function measureTurns(turns: Turn[], simCpuUs: () => Promise<number>): Promise<Record<string, LoopFigures & { simCores: number }>> {
  for (const t of turns) {
    t.loop.start();
    await sleep(WARMUP_MS);
    await t.loop.stop();
    t.loop.take();
  }
  const sliceMs = ROUND_MS / TURNS_PER_ROUND;
  const rounds = new Map<string, Array<LoopFigures & { simCores: number }>>(turns.map((t) => [t.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const acc = new Map(turns.map((t) => [t.name, { completed: 0, errors: 0, cpu: 0, wall: 0, sim: 0, latencies: [] as number[] }]));
    for (let k = 0; k < TURNS_PER_ROUND; k++) {
      for (const t of turns) {
        const a = acc.get(t.name) as NonNullable<ReturnType<typeof acc.get>>;
        const sim0 = await simCpuUs();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        t.loop.start();
        await sleep(sliceMs);
        await t.loop.stop();
        const tally = t.loop.take();
        a.cpu += cpuSince(cpu0);
        a.wall += performance.now() - t0;
        a.sim += (await simCpuUs()) - sim0;
        a.completed += tally.completed;
        a.errors += tally.errors;
        for (const l of tally.latenciesMs) a.latencies.push(l);
      }
    }
    for (const t of turns) {
      const a = acc.get(t.name) as NonNullable<ReturnType<typeof acc.get>>;
      rounds.get(t.name)?.push({
        perSec: (a.completed * 1000) / a.wall,
        p50Ms: percentile(a.latencies, 50),
        p99Ms: percentile(a.latencies, 99),
        cpuUsPerItem: a.completed ? a.cpu / a.completed : NaN,
        errors: a.errors,
        simCores: a.sim / (a.wall * 1000),
      });
    }
  }
  const out: Record<string, LoopFigures & { simCores: number }> = {};
  for (const [name, list] of rounds) out[name] = { ...medians(list), errors: list.reduce((sum, x) => sum + x.errors, 0) };
  return out;
}

/** `inFlight` async workers, each awaiting `fire()` again as soon as its last one finished. */
export function asyncLoop(inFlight: number, fire: () => Promise<boolean>): ClosedLoop {
  const counter = new Counter();
  let running = false;
  let workers: Promise<void>[] = [];
  const worker = async (): Promise<void> => {
    while (running) {
      const t0 = performance.now();
      let ok: boolean;
      try {
        ok = await fire();
      } catch {
        ok = false;
      }
      counter.done(t0, !ok);
    }
  };
  return {
    start() {
      running = true;
      workers = Array.from({ length: inFlight }, worker);
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
    take: () => counter.take(),
  };
}

/** Runs the loop until `n` items have completed (for counting what one item costs, not for timing). */
export async function runFor(loop: ClosedLoop, n: number): Promise<Tally> {
  const total: Tally = { completed: 0, errors: 0, latenciesMs: [] };
  loop.start();
  while (total.completed < n) {
    await sleep(5);
    const t = loop.take();
    total.completed += t.completed;
    total.errors += t.errors;
  }
  await loop.stop();
  const t = loop.take();
  total.completed += t.completed;
  total.errors += t.errors;
  return total;
}
