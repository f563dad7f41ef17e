// 6. Live (issue 16): the status node on the printer's own push socket through the relay, against the
// same node polling. (a) Event latency: printer state changes made in the simulator process, stamped
// there and at the message out of the status node (wall clock, one machine). (b) 1,000 live Moonraker
// printers on one Node-RED: CPU share of a core, memory per connection, event-loop delay, against the
// polled farm (bench/lib/farm.ts) on the same printers. (c) The reconnect storm after a relay restart.
// Each part in a fresh process (bench/worker.ts) with its own simulator process(es).
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { LiveState } from '../src/client';
import { deployFarm, type FarmConnection, type FarmRound, measureRounds, memoryPerConn, sinkCount, undeploy } from './lib/farm';
import { getNode, missing, type NodeModule } from './lib/nodered';
import { CONFIG_TYPE } from './lib/peers';
import { forkTs, Peer } from './lib/proc';
import { fmt, goal, ratio, type Figure, type Section } from './lib/report';
import { SimProcess } from './lib/sim';
import { median, percentile, sleep } from './lib/stats';
import type { SimChange } from './sim-server';

const TYPE = 'octoeverywhere-status-poll';
const env = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
/** The poll peer's interval: the node's minimum (src/nodes/shared/poller.ts MIN_INTERVAL_MS). */
const POLL_INTERVAL_S = 10;
/** The live nodes' own interval (the node's default): their poller is the fallback and brings Gadget/Info. */
const LIVE_INTERVAL_S = 30;
const FARM = env('BENCH_LIVE_PRINTERS', 1000);
/** Simulator processes the farm's printers are spread over: one carries 1,000 pushing sockets at ~70 % of its core and loses sockets in the storm. */
const SHARDS = env('BENCH_LIVE_SHARDS', 2);
const FARM_ROUNDS = env('BENCH_LIVE_ROUNDS', 3);
/** Three rounds of 10 s: one live fallback-poll interval, three of the polled peer's. */
const FARM_ROUND_MS = env('BENCH_LIVE_ROUND_MS', 10_000);
const LATENCY_PRINTERS = env('BENCH_LIVE_LATENCY_PRINTERS', 100);
const CHANGES_EACH = env('BENCH_LIVE_CHANGES', 3);
/** More than the poll interval: the poll peer sees each change on its own poll. */
const CHANGE_SPACING_MS = (POLL_INTERVAL_S + 1) * 1000;
const RESTART_MS = env('BENCH_LIVE_RESTART_MS', 10_000);
/** How long the storm is watched: the goal is 60 s, a little more shows how far off a miss is. */
const STORM_MAX_MS = env('BENCH_LIVE_STORM_MAX_MS', 70_000);
const PRINT_S = 6 * 3600;

const wallMs = (): number => performance.timeOrigin + performance.now();
const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

/** The config node's live feed, as far as a benchmark watches it. */
interface FeedOwner {
  live(): { state: LiveState; subscribe(s: { state(state: LiveState): void; snapshot(): void }): () => void };
}
const feedOf = (connId: string): ReturnType<FeedOwner['live']> | undefined => (getNode(connId) as unknown as FeedOwner | undefined)?.live();

async function waitFor(what: () => boolean | Promise<boolean>, maxMs: number, stepMs = 250): Promise<boolean> {
  const until = performance.now() + maxMs;
  while (performance.now() < until) {
    if (await what()) return true;
    await sleep(stepMs);
  }
  return what();
}

/** The feeds' states, counted by status and error code: why sockets are not up, when they are not. */
function stateCounts(n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const s = feedOf(`conn${i}`)?.state;
    const key = !s ? 'none' : s.status === 'connecting' || s.status === 'stopped' ? `${s.status}${s.error ? ` ${s.error.code}` : ''}` : s.status;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

const connectedCount = (n: number): number => {
  let up = 0;
  for (let i = 0; i < n; i++) if (feedOf(`conn${i}`)?.state.status === 'connected') up++;
  return up;
};

// ---- a. event latency ----

interface Stamp {
  key: string;
  topic: string;
  atMs: number;
}
const stamps: Stamp[] = [];

/** Node type `bench-stamp`: records the wall-clock time and topic of every message, under its `key`. */
const stampModule: NodeModule = (RED) => {
  RED.nodes.registerType('bench-stamp', function BenchStamp(this: import('node-red').Node, def: import('node-red').NodeDef & { key?: string }) {
    RED.nodes.createNode(this, def);
    const key = def.key ?? def.id;
    this.on('input', (msg: import('node-red').NodeMessageInFlow, _send: unknown, done: () => void) => {
      stamps.push({ key, topic: String(msg.topic), atMs: wallMs() });
      done();
    });
  } as never);
};

export interface LatencyFigures {
  live: number[];
  poll: number[];
  changes: number;
  missedLive: number;
  missedPoll: number;
  /** This (Node-RED) process's event-loop delay meanwhile. */
  loopP99Ms: number;
  loopMaxMs: number;
  loadStart: string;
  loadEnd: string;
}

/** In this (fresh) process: P printers, each with a live and a polled status node on App Connections of their own. */
export async function latency(): Promise<LatencyFigures> {
  const loadStart = load();
  const p = LATENCY_PRINTERS;
  const sim = await SimProcess.start({ moonraker: p });
  try {
    await sim.startPrints(PRINT_S);
    const printers = Array.from({ length: p }, (_, i) => i);
    const serviceUrl = sim.info.serviceUrl;
    const live = (await sim.connections(p, printers)).map((c): FarmConnection => ({ keys: c.keys, serviceUrl }));
    const polled = (await sim.connections(p, printers)).map((c): FarmConnection => ({ keys: c.keys, serviceUrl }));
    const stampNodes = printers.flatMap((i) => [
      { id: `stampL${i}`, type: 'bench-stamp', key: `live:${i}`, wires: [] },
      { id: `stampP${i}`, type: 'bench-stamp', key: `poll:${i}`, wires: [] },
    ]);
    await deployFarm({
      conns: [...live, ...polled],
      node: (i) =>
        i < p
          ? { mode: 'live', interval: LIVE_INTERVAL_S, wires: [[], [`stampL${i}`]] }
          : { mode: 'poll', interval: POLL_INTERVAL_S, wires: [[], [`stampP${i - p}`]] },
      extraNodes: stampNodes,
      extraModules: [stampModule],
    });
    const t0 = performance.now();
    // Every live socket up and every printer past its (instant) warm-up; the polls have their baseline.
    await waitFor(async () => connectedCount(p) === p && (await sim.printing()) === p, 30_000);
    await sleep(Math.max(0, 3000 - (performance.now() - t0)));
    stamps.length = 0;
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const changes = (await sim.changes(printers, CHANGE_SPACING_MS, CHANGES_EACH)).filter((c) => c.done);
    // The last change's poll comes within one interval.
    await sleep(POLL_INTERVAL_S * 1000 + 1000);
    h.disable();
    const found = match(changes, stamps);
    await undeploy();
    return { ...found, changes: changes.length, loopP99Ms: h.percentile(99) / 1e6, loopMaxMs: h.max / 1e6, loadStart, loadEnd: load() };
  } finally {
    await sim.close();
  }
}

/** Each change's latency to the first matching event of each node (before the printer's next change). */
function match(changes: SimChange[], seen: Stamp[]): { live: number[]; poll: number[]; missedLive: number; missedPoll: number } {
  const byPrinter = new Map<number, SimChange[]>();
  for (const c of changes) byPrinter.set(c.printer, [...(byPrinter.get(c.printer) ?? []), c]);
  const out = { live: [] as number[], poll: [] as number[], missedLive: 0, missedPoll: 0 };
  for (const [printer, list] of byPrinter) {
    list.sort((a, b) => a.atMs - b.atMs);
    list.forEach((c, k) => {
      const until = list[k + 1]?.atMs ?? Number.POSITIVE_INFINITY;
      const topic = c.action === 'pause' ? 'print-paused' : 'print-resumed';
      for (const mode of ['live', 'poll'] as const) {
        // 2 ms of slack: two processes' wall clocks are read independently.
        const hit = seen.find((s) => s.key === `${mode}:${printer}` && s.topic === topic && s.atMs >= c.atMs - 2 && s.atMs < until);
        if (hit) out[mode].push(Math.max(0, hit.atMs - c.atMs));
        else if (mode === 'live') out.missedLive++;
        else out.missedPoll++;
      }
    });
  }
  return out;
}

// ---- b. the farm, c. the storm ----

export interface FarmArg {
  mode: 'live' | 'poll';
  /** Live: the status node's `readings` (push: every change as the printer pushes it; interval: once per interval). */
  readings?: 'push' | 'interval';
  storm: boolean;
}

export interface StormFigures {
  sockets: number;
  restartMs: number;
  /** Upgrades relayed (a socket open again) per second since the restart, stamped in the simulator. */
  perSecond: number[];
  /** Upgrades tried (refused ones too) per second, stamped in the simulator. */
  attemptsPerSecond: number[];
  largestBurst: number;
  largestAttemptBurst: number;
  /** The largest 1-s burst of reconnects as the Node-RED process noticed them (its event loop may lag). */
  largestBurstSeen: number;
  /** Attempts the live feeds announced. */
  clientAttempts: number;
  backWithinMs: number | null;
  backCount: number;
  backBy60s: number;
  /** The feeds' states when the wait ended, if some were not back. */
  notBack?: Record<string, number>;
}

export interface LiveFarmFigures {
  printers: number;
  shards: number;
  deployMs: number;
  connectedMs: number | null;
  cpuShare: number;
  loopP99Ms: number;
  loopMaxMs: number;
  msgPerSec: number;
  /** Moonraker status pushes the printers sent per second (all printers). */
  pushPerSec: number;
  simCpuShare: number;
  rssPerConnKB: number;
  heapPerConnKB: number;
  errors: number;
  /** When not every socket came up in the warm-up: the feeds' states then. */
  notUp?: Record<string, number>;
  storm?: StormFigures;
  loadStart: string;
  loadEnd: string;
}

/** Mean of the rounds' CPU (the rounds together span whole poll intervals), median loop p99, worst max. */
function summary(rounds: FarmRound[]): FarmRound {
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    cpuShare: mean(rounds.map((r) => r.cpuShare)),
    loopP99Ms: median(rounds.map((r) => r.loopP99Ms)),
    loopMaxMs: Math.max(...rounds.map((r) => r.loopMaxMs)),
    perSec: mean(rounds.map((r) => r.perSec)),
    simCpuShare: mean(rounds.map((r) => r.simCpuShare)),
  };
}

/** The most items of `times` (sorted) within any window of `ms`. */
function largestWindow(times: number[], ms: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= ms) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

function perSecond(times: number[], fromMs: number): number[] {
  const out: number[] = [];
  for (const t of times) {
    const s = Math.max(0, Math.floor((t - fromMs) / 1000));
    while (out.length <= s) out.push(0);
    out[s]++;
  }
  return out;
}

/** In this (fresh) process: FARM printers (Moonraker, printing) on SHARDS simulators, one App Connection and one status node each. */
export async function farm(arg: FarmArg): Promise<LiveFarmFigures> {
  const loadStart = load();
  const shards = Math.min(SHARDS, FARM);
  const sizes = Array.from({ length: shards }, (_, s) => Math.floor(FARM / shards) + (s < FARM % shards ? 1 : 0));
  const sims = await Promise.all(sizes.map((n) => SimProcess.start({ moonraker: n })));
  try {
    await Promise.all(sims.map((s) => s.startPrints(PRINT_S)));
    const conns: FarmConnection[] = [];
    for (const [s, sim] of sims.entries()) {
      const printers = Array.from({ length: sizes[s] }, (_, i) => i);
      for (const c of await sim.connections(sizes[s], printers)) conns.push({ keys: c.keys, serviceUrl: sim.info.serviceUrl });
    }
    const simCpuUs = async (): Promise<number> => (await Promise.all(sims.map((s) => s.cpuUs()))).reduce((a, b) => a + b, 0);
    const node =
      arg.mode === 'live' ? { mode: 'live', interval: LIVE_INTERVAL_S, readings: arg.readings ?? 'push' } : { mode: 'poll', interval: POLL_INTERVAL_S };
    const deployment = await deployFarm({ conns, node: () => node });
    const t0 = performance.now();
    let connectedMs: number | null = null;
    let notUp: Record<string, number> | undefined;
    if (arg.mode === 'live') {
      if (await waitFor(() => connectedCount(FARM) === FARM, 30_000)) connectedMs = performance.now() - t0;
      else notUp = stateCounts(FARM);
      // The first snapshots, the deploy's polls and detections settle.
      await sleep(3000);
    } else await sleep(POLL_INTERVAL_S * 1000);
    let errors = sinkCount('errors');
    const pushes = async (): Promise<number> => (await Promise.all(sims.map((s) => s.pushes()))).reduce((a, b) => a + b, 0);
    const p0 = await pushes();
    const w0 = performance.now();
    const rounds = summary(await measureRounds(FARM_ROUNDS, FARM_ROUND_MS, simCpuUs, 'live-farm'));
    const pushPerSec = ((await pushes()) - p0) / ((performance.now() - w0) / 1000);
    const mem = await memoryPerConn(deployment, FARM);
    errors += sinkCount('errors');
    const storm = arg.storm ? await relayStorm(sims) : undefined;
    await undeploy();
    return {
      printers: FARM,
      shards,
      deployMs: deployment.deployMs,
      connectedMs,
      cpuShare: rounds.cpuShare,
      loopP99Ms: rounds.loopP99Ms,
      loopMaxMs: rounds.loopMaxMs,
      msgPerSec: rounds.perSec,
      pushPerSec,
      simCpuShare: rounds.simCpuShare,
      ...mem,
      errors,
      notUp,
      storm,
      loadStart,
      loadEnd: load(),
    };
  } finally {
    await Promise.all(sims.map((s) => s.close()));
  }
}

/** Every shard's relay restarts at once; each feed's attempts and reconnects are stamped until all are back. */
async function relayStorm(sims: SimProcess[]): Promise<StormFigures> {
  const attempts: number[] = [];
  const back: number[] = [];
  const firstBack = new Map<number, number>();
  let armed = false;
  const unsubscribe: Array<() => void> = [];
  for (let i = 0; i < FARM; i++) {
    const feed = feedOf(`conn${i}`);
    if (!feed) continue;
    unsubscribe.push(
      feed.subscribe({
        state: (s) => {
          if (!armed) return;
          const t = wallMs();
          // connect() announces each attempt as `connecting` without an error; a failure carries one.
          if (s.status === 'connecting' && s.error === undefined) attempts.push(t);
          if (s.status === 'connected') {
            back.push(t);
            if (!firstBack.has(i)) firstBack.set(i, t);
          }
        },
        snapshot: () => undefined,
      }),
    );
  }
  armed = true;
  const restartMs = Math.min(...(await Promise.all(sims.map((s) => s.restartRelay(RESTART_MS)))));
  await waitFor(() => firstBack.size === FARM, STORM_MAX_MS, 100);
  const notBack = firstBack.size === FARM ? undefined : stateCounts(FARM);
  for (const off of unsubscribe) off();
  back.sort((a, b) => a - b);
  const seen = await Promise.all(sims.map((s) => s.upgrades()));
  const accepted = seen.flatMap((u) => u.accepted).sort((a, b) => a - b);
  const tried = seen.flatMap((u) => u.attempts).sort((a, b) => a - b);
  const last = Math.max(...firstBack.values());
  return {
    sockets: FARM,
    restartMs: RESTART_MS,
    perSecond: perSecond(accepted, restartMs),
    attemptsPerSecond: perSecond(tried, restartMs),
    largestBurst: largestWindow(accepted, 1000),
    largestAttemptBurst: largestWindow(tried, 1000),
    largestBurstSeen: largestWindow(back, 1000),
    clientAttempts: attempts.length,
    backWithinMs: firstBack.size === FARM ? last - restartMs : null,
    backCount: firstBack.size,
    backBy60s: [...firstBack.values()].filter((t) => t - restartMs <= 60_000).length,
    notBack,
  };
}

// ---- the section ----

async function inWorker<T>(fn: string, arg?: unknown): Promise<T> {
  const peer = new Peer(forkTs('worker.ts'));
  try {
    return await peer.call<T>('run', { bench: 'live', fn, arg });
  } finally {
    await peer.close();
  }
}

const ms = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? 'not measured' : `${fmt(v)} ms`);

export async function run(): Promise<Section> {
  const absent = missing(CONFIG_TYPE, TYPE);
  const section: Section = {
    id: 'live',
    title: '6. live: the status node on the printer’s push socket through the relay (issue 16)',
    rows: [],
    ratios: {},
    goals: [],
    notes: [],
    parts: [],
  };
  if (absent) {
    section.notes.push(absent);
    return section;
  }
  const lat = await inWorker<LatencyFigures>('latency');
  const liveFarm = await inWorker<LiveFarmFigures>('farm', { mode: 'live', readings: 'push', storm: true } satisfies FarmArg);
  const lightFarm = await inWorker<LiveFarmFigures>('farm', { mode: 'live', readings: 'interval', storm: false } satisfies FarmArg);
  const pollFarm = await inWorker<LiveFarmFigures>('farm', { mode: 'poll', storm: false } satisfies FarmArg);
  section.parts = [latencyPart(lat), farmPart(liveFarm, lightFarm, pollFarm), stormPart(liveFarm)];
  return section;
}

function latencyPart(f: LatencyFigures): Section {
  const row = (xs: number[], missed: number): Record<string, Figure> => ({
    'p50 ms': xs.length ? percentile(xs, 50) : null,
    'p99 ms': xs.length ? percentile(xs, 99) : null,
    'max ms': xs.length ? Math.max(...xs) : null,
    changes: xs.length,
    missed,
  });
  const liveP99 = f.live.length ? percentile(f.live, 99) : null;
  const pollP50 = f.poll.length ? percentile(f.poll, 50) : null;
  return {
    id: 'live-latency',
    title: `a. event latency: printer change → print-paused / print-resumed out of the status node, ${LATENCY_PRINTERS} Moonraker printers`,
    rows: [
      { peer: 'live (push socket through the relay)', figures: row(f.live, f.missedLive) },
      { peer: `poll every ${POLL_INTERVAL_S} s (the minimum)`, figures: row(f.poll, f.missedPoll) },
    ],
    ratios: { 'poll p50 / live p50': ratio(pollP50, f.live.length ? percentile(f.live, 50) : null) },
    goals: [
      goal(
        'live: p99 < 1 s',
        liveP99,
        (v) => v < 1000,
        (v) => `${fmt(v)} ms (${v < 1000 ? `${fmt(1000 - v)} ms under` : `${fmt(v - 1000)} ms over`})`,
      ),
      goal(
        `poll: p50 near interval/2 = ${(POLL_INTERVAL_S / 2).toFixed(0)} s (the expected, not a goal of ours)`,
        pollP50,
        (v) => Math.abs(v - (POLL_INTERVAL_S * 1000) / 2) < 1500,
        (v) => `${fmt(v / 1000)} s`,
      ),
    ],
    notes: [
      `Each printer has two App Connections: one with a status node in live mode (its fallback poll every ${LIVE_INTERVAL_S} s), one polling every ${POLL_INTERVAL_S} s; both in one Node-RED, the simulator in its own process.`,
      `The simulator pauses and resumes each printer ${CHANGES_EACH} times, ${CHANGE_SPACING_MS / 1000} s apart (more than the poll interval, so every change has a poll of its own), from a random phase; it stamps each change just before making it, a bench node stamps the event message on arrival, both with performance.timeOrigin + performance.now() (the wall clock, one machine).`,
      'A poll sees a change on its next poll: uniform over the interval, so its median is interval/2 and its p99 ≈ the interval. missed: changes without their event before the next change.',
      `Load average (1/5/15 min): ${f.loadStart} at the start, ${f.loadEnd} at the end.`,
    ],
  };
}

function farmPart(live: LiveFarmFigures, light: LiveFarmFigures, poll: LiveFarmFigures): Section {
  const figures = (f: LiveFarmFigures): Record<string, Figure> => ({
    'CPU % of a core': f.cpuShare * 100,
    'RSS KB/conn': f.rssPerConnKB,
    'heap KB/conn': f.heapPerConnKB,
    'loop p99 ms': f.loopP99Ms,
    'loop max ms': f.loopMaxMs,
    'pushes/s': f.pushPerSec,
    'CPU µs/push': f.pushPerSec > 0 ? (f.cpuShare * 1e6) / f.pushPerSec : null,
    'msg/s': f.msgPerSec,
    'sim CPU % of a core': f.simCpuShare * 100,
    'deploy ms': f.deployMs,
    errors: f.errors,
  });
  const cpu = light.cpuShare * 100;
  const perConn = Math.max(live.rssPerConnKB, light.rssPerConnKB);
  return {
    id: 'live-farm',
    title: `b. ${FARM.toLocaleString('en-US')} printers on one Node-RED: live vs polled every ${POLL_INTERVAL_S} s`,
    rows: [
      { peer: `live, readings as pushed (fallback poll every ${LIVE_INTERVAL_S} s)`, figures: figures(live) },
      { peer: `live, readings once per interval (${LIVE_INTERVAL_S} s; the farm setting)`, figures: figures(light) },
      { peer: `poll every ${POLL_INTERVAL_S} s`, figures: figures(poll) },
    ],
    ratios: {
      'CPU live (pushed readings) / poll': ratio(live.cpuShare, poll.cpuShare),
      'CPU live (readings once per interval) / poll': ratio(light.cpuShare, poll.cpuShare),
      'CPU live once per interval / as pushed': ratio(light.cpuShare, live.cpuShare),
      'RSS per connection live / poll': ratio(live.rssPerConnKB, poll.rssPerConnKB),
    },
    goals: [
      goal(
        'live, readings once per interval (the farm setting): < 5 % of a core',
        cpu,
        (v) => v < 5,
        (v) => `${fmt(v)} % (${v < 5 ? `${fmt(5 - v)} pt under` : `${fmt(v - 5)} pt over`})`,
      ),
      goal(
        'live: < 150 KB per connection (RSS growth, the larger of the two live rows)',
        perConn,
        (v) => v < 150,
        (v) =>
          `${fmt(v)} KB RSS, ${fmt(Math.max(live.heapPerConnKB, light.heapPerConnKB))} KB heap (${v < 150 ? `${fmt(150 - v)} KB under` : `${fmt(v - 150)} KB over`})`,
      ),
      goal(
        'live: event-loop delay p99 < 20 ms (as the farm; readings as pushed)',
        live.loopP99Ms,
        (v) => v < 20,
        (v) => `${fmt(v)} ms`,
      ),
    ],
    notes: [
      `Moonraker printers, all printing (a 6 h print) in ${live.shards} simulator process(es); one App Connection and one status node (output on change) each. The simulator's Moonraker pushes the changed fields every 250 ms; its print advances every 1 s, so a printing printer pushes once or twice a second: pushes/s is counted in the simulator, msg/s is the status messages out of the nodes (one per changed snapshot); msg/s above pushes/s means the process fell behind and drained a backlog in the window.`,
      `Readings: the status node's \`readings\`. As pushed, each status push of a printing printer is a status message; once per interval, the printers push only state changes (Moonraker subscribed to state, file, layers and targets) and each socket asks for the readings once per interval (${LIVE_INTERVAL_S} s) and with each state change (docs/benchmarks.md "Where a goal is missed" for what is left).`,
      `The live nodes keep their poller (${LIVE_INTERVAL_S} s, the node's default) as the fallback and for Gadget and Info; ${FARM_ROUNDS} rounds of ${FARM_ROUND_MS / 1000} s, so the window spans whole poll intervals of both: CPU is the mean of the rounds, loop p99 their median, max the worst. Warm-up: live until every socket is up (${ms(live.connectedMs)} after the deploy) + 3 s; poll one interval.`,
      'Memory: RSS and heap growth per connection from before the deploy (after a priming deploy and forced GCs) to after the rounds (forced GCs).',
      `Load average (1/5/15 min): live ${live.loadStart} → ${live.loadEnd}; once per interval ${light.loadStart} → ${light.loadEnd}; poll ${poll.loadStart} → ${poll.loadEnd}.`,
      ...(live.notUp ? [`Not every live socket was up 30 s after the deploy; their states then: ${JSON.stringify(live.notUp)}.`] : []),
    ],
  };
}

function stormPart(live: LiveFarmFigures): Section {
  const s = live.storm;
  const n = live.printers;
  const share = (v: number | undefined): Figure => (v === undefined ? null : (v / n) * 100);
  return {
    id: 'live-storm',
    title: `c. reconnect storm: the relay restarts under ${n.toLocaleString('en-US')} live sockets and refuses upgrades for ${RESTART_MS / 1000} s`,
    rows: [
      {
        peer: 'live sockets (jittered back-off)',
        figures: {
          sockets: s?.sockets ?? null,
          'all back within s': s?.backWithinMs === null || s === undefined ? null : s.backWithinMs / 1000,
          back: s?.backCount ?? null,
          'largest 1-s burst of reconnects %': share(s?.largestBurst),
          'largest 1-s burst of attempts %': share(s?.largestAttemptBurst),
          'largest 1-s burst seen by Node-RED %': share(s?.largestBurstSeen),
          attempts: s ? s.attemptsPerSecond.reduce((a, b) => a + b, 0) : null,
        },
      },
    ],
    ratios: {},
    goals: [
      goal(
        'every socket back within 60 s of the restart',
        s?.backWithinMs ?? null,
        (v) => v < 60_000,
        (v) => `${fmt(v / 1000)} s (${v < 60_000 ? `${fmt(60 - v / 1000)} s under` : `${fmt(v / 1000 - 60)} s over`})`,
      ),
      goal(
        'no 1-s burst of reconnects > 10 % of the sockets',
        share(s?.largestBurst),
        (v) => v <= 10,
        (v) => `${fmt(v)} % (${v <= 10 ? `${fmt(10 - v)} pt under` : `${fmt(v - 10)} pt over`})`,
      ),
    ],
    notes: [
      `sim.socketChaos.restartRelay(): every relayed socket closed (1012), upgrades answered 601 for ${RESTART_MS / 1000} s; the sockets' own back-off (src/client/live/backoff.ts: full jitter, first window 20 s, then 30 s) spreads them. Reconnects (upgrades relayed again) and attempts (every upgrade tried, refused ones too) are stamped in the simulator, bursts over any 1-s window (sliding); "seen by Node-RED" stamps the feeds' connected states in the Node-RED process, whose event loop may lag; "all back" is the last feed connected again.`,
      s ? `Reconnects per second after the restart: ${s.perSecond.join(' ')}.` : 'not measured',
      s ? `Attempts per second: ${s.attemptsPerSecond.join(' ')}.` : '',
      s?.notBack ? `Not back after ${STORM_MAX_MS / 1000} s; the sockets' states then: ${JSON.stringify(s.notBack)}.` : '',
      `Right after section b, in the same process and deployment (load average ${live.loadEnd} at its end).`,
    ].filter((x) => x !== ''),
  };
}
