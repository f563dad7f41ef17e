// 2. webcam snapshot: ~200 KB JPEGs through `octoeverywhere-webcam-snapshot`, against the core
// http request node returning a binary buffer and Node's http on the wire; snapshots per second
// and the bytes JavaScript copies per snapshot.
import http from 'node:http';
import type { NodeMessageInFlow } from 'node-red';
import { localhostLookup } from '../src/simulator';
import { countCopies, type CopyTally } from './lib/copies';
import { asyncLoop, measureLoop, runFor, type ClosedLoop, type LoopFigures } from './lib/loop';
import { coreNode, deploy, driverLoop, driverModule, loopFlow, missing, ourNode, undeploy, type NodeModule } from './lib/nodered';
import { appConnection, CONFIG_TYPE, coreRequest } from './lib/peers';
import { fmt, goal, ratio, type Figure, type Row, type Section } from './lib/report';
import { SimProcess } from './lib/sim';

const TYPE = 'octoeverywhere-webcam-snapshot';
const PATH = '/octoeverywhere-command-api/webcam/snapshot?index=0';
const IN_FLIGHT = 16;
/** Snapshots taken while copies are counted. */
const COUNTED = 200;

const isJpeg = (b: unknown): boolean => Buffer.isBuffer(b) && b.length > 100_000 && b[0] === 0xff && b[1] === 0xd8;
const checkPayload = (msg: NodeMessageInFlow): boolean => isJpeg(msg.payload);

interface Measured {
  loop: LoopFigures;
  simCores: number;
  copies: CopyTally & { per: number };
}

function figures(m: Measured | undefined, jpegBytes: number): Record<string, Figure> {
  return {
    'snapshots/s': m?.loop.perSec ?? null,
    'MB/s': m ? (m.loop.perSec * jpegBytes) / 1e6 : null,
    'p50 ms': m?.loop.p50Ms ?? null,
    'p99 ms': m?.loop.p99Ms ?? null,
    'CPU µs/snapshot': m?.loop.cpuUsPerItem ?? null,
    'copies/snapshot': m ? m.copies.copiedBytes / m.copies.per / jpegBytes : null,
    'allocated B/snapshot': m ? m.copies.allocatedBytes / m.copies.per : null,
    'sim cores': m?.simCores ?? null,
    errors: m?.loop.errors ?? null,
  };
}

async function measure(sim: SimProcess, makeLoop: () => ClosedLoop): Promise<Measured> {
  const { result, tally } = await countCopies(() => runFor(makeLoop(), COUNTED));
  const { result: loop, simCores } = await sim.busy(() => measureLoop(makeLoop()));
  return { loop, simCores, copies: { ...tally, per: result.completed } };
}

export async function run(): Promise<Section> {
  const sim = await SimProcess.start();
  const rows: Row[] = [];
  const m: Record<string, Measured | undefined> = {};
  let jpegBytes: number;
  try {
    const keys = await sim.connection(0);
    const target = new URL(keys.url);
    const agent = new http.Agent({ keepAlive: true, lookup: localhostLookup } as http.AgentOptions);
    const wireGet = (): Promise<Buffer> =>
      new Promise((resolve, reject) => {
        const req = http.get(
          { agent, hostname: target.hostname, port: target.port, path: PATH, headers: { Authorization: `Bearer ${keys.authBearerToken}` } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(Buffer.concat(chunks)));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
      });
    try {
      jpegBytes = (await wireGet()).length;
      const conn = appConnection('conn', keys, sim.info.serviceUrl);
      const absent = missing(CONFIG_TYPE, TYPE);
      if (absent) rows.push({ peer: `${TYPE} (Node-RED)`, figures: figures(undefined, jpegBytes), note: absent });
      else {
        await deploy(
          [driverModule, ourNode(CONFIG_TYPE), ourNode(TYPE)] as NodeModule[],
          loopFlow({ id: 'cam', type: TYPE, connection: 'conn', webcam: '', mode: 'snapshot' }, [conn.node]),
          { conn: conn.credentials },
        );
        m.ours = await measure(sim, () => driverLoop('driver', IN_FLIGHT, () => ({ payload: '' }), checkPayload));
        await undeploy();
        rows.push({ peer: `${TYPE} (Node-RED)`, figures: figures(m.ours, jpegBytes) });
      }
      for (const persist of [true, false]) {
        const core = coreRequest('cam', keys, sim.info.port, PATH, { persist, ret: 'bin' });
        await deploy([driverModule, coreNode('network/21-httprequest.js')], loopFlow(core.node), { cam: core.credentials });
        const f = await measure(sim, () => driverLoop('driver', IN_FLIGHT, () => ({ payload: '' }), checkPayload));
        await undeploy();
        m[persist ? 'corePersist' : 'core'] = f;
        rows.push({ peer: `core http request → binary buffer, persist ${persist ? 'on' : 'off'} (Node-RED)`, figures: figures(f, jpegBytes) });
      }
      m.wire = await measure(sim, () => asyncLoop(IN_FLIGHT, async () => isJpeg(await wireGet())));
      rows.push({ peer: "Node's http, keep-alive agent, chunks + one Buffer.concat (the wire)", figures: figures(m.wire, jpegBytes) });
    } finally {
      agent.destroy();
    }
  } finally {
    await sim.close();
  }
  const best = [m.corePersist, m.core].filter((x): x is Measured => x !== undefined).sort((a, b) => b.loop.perSec - a.loop.perSec)[0];
  const oursCopies = m.ours ? m.ours.copies.copiedBytes / m.ours.copies.per / jpegBytes : null;
  const wireCopies = m.wire ? m.wire.copies.copiedBytes / m.wire.copies.per / jpegBytes : null;
  const ratios = {
    'ours / best core (snapshots/s)': ratio(m.ours?.loop.perSec, best?.loop.perSec),
    'ours / wire (snapshots/s)': ratio(m.ours?.loop.perSec, m.wire?.loop.perSec),
    'ours CPU / best core CPU per snapshot': ratio(m.ours?.loop.cpuUsPerItem, best?.loop.cpuUsPerItem),
  };
  return {
    id: 'webcam-snapshot',
    title: `2. webcam snapshot: ${jpegBytes}-byte JPEG, ${IN_FLIGHT} in flight`,
    rows,
    ratios,
    goals: [
      goal(
        'snapshots/s ≥ 1.0× the core http request node (binary buffer)',
        ratios['ours / best core (snapshots/s)'],
        (v) => v >= 1,
        (v) => `${fmt(v)}×`,
      ),
      goal(
        'no extra copy (no more JS copies per snapshot than the wire’s one Buffer.concat)',
        oursCopies === null || wireCopies === null ? null : oursCopies - wireCopies,
        (v) => v <= 0.01,
        (v) => `${fmt(oursCopies ?? 0, 2)} copies/snapshot vs the wire’s ${fmt(wireCopies ?? 0, 2)} (${v <= 0.01 ? 'no' : fmt(v, 2)} extra)`,
      ),
    ],
    notes: [
      `GET ${PATH} through the relay (the command API snapshot the node uses; LARGE_FRAME_WEBCAM, a still frame encoded once).`,
      `Copies counted over ${COUNTED} snapshots with Buffer.concat / buf.copy / Buffer.from(bytes) / Buffer.alloc* patched (bench/lib/copies.ts), ` +
        'then timed unpatched. Socket reads land in buffers Node allocates natively and are not counted; ' +
        'reading a body that arrives in several socket chunks into one Buffer takes one copy, which is the floor (the wire row).',
      'sim cores: CPU the simulator process used during the timed rounds, in cores; near 1 means its one core, not the client, sets the pace.',
    ],
  };
}
