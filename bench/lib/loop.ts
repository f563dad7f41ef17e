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
