// One benchmark in its own process (the measured process): bench/run.ts sends `run` with the
// benchmark's name and gets its Section back (or a part of one, for benchmarks run in several processes).
import { serve } from './lib/proc';

serve({
  /** `fn` (default `run`) of bench/<bench>.ts, with `arg` when given. */
  run: async ({ bench, fn = 'run', arg }: { bench: string; fn?: string; arg?: unknown }): Promise<unknown> => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the benchmark named on the command line
    const mod = require(`./${bench}`) as Record<string, (arg?: unknown) => Promise<unknown>>;
    const entry = mod[fn];
    if (typeof entry !== 'function') throw new Error(`bench/${bench}.ts has no ${fn}()`);
    return entry(arg);
  },
});
