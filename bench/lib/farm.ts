// The print farm's pieces, shared by bench/farm.ts (N connections polled) and bench/live.ts (1,000
// printers live and polled): the flow (one App Connection and one status node each, a counting sink,
// a Catch for errors), the priming deploy, the measured rounds (CPU share of a core, event-loop delay,
// messages per second, the simulator's CPU) and the memory per connection after forced GCs.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { CompletionKeys } from '../../src/simulator';
import { deploy, onTab, ourNode, sinkCount, sinkModule, undeploy, type FlowNode, type NodeModule } from './nodered';
import { appConnection, CONFIG_TYPE } from './peers';
import { profiled } from './profile';
import { median, sleep } from './stats';

export const STATUS_TYPE = 'octoeverywhere-status-poll';

/** One App Connection of the farm, on the simulator (shard) that made it. */
export interface FarmConnection {
  keys: CompletionKeys;
  serviceUrl: string;
}

export interface FarmSpec {
  conns: FarmConnection[];
  /** Connection i's status node settings (interval, output, mode …); id, type, connection and wires are filled in unless given. */
  node: (i: number) => Record<string, unknown>;
  /** More flow nodes and the modules they need. */
  extraNodes?: FlowNode[];
  extraModules?: NodeModule[];
}

export interface FarmDeployment {
  deployMs: number;
  /** Memory after forced GCs just before the deploy. */
  rss0: number;
  heap0: number;
}

export interface FarmRound {
  cpuShare: number;
  loopP99Ms: number;
  loopMaxMs: number;
  /** Messages the sink counted per second (the status nodes' output 1). */
  perSec: number;
  simCpuShare: number;
}

export const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function settledGc(): Promise<void> {
  gc();
  await sleep(200);
  gc();
}

function statusNodes(spec: FarmSpec): { flow: FlowNode[]; configs: FlowNode[]; credentials: Record<string, unknown> } {
  const flow: FlowNode[] = [];
  const configs: FlowNode[] = [];
  const credentials: Record<string, unknown> = {};
  spec.conns.forEach((c, i) => {
    const conn = appConnection(`conn${i}`, c.keys, c.serviceUrl);
    configs.push(conn.node);
    credentials[conn.node.id] = conn.credentials;
    flow.push({ id: `poll${i}`, type: STATUS_TYPE, connection: conn.node.id, wires: [['sink'], []], ...spec.node(i) });
  });
  return { flow, configs, credentials };
}

/**
 * Deploys the farm in this (fresh) process: first one connection deployed and removed, so that code
 * loading and first-use allocations of the runtime and our modules are not charged to the farm; then
 * the memory baseline after forced GCs; then the farm. Sink `sink` counts output 1, sink `errors` what
 * a Catch node sees.
 */
export async function deployFarm(spec: FarmSpec): Promise<FarmDeployment> {
  const modules = [sinkModule, ourNode(CONFIG_TYPE), ourNode(STATUS_TYPE), ...(spec.extraModules ?? [])] as NodeModule[];
  const first = spec.conns[0];
  const prime = appConnection('primeConn', first.keys, first.serviceUrl);
  await deploy(modules, onTab([{ id: 'primePoll', type: STATUS_TYPE, ...spec.node(0), connection: 'primeConn', wires: [[], []] }], [prime.node]), {
    primeConn: prime.credentials,
  });
  await sleep(1000);
  await undeploy();
  await settledGc();
  const { rss: rss0, heapUsed: heap0 } = process.memoryUsage();
  const { flow, configs, credentials } = statusNodes(spec);
  flow.push({ id: 'sink', type: 'bench-sink', wires: [] });
  flow.push({ id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['errors']] });
  flow.push({ id: 'errors', type: 'bench-sink', wires: [] });
  flow.push(...(spec.extraNodes ?? []));
  const t0 = performance.now();
  await deploy(modules, onTab(flow, configs), credentials);
  return { deployMs: performance.now() - t0, rss0, heap0 };
}

/** Rounds of event-loop delay after the CPU rounds. */
export const LOOP_ROUNDS = 3;

/**
 * `rounds` rounds of `roundMs`: CPU share of a core, sink messages/s, the simulator's CPU; then the
 * event-loop delay in rounds of its own, each round carrying their median p99 and worst max. The
 * monitor stays out of the CPU rounds: at 1 ms resolution it wakes the process 1,000 times a second
 * and costs ~1.5–2 % of a core by itself (most of what 10 printers once seemed to cost).
 * BENCH_PROFILE profiles the CPU rounds under `label`.
 */
export async function measureRounds(rounds: number, roundMs: number, simCpuUs: () => Promise<number>, label: string): Promise<FarmRound[]> {
  sinkCount('sink');
  const cpu = await profiled(label, async () => {
    const out: Array<Omit<FarmRound, 'loopP99Ms' | 'loopMaxMs'>> = [];
    for (let r = 0; r < rounds; r++) {
      const cpu0 = process.cpuUsage();
      const sim0 = await simCpuUs();
      const w0 = performance.now();
      await sleep(roundMs);
      const used = process.cpuUsage(cpu0);
      const wallUs = (performance.now() - w0) * 1000;
      const simCpu = (await simCpuUs()) - sim0;
      out.push({ cpuShare: (used.user + used.system) / wallUs, perSec: sinkCount('sink') / (wallUs / 1e6), simCpuShare: simCpu / wallUs });
    }
    return out;
  });
  const loops: Array<{ p99: number; max: number }> = [];
  for (let r = 0; r < LOOP_ROUNDS; r++) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    await sleep(roundMs);
    h.disable();
    loops.push({ p99: h.percentile(99) / 1e6, max: h.max / 1e6 });
  }
  sinkCount('sink');
  const loopP99Ms = median(loops.map((l) => l.p99));
  const loopMaxMs = Math.max(...loops.map((l) => l.max));
  return cpu.map((c) => ({ ...c, loopP99Ms, loopMaxMs }));
}

/** The median of each round figure (loop max: the worst of all rounds). */
export function roundMedians(rounds: FarmRound[]): FarmRound {
  return {
    cpuShare: median(rounds.map((x) => x.cpuShare)),
    loopP99Ms: median(rounds.map((x) => x.loopP99Ms)),
    loopMaxMs: Math.max(...rounds.map((x) => x.loopMaxMs)),
    perSec: median(rounds.map((x) => x.perSec)),
    simCpuShare: median(rounds.map((x) => x.simCpuShare)),
  };
}

/** RSS and heap growth per connection since the deployment's baseline, after forced GCs. */
export async function memoryPerConn(d: FarmDeployment, n: number): Promise<{ rssPerConnKB: number; heapPerConnKB: number }> {
  await settledGc();
  const mem = process.memoryUsage();
  return { rssPerConnKB: (mem.rss - d.rss0) / n / 1024, heapPerConnKB: (mem.heapUsed - d.heap0) / n / 1024 };
}

export { sinkCount, undeploy };
