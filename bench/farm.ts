// 5. A print farm: N App Connections, each with a `status-poll` at the minimum interval, against the
// simulator in its own process. Each size runs in a fresh process so that its memory starts clean:
// CPU share of one core, RSS per connection, event-loop delay p99 and deploy time, 10 → 100 → 1,000.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { deploy, missing, onTab, ourNode, sinkCount, sinkModule, undeploy, type FlowNode, type NodeModule } from './lib/nodered';
import { appConnection, CONFIG_TYPE } from './lib/peers';
import { forkTs, Peer } from './lib/proc';
import { bound, fmt, ratio, type Figure, type Row, type Section } from './lib/report';
import { SimProcess } from './lib/sim';
import { profiled } from './lib/profile';
import { median, ROUNDS, sleep } from './lib/stats';

const TYPE = 'octoeverywhere-status-poll';
const SIZES = [10, 100, 1000];
/** The node's minimum interval (src/nodes/shared/poller.ts MIN_INTERVAL_MS); a round covers one. */
const INTERVAL_S = 10;
const ROUND_MS = INTERVAL_S * 1000;
/** Rounds of event-loop delay, after the CPU rounds. */
const LOOP_ROUNDS = 3;

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

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** One farm size, in this (fresh) process. */
export async function measureSize(n: number): Promise<FarmFigures> {
  const sim = await SimProcess.start();
  try {
    const conns = await sim.connections(n, [0, 1, 2]);
    const flow: FlowNode[] = [];
    const configs: FlowNode[] = [];
    const credentials: Record<string, unknown> = {};
    conns.forEach((c, i) => {
      const conn = appConnection(`conn${i}`, c.keys, sim.info.serviceUrl);
      configs.push(conn.node);
      credentials[conn.node.id] = conn.credentials;
      // 'always': every poll sends its snapshot, so the sink counts polls (the default, 'change', sends less).
      flow.push({ id: `poll${i}`, type: TYPE, connection: conn.node.id, interval: INTERVAL_S, output: 'always', wires: [['sink'], []] });
    });
    flow.push({ id: 'sink', type: 'bench-sink', wires: [] });
    flow.push({ id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['errors']] });
    flow.push({ id: 'errors', type: 'bench-sink', wires: [] });
    const modules = [sinkModule, ourNode(CONFIG_TYPE), ourNode(TYPE)] as NodeModule[];

    // Prime: one connection deployed and removed, so that code loading and first-use allocations of
    // the runtime and our modules are not charged to the farm.
    const prime = appConnection('primeConn', conns[0].keys, sim.info.serviceUrl);
    await deploy(
      modules,
      onTab([{ id: 'primePoll', type: TYPE, connection: 'primeConn', interval: INTERVAL_S, output: 'always', wires: [[], []] }], [prime.node]),
      { primeConn: prime.credentials },
    );
    await sleep(1000);
    await undeploy();
    gc();
    await sleep(200);
    gc();
    const rss0 = process.memoryUsage().rss;
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    await deploy(modules, onTab(flow, configs), credentials);
    const deployMs = performance.now() - t0;

    // Warm-up: one interval, so every connection has polled and holds its socket.
    await sleep(ROUND_MS);
    sinkCount('sink');
    let errors = sinkCount('errors');
    // CPU rounds without the event-loop monitor: at 1 ms resolution it wakes the process 1,000 times a
    // second and costs ~1.5–2 % of a core by itself (most of what 10 printers seemed to cost).
    const rounds = await profiled(`farm-${n}`, async () => {
      const out: Array<Pick<FarmFigures, 'cpuShare' | 'pollsPerSec' | 'simCpuShare'>> = [];
      for (let r = 0; r < ROUNDS; r++) {
        const cpu0 = process.cpuUsage();
        const sim0 = await sim.cpuUs();
        const w0 = performance.now();
        await sleep(ROUND_MS);
        const cpu = process.cpuUsage(cpu0);
        const wallUs = (performance.now() - w0) * 1000;
        const simCpu = (await sim.cpuUs()) - sim0;
        out.push({ cpuShare: (cpu.user + cpu.system) / wallUs, pollsPerSec: sinkCount('sink') / (wallUs / 1e6), simCpuShare: simCpu / wallUs });
      }
      return out;
    });
    // Then the event-loop delay, in rounds of its own.
    const loops: Array<Pick<FarmFigures, 'loopP99Ms' | 'loopMaxMs'>> = [];
    for (let r = 0; r < LOOP_ROUNDS; r++) {
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      await sleep(ROUND_MS);
      h.disable();
      loops.push({ loopP99Ms: h.percentile(99) / 1e6, loopMaxMs: h.max / 1e6 });
    }
    sinkCount('sink');
    gc();
    const mem = process.memoryUsage();
    // Failed polls reach the second sink through the Catch node.
    errors += sinkCount('errors');
    await undeploy();
    return {
      connections: n,
      deployMs,
      cpuShare: median(rounds.map((x) => x.cpuShare)),
      rssPerConnKB: (mem.rss - rss0) / n / 1024,
      heapPerConnKB: (mem.heapUsed - heap0) / n / 1024,
      loopP99Ms: median(loops.map((x) => x.loopP99Ms)),
      loopMaxMs: Math.max(...loops.map((x) => x.loopMaxMs)),
      pollsPerSec: median(rounds.map((x) => x.pollsPerSec)),
      errors,
      simCpuShare: median(rounds.map((x) => x.simCpuShare)),
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
