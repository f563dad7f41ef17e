// 4. webhook intake: deliveries per second into `octoeverywhere-notification-webhook` (token in the
// query, JSON validated) against the core flow http in → json → function (same checks) → http
// response; and p99 latency at a steady 500 deliveries/s. autocannon runs in its own process.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateWebhookToken } from '../src/client/webhook-intake';
import { LoadGenerator, type LoadOptions, type LoadResult } from './lib/load';
import { coreNode, deploy, httpNodeProbe, missing, onTab, ourNode, undeploy, type FlowNode, type NodeModule } from './lib/nodered';
import { fmt, goal, ratio, type Figure, type Row, type Section } from './lib/report';
import { cpuSince, median, ROUNDS, ROUND_MS, WARMUP_MS } from './lib/stats';

const TYPE = 'octoeverywhere-notification-webhook';
const PATH = '/octoeverywhere/hook';
const CONNECTIONS = 10;
const STEADY_RATE = 500;

/** A Print Progress delivery in the documented shape (fixtures/production-samples.json). */
const DELIVERY = JSON.stringify({
  PrinterId: 'Q3H8K2M9P4R7T1W6Y0Z5A8C3E6G9J2L5N8Q1S4U7X0B3D6F9H2K5M8P1R4T7',
  PrintId: 'p-20261124-1',
  EventType: 6,
  PrinterName: 'Voron 2.4',
  SnapshotUrl: 'https://octoeverywhere.com/snapshot/abc',
  QuickViewUrl: 'https://octoeverywhere.com/quickview/abc',
  FileName: 'benchy.gcode',
  DurationSec: 1800,
  Progress: 30,
  TimeRemainingSec: 4200,
  ZOffsetMM: 12,
  CurrentLayer: 60,
  TotalLayers: 200,
});

/** The user's function node for the core flow: the same token check and minimal delivery validation. */
function coreCheck(token: string): string {
  return `
const b = msg.payload;
if (msg.req.query.token !== ${JSON.stringify(token)}) { msg.statusCode = 401; msg.payload = 'unauthorized'; return msg; }
if (!b || typeof b !== 'object' || Array.isArray(b) || typeof b.PrinterId !== 'string' || !Number.isInteger(b.EventType)) {
  msg.statusCode = 400; msg.payload = 'invalid delivery'; return msg;
}
msg.event = b;
msg.statusCode = 200; msg.payload = 'OK'; return msg;`;
}

interface Figures {
  perSec: number;
  p50: number;
  p99: number;
  cpuUs: number;
  bad: number;
}

/** Rounds of autocannon against the server in this process; this process's CPU per delivery. */
async function measure(load: LoadGenerator, options: Omit<LoadOptions, 'durationSec'>): Promise<Figures> {
  await load.run({ ...options, durationSec: Math.max(1, Math.round(WARMUP_MS / 1000)) });
  const rounds: Array<LoadResult & { cpuUs: number }> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const cpu0 = process.cpuUsage();
    const r = await load.run({ ...options, durationSec: Math.max(1, Math.round(ROUND_MS / 1000)) });
    rounds.push({ ...r, cpuUs: cpuSince(cpu0) / Math.max(1, r.total) });
  }
  return {
    perSec: median(rounds.map((r) => r.requestsPerSec)),
    p50: median(rounds.map((r) => r.latencyP50Ms)),
    p99: median(rounds.map((r) => r.latencyP99Ms)),
    cpuUs: median(rounds.map((r) => r.cpuUs)),
    bad: rounds.reduce((s, r) => s + r.non2xx + r.errors + r.timeouts, 0),
  };
}

/** Serves RED.httpNode on 127.0.0.1 as Node-RED's own server would, for one flow. */
async function withFlow<T>(modules: NodeModule[], flow: FlowNode[], credentials: Record<string, unknown>, body: (url: string) => Promise<T>): Promise<T> {
  const probe = httpNodeProbe();
  await deploy([probe.module, ...modules], flow, credentials);
  const server = http.createServer(probe.app());
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await undeploy();
  }
}

function figures(f: Figures | undefined, steady: Figures | undefined): Record<string, Figure> {
  return {
    'deliveries/s': f?.perSec ?? null,
    'p50 ms': f?.p50 ?? null,
    'p99 ms': f?.p99 ?? null,
    'CPU µs/delivery': f?.cpuUs ?? null,
    [`p99 ms @${STEADY_RATE}/s`]: steady?.p99 ?? null,
    'non-2xx/errors': f && steady ? f.bad + steady.bad : null,
  };
}

export async function run(): Promise<Section> {
  const token = generateWebhookToken();
  const load = new LoadGenerator();
  const rows: Row[] = [];
  const max: Record<string, Figures | undefined> = {};
  const steady: Record<string, Figures | undefined> = {};
  const request = (base: string): Omit<LoadOptions, 'durationSec'> => ({
    url: `${base}${PATH}?token=${encodeURIComponent(token)}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: DELIVERY,
    connections: CONNECTIONS,
  });
  try {
    const absent = missing(TYPE);
    if (absent) rows.push({ peer: `${TYPE} (Node-RED)`, figures: figures(undefined, undefined), note: absent });
    else {
      // User-webhook mode: the LAN intake without registration at the service (which App Connection mode adds once at deploy).
      const flow = onTab([{ id: 'hook', type: TYPE, mode: 'user', path: PATH, events: [], dedupe: false, wires: [[]] }]);
      await withFlow([ourNode(TYPE) as NodeModule], flow, { hook: { token } }, async (base) => {
        max.ours = await measure(load, request(base));
        steady.ours = await measure(load, { ...request(base), overallRate: STEADY_RATE });
      });
      rows.push({ peer: `${TYPE} (Node-RED)`, figures: figures(max.ours, steady.ours) });
    }
    const coreFlow = onTab([
      { id: 'in', type: 'http in', url: PATH, method: 'post', upload: false, swaggerDoc: '', wires: [['json']] },
      { id: 'json', type: 'json', action: 'obj', property: 'payload', pretty: false, wires: [['check']] },
      { id: 'check', type: 'function', func: coreCheck(token), outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['out']] },
      { id: 'out', type: 'http response', statusCode: '', headers: {}, wires: [] },
    ]);
    const coreModules = [coreNode('network/21-httpin.js'), coreNode('parsers/70-JSON.js'), coreNode('function/10-function.js')];
    await withFlow(coreModules, coreFlow, {}, async (base) => {
      max.core = await measure(load, request(base));
      steady.core = await measure(load, { ...request(base), overallRate: STEADY_RATE });
    });
    rows.push({ peer: 'core http in → json → function → http response (Node-RED)', figures: figures(max.core, steady.core) });
  } finally {
    await load.close();
  }
  const ratios = {
    'ours / core (deliveries/s)': ratio(max.ours?.perSec, max.core?.perSec),
    'ours / core (CPU per delivery)': ratio(max.ours?.cpuUs, max.core?.cpuUs),
  };
  return {
    id: 'webhook',
    title: '4. webhook intake: Print Progress deliveries, token in the query',
    rows,
    ratios,
    goals: [
      goal(
        'deliveries/s ≥ 1.5× the core flow',
        ratios['ours / core (deliveries/s)'],
        (v) => v >= 1.5,
        (v) => `${fmt(v)}×`,
      ),
      goal(
        `p99 < 10 ms at ${STEADY_RATE} deliveries/s`,
        steady.ours?.p99 ?? null,
        (v) => v < 10,
        (v) => `${fmt(v)} ms`,
      ),
    ],
    notes: [
      `autocannon (own process), ${CONNECTIONS} keep-alive connections, POST of a ${DELIVERY.length}-byte JSON body; max rate, then a steady ${STEADY_RATE}/s (overallRate). autocannon reports latency in whole ms.`,
      "RED.httpNode (the runtime's express app the nodes add their routes to) is served by a plain http.Server on 127.0.0.1, as Node-RED's server does at httpNodeRoot '/'.",
      'Our node runs in user-webhook mode (no registration at the service); its output is not wired, the core flow sends its answer through http response.',
    ],
  };
}
