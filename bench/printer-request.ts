// 1. printer request: 16 messages in flight through `octoeverywhere-printer-request`, against the
// core http request node doing the same GET through the relay, the bare client without Node-RED,
// and Node's http on the wire. The simulator runs in its own process.
import http from 'node:http';
import type * as Client from '../src/client';
import { localhostLookup } from '../src/simulator';
import { asyncLoop, measureTurns, type ClosedLoop, type LoopFigures } from './lib/loop';
import { coreNode, deploy, driverLoop, driverModule, loopFlow, missing, onTab, ourNode, undeploy, type FlowNode, type NodeModule } from './lib/nodered';
import { profiled } from './lib/profile';
import { appConnection, CONFIG_TYPE, coreRequest } from './lib/peers';
import { bound, fmt, ratio, type Figure, type Row, type Section } from './lib/report';
import { SimProcess } from './lib/sim';

const TYPE = 'octoeverywhere-printer-request';
const PATH = '/server/info';
const IN_FLIGHT = 16;
// The compiled client, as the node uses it (bench/lib/nodered.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- dist/, typed by its source
const { OctoEverywhereClient, transfer } = require('../dist/client') as typeof Client;
/** BENCH_PEERS=ours,wire measures only those parties (ours, core, client, wire): a CPU profile of one of them. */
const PEERS = process.env.BENCH_PEERS?.split(',').map((p) => p.trim());
const want = (peer: 'ours' | 'core' | 'client' | 'wire'): boolean => !PEERS || PEERS.includes(peer);

function figures(f: (LoopFigures & { simCores?: number }) | undefined): Record<string, Figure> {
  return {
    'sim cores': f?.simCores ?? null,
    'msg/s': f?.perSec ?? null,
    'p50 ms': f?.p50Ms ?? null,
    'p99 ms': f?.p99Ms ?? null,
    'CPU µs/msg': f?.cpuUsPerItem ?? null,
    errors: f?.errors ?? null,
  };
}

/** A node of loopFlow() named for its party: driver-<id>, catch-<id>, so several loops share one flow. */
function renamed(node: FlowNode, id: string): FlowNode {
  const name = (n: string): string => (n === 'driver' || n === 'catch' ? `${n}-${id}` : n);
  const wires = Array.isArray(node.wires) ? (node.wires as string[][]).map((out) => out.map(name)) : node.wires;
  return { ...node, id: name(node.id), wires };
}

interface Party {
  key: 'ours' | 'corePersist' | 'core' | 'request' | 'transfer' | 'wire';
  peer: string;
  loop: ClosedLoop;
}

export async function run(): Promise<Section> {
  const sim = await SimProcess.start();
  const rows: Row[] = [];
  const notes: string[] = [];
  const measured: Record<string, (LoopFigures & { simCores: number }) | undefined> = {};
  let bareClient: Client.OctoEverywhereClient | undefined;
  const agent = new http.Agent({ keepAlive: true, lookup: localhostLookup } as http.AgentOptions);
  let deployed = false;
  try {
    const keys = await sim.connection(0);
    const conn = appConnection('conn', keys, sim.info.serviceUrl);
    const parties: Party[] = [];

    // The Node-RED parties in one flow, each fed by its own driver: ours, and the core http request
    // node with its keep-alive agent on (persist) and off.
    const flow: FlowNode[] = [];
    const credentials: Record<string, unknown> = { conn: conn.credentials };
    const modules: NodeModule[] = [driverModule];
    const absent = missing(CONFIG_TYPE, TYPE);
    // node-red-node-test-helper registers the catch node's type once per catch node in a flow (and
    // then fails): only the first loop keeps its Catch; the core node sends its errors on anyway.
    const loop = (measuredNode: FlowNode): void => {
      const hasCatch = flow.some((n) => n.type === 'catch');
      flow.push(
        ...loopFlow(measuredNode)
          .filter((n) => n.type !== 'tab' && !(hasCatch && n.type === 'catch'))
          .map((n) => renamed(n, measuredNode.id)),
      );
    };
    if (want('ours')) {
      if (absent) rows.push({ peer: `${TYPE} (Node-RED)`, figures: figures(undefined), note: absent });
      else {
        modules.push(ourNode(CONFIG_TYPE) as NodeModule, ourNode(TYPE) as NodeModule);
        loop({ id: 'ours', type: TYPE, connection: 'conn', method: 'GET', path: PATH, ret: 'obj' });
      }
    }
    if (want('core')) {
      modules.push(coreNode('network/21-httprequest.js'));
      for (const persist of [true, false]) {
        const core = coreRequest(persist ? 'corePersist' : 'core', keys, sim.info.port, PATH, { persist, ret: 'obj' });
        credentials[core.node.id] = core.credentials;
        loop(core.node);
      }
    }
    if (flow.length) {
      await deploy(modules, onTab(flow, flow.some((n) => n.id === 'ours') ? [conn.node] : []), credentials);
      deployed = true;
      const make = (): { payload: string } => ({ payload: '' });
      if (flow.some((n) => n.id === 'ours')) parties.push({ key: 'ours', peer: `${TYPE} (Node-RED)`, loop: driverLoop('driver-ours', IN_FLIGHT, make) });
      for (const persist of want('core') ? [true, false] : []) {
        const key = persist ? 'corePersist' : 'core';
        parties.push({ key, peer: `core http request, persist ${persist ? 'on' : 'off'} (Node-RED)`, loop: driverLoop(`driver-${key}`, IN_FLIGHT, make) });
      }
    }

    // The client without Node-RED: what the node calls, and the plain request().
    const bare = new OctoEverywhereClient({ url: keys.url, authBearerToken: keys.authBearerToken, serviceUrl: sim.info.serviceUrl });
    bareClient = bare;
    if (want('client')) {
      parties.push({
        key: 'request',
        peer: 'client AppConnection.request (the fast path), no Node-RED',
        loop: asyncLoop(IN_FLIGHT, async () => {
          const res = await bare.connection.request({ path: PATH, responseType: 'json' });
          return res.statusCode === 200;
        }),
      });
      parties.push({
        key: 'transfer',
        peer: 'client transfer() (what the node calls), no Node-RED',
        loop: asyncLoop(IN_FLIGHT, async () => {
          const res = await transfer(bare.connection, { path: PATH });
          JSON.parse(res.body.toString('utf8'));
          return res.statusCode === 200;
        }),
      });
    }

    // The wire: Node's http, keep-alive agent, same auth header, body read and parsed.
    const target = new URL(keys.url);
    if (want('wire')) {
      parties.push({
        key: 'wire',
        peer: "Node's http, keep-alive agent (the wire)",
        loop: asyncLoop(
          IN_FLIGHT,
          () =>
            new Promise<boolean>((resolve, reject) => {
              const req = http.get(
                { agent, hostname: target.hostname, port: target.port, path: PATH, headers: { Authorization: `Bearer ${keys.authBearerToken}` } },
                (res) => {
                  const chunks: Buffer[] = [];
                  res.on('data', (c: Buffer) => chunks.push(c));
                  res.on('end', () => {
                    JSON.parse(Buffer.concat(chunks).toString('utf8'));
                    resolve(res.statusCode === 200);
                  });
                  res.on('error', reject);
                },
              );
              req.on('error', reject);
            }),
        ),
      });
    }

    // Every party takes its turn in short slices within each round, so that load on a shared machine
    // lands on all of them alike (measured one after the other, a party could get a quiet minute and
    // the next a busy one).
    const figuresByKey = await profiled('printer-request', () =>
      measureTurns(
        parties.map((p) => ({ name: p.key, loop: p.loop })),
        () => sim.cpuUs(),
      ),
    );
    for (const p of parties) {
      measured[p.key] = figuresByKey[p.key];
      rows.push({ peer: p.peer, figures: figures(measured[p.key]) });
    }
  } finally {
    if (deployed) await undeploy();
    agent.destroy();
    await bareClient?.close();
    await sim.close();
  }

  const bestCore = Math.max(measured.corePersist?.perSec ?? 0, measured.core?.perSec ?? 0) || null;
  const ours = measured.ours;
  const overhead = ratio(ours?.cpuUsPerItem, measured.request?.cpuUsPerItem);
  const ratios = {
    'ours / best core (msg/s)': ratio(ours?.perSec, bestCore),
    'ours / wire (msg/s)': ratio(ours?.perSec, measured.wire?.perSec),
    'ours CPU / wire CPU per msg': ratio(ours?.cpuUsPerItem, measured.wire?.cpuUsPerItem),
    'client / wire (req/s)': ratio(measured.request?.perSec, measured.wire?.perSec),
    'ours CPU / client CPU per msg': overhead,
    'ours CPU / transfer() CPU per msg': ratio(ours?.cpuUsPerItem, measured.transfer?.cpuUsPerItem),
    'client CPU / wire CPU per req': ratio(measured.request?.cpuUsPerItem, measured.wire?.cpuUsPerItem),
  };
  const times = (v: number): string => `${fmt(v)}×`;
  notes.push(
    `GET ${PATH} on the Moonraker printer through the relay, ${IN_FLIGHT} in flight; JSON parsed by every party.`,
    'Ours and the client from dist/ (compiled by tsc, as Node-RED loads them); the core node from @node-red/nodes.',
    "sim cores: CPU the simulator process used meanwhile (warm-up included), in cores; near 1 means the simulator sets the pace (then msg/s of the faster parties is the simulator's, and CPU per message is the figure to compare).",
  );
  return {
    id: 'printer-request',
    title: '1. printer request: 16 messages in flight',
    rows,
    ratios,
    goals: [
      bound('msg/s ≥ 2× the core http request node at its best', ratios['ours / best core (msg/s)'], 2, 'at least', times),
      bound("msg/s ≥ 0.8× the wire's", ratios['ours / wire (msg/s)'], 0.8, 'at least', times),
      bound("CPU per message ≤ 1.3× the wire's", ratios['ours CPU / wire CPU per msg'], 1.3, 'at most', times),
      bound('Node-RED + our node add ≤ 50 % CPU over the bare client', overhead, 1.5, 'at most', times),
    ],
    notes,
  };
}
