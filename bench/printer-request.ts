// 1. printer request: 16 messages in flight through `octoeverywhere-printer-request`, against the
// core http request node doing the same GET through the relay, the bare client without Node-RED,
// and Node's http on the wire. The simulator runs in its own process.
import http from 'node:http';
import type * as Client from '../src/client';
import { localhostLookup } from '../src/simulator';
import { asyncLoop, measureLoop, type ClosedLoop, type LoopFigures } from './lib/loop';
import { coreNode, deploy, driverLoop, driverModule, loopFlow, missing, ourNode, undeploy, type NodeModule } from './lib/nodered';
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

export async function run(): Promise<Section> {
  const sim = await SimProcess.start();
  const rows: Row[] = [];
  const notes: string[] = [];
  const measured: Record<string, (LoopFigures & { simCores: number }) | undefined> = {};
  const timed = async (loop: ClosedLoop, label: string): Promise<LoopFigures & { simCores: number }> => {
    const { result, simCores } = await sim.busy(() => measureLoop(loop, `printer-request-${label}`));
    return { ...result, simCores };
  };
  try {
    const keys = await sim.connection(0);
    const conn = appConnection('conn', keys, sim.info.serviceUrl);

    // Ours, in the real runtime.
    const absent = missing(CONFIG_TYPE, TYPE);
    if (!want('ours')) {
      // not asked for
    } else if (absent) rows.push({ peer: `${TYPE} (Node-RED)`, figures: figures(undefined), note: absent });
    else {
      const modules = [driverModule, ourNode(CONFIG_TYPE), ourNode(TYPE)] as NodeModule[];
      await deploy(modules, loopFlow({ id: 'req', type: TYPE, connection: 'conn', method: 'GET', path: PATH, ret: 'obj' }, [conn.node]), {
        conn: conn.credentials,
      });
      measured.ours = await timed(
        driverLoop('driver', IN_FLIGHT, () => ({ payload: '' })),
        'ours',
      );
      await undeploy();
      rows.push({ peer: `${TYPE} (Node-RED)`, figures: figures(measured.ours) });
    }

    // Core http request, keep-alive agent on (persist) and off.
    for (const persist of want('core') ? [true, false] : []) {
      const core = coreRequest('req', keys, sim.info.port, PATH, { persist, ret: 'obj' });
      await deploy([driverModule, coreNode('network/21-httprequest.js')], loopFlow(core.node), { req: core.credentials });
      const f = await timed(
        driverLoop('driver', IN_FLIGHT, () => ({ payload: '' })),
        persist ? 'core-persist' : 'core',
      );
      await undeploy();
      measured[persist ? 'corePersist' : 'core'] = f;
      rows.push({ peer: `core http request, persist ${persist ? 'on' : 'off'} (Node-RED)`, figures: figures(f) });
    }

    // The client without Node-RED: what the node calls, and the plain request().
    const client = new OctoEverywhereClient({ url: keys.url, authBearerToken: keys.authBearerToken, serviceUrl: sim.info.serviceUrl });
    try {
      if (want('client')) {
        measured.request = await timed(
          asyncLoop(IN_FLIGHT, async () => {
            const res = await client.connection.request({ path: PATH, responseType: 'json' });
            return res.statusCode === 200;
          }),
          'request',
        );
        rows.push({ peer: 'client AppConnection.request (the fast path), no Node-RED', figures: figures(measured.request) });
        measured.transfer = await timed(
          asyncLoop(IN_FLIGHT, async () => {
            const res = await transfer(client.connection, { path: PATH });
            JSON.parse(res.body.toString('utf8'));
            return res.statusCode === 200;
          }),
          'transfer',
        );
        rows.push({ peer: 'client transfer() (what the node calls), no Node-RED', figures: figures(measured.transfer) });
      }
    } finally {
      await client.close();
    }

    // The wire: Node's http, keep-alive agent, same auth header, body read and parsed.
    const agent = new http.Agent({ keepAlive: true, lookup: localhostLookup } as http.AgentOptions);
    const target = new URL(keys.url);
    try {
      if (want('wire')) {
        measured.wire = await timed(
          asyncLoop(
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
          'wire',
        );
        rows.push({ peer: "Node's http, keep-alive agent (the wire)", figures: figures(measured.wire) });
      }
    } finally {
      agent.destroy();
    }
  } finally {
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
