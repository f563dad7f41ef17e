// 1. printer request: 16 messages in flight through `octoeverywhere-printer-request`, against the
// core http request node doing the same GET through the relay, the bare client without Node-RED,
// and Node's http on the wire. The simulator runs in its own process.
import http from 'node:http';
import { OctoEverywhereClient, transfer } from '../src/client';
import { localhostLookup } from '../src/simulator';
import { asyncLoop, measureLoop, type ClosedLoop, type LoopFigures } from './lib/loop';
import { coreNode, deploy, driverLoop, driverModule, loopFlow, missing, ourNode, undeploy, type NodeModule } from './lib/nodered';
import { appConnection, CONFIG_TYPE, coreRequest } from './lib/peers';
import { fmt, goal, ratio, type Figure, type Row, type Section } from './lib/report';
import { SimProcess } from './lib/sim';

const TYPE = 'octoeverywhere-printer-request';
const PATH = '/server/info';
const IN_FLIGHT = 16;

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
  const timed = async (loop: ClosedLoop): Promise<LoopFigures & { simCores: number }> => {
    const { result, simCores } = await sim.busy(() => measureLoop(loop));
    return { ...result, simCores };
  };
  try {
    const keys = await sim.connection(0);
    const conn = appConnection('conn', keys, sim.info.serviceUrl);

    // Ours, in the real runtime.
    const absent = missing(CONFIG_TYPE, TYPE);
    if (absent) rows.push({ peer: `${TYPE} (Node-RED)`, figures: figures(undefined), note: absent });
    else {
      const modules = [driverModule, ourNode(CONFIG_TYPE), ourNode(TYPE)] as NodeModule[];
      await deploy(modules, loopFlow({ id: 'req', type: TYPE, connection: 'conn', method: 'GET', path: PATH, ret: 'obj' }, [conn.node]), {
        conn: conn.credentials,
      });
      measured.ours = await timed(driverLoop('driver', IN_FLIGHT, () => ({ payload: '' })));
      await undeploy();
      rows.push({ peer: `${TYPE} (Node-RED)`, figures: figures(measured.ours) });
    }

    // Core http request, keep-alive agent on (persist) and off.
    for (const persist of [true, false]) {
      const core = coreRequest('req', keys, sim.info.port, PATH, { persist, ret: 'obj' });
      await deploy([driverModule, coreNode('network/21-httprequest.js')], loopFlow(core.node), { req: core.credentials });
      const f = await timed(driverLoop('driver', IN_FLIGHT, () => ({ payload: '' })));
      await undeploy();
      measured[persist ? 'corePersist' : 'core'] = f;
      rows.push({ peer: `core http request, persist ${persist ? 'on' : 'off'} (Node-RED)`, figures: figures(f) });
    }

    // The client without Node-RED: what the node calls, and the plain request() (axios).
    const client = new OctoEverywhereClient({ url: keys.url, authBearerToken: keys.authBearerToken, serviceUrl: sim.info.serviceUrl });
    try {
      measured.request = await timed(
        asyncLoop(IN_FLIGHT, async () => {
          const res = await client.connection.request({ path: PATH, responseType: 'json' });
          return res.statusCode === 200;
        }),
      );
      rows.push({ peer: 'client AppConnection.request (axios), no Node-RED', figures: figures(measured.request) });
      measured.transfer = await timed(
        asyncLoop(IN_FLIGHT, async () => {
          const res = await transfer(client.connection, { path: PATH });
          JSON.parse(res.body.toString('utf8'));
          return res.statusCode === 200;
        }),
      );
      rows.push({ peer: 'client transfer() (what the node calls), no Node-RED', figures: figures(measured.transfer) });
    } finally {
      await client.close();
    }

    // The wire: Node's http, keep-alive agent, same auth header, body read and parsed.
    const agent = new http.Agent({ keepAlive: true, lookup: localhostLookup } as http.AgentOptions);
    const target = new URL(keys.url);
    try {
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
      );
      rows.push({ peer: "Node's http, keep-alive agent (the wire)", figures: figures(measured.wire) });
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
    'client / wire (req/s)': ratio(measured.request?.perSec, measured.wire?.perSec),
    'ours CPU / client CPU per msg': overhead,
    'ours CPU / transfer() CPU per msg': ratio(ours?.cpuUsPerItem, measured.transfer?.cpuUsPerItem),
    'client CPU / wire CPU per req': ratio(measured.request?.cpuUsPerItem, measured.wire?.cpuUsPerItem),
  };
  if (ratios['client / wire (req/s)'] !== null && (ratios['client / wire (req/s)'] ?? 1) < 0.7) {
    notes.push(
      `axios keeps the client well below the wire: ${fmt(measured.request?.perSec ?? 0)} vs ${fmt(measured.wire?.perSec ?? 0)} req/s, ` +
        `${fmt(measured.request?.cpuUsPerItem ?? 0)} vs ${fmt(measured.wire?.cpuUsPerItem ?? 0)} CPU µs per request.`,
    );
  }
  notes.push(
    `GET ${PATH} on the Moonraker printer through the relay, ${IN_FLIGHT} in flight; JSON parsed by every party.`,
    'sim cores: CPU the simulator process used meanwhile (warm-up included), in cores; near 1 means the simulator sets the pace.',
  );
  return {
    id: 'printer-request',
    title: '1. printer request: 16 messages in flight',
    rows,
    ratios,
    goals: [
      goal(
        'msg/s ≥ 2× the core http request node at its best',
        ratios['ours / best core (msg/s)'],
        (v) => v >= 2,
        (v) => `${fmt(v)}×`,
      ),
      goal(
        'Node-RED + our node add ≤ 50 % CPU over the bare client',
        overhead,
        (v) => v <= 1.5,
        (v) => `+${fmt((v - 1) * 100, 0)} %`,
      ),
    ],
    notes,
  };
}
