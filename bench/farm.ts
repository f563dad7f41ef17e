// 5. A print farm: N App Connections, each with a `status-poll` at the minimum interval, against the
// simulator in its own process. Each size runs in a fresh process so that its memory starts clean:
// CPU share of one core, RSS per connection, event-loop delay p99 and deploy time, 10 → 100 → 1,000.
import { deployFarm, LOOP_ROUNDS, memoryPerConn, measureRounds, roundMedians, sinkCount, STATUS_TYPE as TYPE, undeploy } from './lib/farm';
import { missing } from './lib/nodered';
import { CONFIG_TYPE } from './lib/peers';
import { forkTs, Peer } from './lib/proc';
import { bound, fmt, ratio, type Figure, type Row, type Section } from './lib/report';
import { SimProcess } from './lib/sim';
import { ROUNDS, sleep } from './lib/stats';

const SIZES = [10, 100, 1000];
/** The node's minimum interval (src/nodes/shared/poller.ts MIN_INTERVAL_MS); a round covers one. */
export const INTERVAL_S = 10;
const ROUND_MS = INTERVAL_S * 1000;

export interface FarmFigures {
  connections: number;
  deployMs: number;
  cpuShare: number;
  rssPerConnKB: number;
  heapPerConnKB: number;
  loopP99Ms: number;
  loopMaxMs: number;
  pollsPerSec: number;
  errors: number;
  simCpuShare: number;
}

/** One farm size, in this (fresh) process. */
export async function measureSize(n: number): Promise<FarmFigures> {
  const sim = await SimProcess.start();
  try {
    const conns = (await sim.connections(n, [0, 1, 2])).map((c) => ({ keys: c.keys, serviceUrl: sim.info.serviceUrl }));
    // 'always': every poll sends its snapshot, so the sink counts polls (the default, 'change', sends less).
    const deployment = await deployFarm({ conns, node: () => ({ interval: INTERVAL_S, output: 'always' }) });
    // Warm-up: one interval, so every connection has polled and holds its socket.
    await sleep(ROUND_MS);
    let errors = sinkCount('errors');
    const rounds = roundMedians(await measureRounds(ROUNDS, ROUND_MS, () => sim.cpuUs(), `farm-${n}`));
    const mem = await memoryPerConn(deployment, n);
    // Failed polls reach the second sink through the Catch node.
    errors += sinkCount('errors');
    await undeploy();
    return {
      connections: n,
      deployMs: deployment.deployMs,
      cpuShare: rounds.cpuShare,
      ...mem,
      loopP99Ms: rounds.loopP99Ms,
      loopMaxMs: rounds.loopMaxMs,
      pollsPerSec: rounds.perSec,
      errors,
      simCpuShare: rounds.simCpuShare,
    };
  } finally {
    await sim.close();
  }
}

export async function run(): Promise<Section> {
  const absent = missing(CONFIG_TYPE, TYPE);
  const rows: Row[] = [];
  const bySize = new Map<number, FarmFigures>();
  for (const n of SIZES) {
    if (absent) {
      rows.push({ peer: `${n} connections`, figures: {}, note: absent });
      continue;
    }
    const peer = new Peer(forkTs('worker.ts'));
    try {
      bySize.set(n, await peer.call<FarmFigures>('run', { bench: 'farm', fn: 'measureSize', arg: n }));
    } finally {
      await peer.close();
    }
    const f = bySize.get(n) as FarmFigures;
    rows.push({
      peer: `${n} connections`,
      figures: {
        'deploy ms': f.deployMs,
        'CPU % of a core': f.cpuShare * 100,
        'RSS KB/conn': f.rssPerConnKB,
        'heap KB/conn': f.heapPerConnKB,
        'loop p99 ms': f.loopP99Ms,
        'loop max ms': f.loopMaxMs,
        'polls/s': f.pollsPerSec,
        'sim CPU % of a core': f.simCpuShare * 100,
        errors: f.errors,
      },
    });
  }
  const big = bySize.get(1000);
  const small = bySize.get(10);
  const mid = bySize.get(100);
  // What one more printer costs: the slope from 10 to 1,000, so the fixed cost of the process drops out.
  const perPrinterCpu = big && small ? ((big.cpuShare - small.cpuShare) * 100) / (big.connections - small.connections) : null;
  const ratios: Record<string, Figure> = {
    'CPU 1,000 / 10 connections': ratio(big?.cpuShare, small?.cpuShare),
    'deploy 1,000 / 10 connections': ratio(big?.deployMs, small?.deployMs),
  };
  const percent = (v: number): string => `${fmt(v)} %`;
  const kb = (v: number): string => `${fmt(v)} KB`;
  const curve = [small, mid, big]
    .filter((f): f is FarmFigures => f !== undefined)
    .map((f) => `${f.connections}: ${fmt(f.cpuShare * 100)} % of a core, ${fmt(f.rssPerConnKB)} KB RSS and ${fmt(f.heapPerConnKB)} KB heap per printer`);
  return {
    id: 'farm',
    title: `5. print farm: N App Connections × one status-poll each at the ${INTERVAL_S} s minimum`,
    rows,
    ratios,
    goals: [
      bound('1,000 printers: < 3 % of a core', big ? big.cpuShare * 100 : null, 3, 'at most', percent),
      bound('1,000 printers: < 75 KB RSS per printer', big?.rssPerConnKB ?? null, 75, 'at most', kb),
      bound('1,000 printers: event-loop delay p99 < 20 ms', big?.loopP99Ms ?? null, 20, 'at most', (v) => `${fmt(v)} ms`),
      bound('1,000 printers: deploy < 3 s', big ? big.deployMs / 1000 : null, 3, 'at most', (v) => `${fmt(v)} s`),
    ],
    notes: [
      `Cost curve, printers → CPU and memory: ${curve.join('; ')}.${perPrinterCpu === null ? '' : ` One more printer costs ${fmt(perPrinterCpu * 1000, 1)} thousandths of a % of a core (the 10 → 1,000 slope).`}`,
      'The simulator runs 3 printers (Moonraker, OctoPrint, Bambu); the N App Connections are spread over them round-robin, each its own relay host, credentials and socket pool.',
      "Each status-poll is set to output 'always' (every poll sends its snapshot to a counting sink, so polls/s proves the polling); the default 'change' sends less.",
      `CPU: rounds of one interval (${INTERVAL_S} s) after one interval of warm-up, without the event-loop monitor (it costs ~1.5–2 % of a core by itself); then ${LOOP_ROUNDS} rounds of event-loop delay; each size in a fresh process, primed by deploying and removing one connection; RSS and heap growth per connection measured after forced GCs, from before the deploy to the end (at 10 connections RSS moves by more than the farm uses: read the heap figure there).`,
      'Event-loop delay: perf_hooks.monitorEventLoopDelay at 1 ms resolution (its samples include that 1 ms: an idle process shows a p99 of about 2 ms), p99 of each round, median over rounds; max is the worst of all rounds.',
    ],
  };
}
