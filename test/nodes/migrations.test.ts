// Issue 15.7: every node type reads its saved config through its list in resources/migrations.js.
// The registry against the editor's defaults, each type's first shape (no `version`) and a newer
// release's config, then each type loaded in the real runtime from a flow saved before versions,
// working against the simulator. The editor side is test/e2e/editor-migrations.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { NodeAPI, NodeInitializer, NodeMessage } from 'node-red';
import { coreNode, helper, nodeModule } from '../helpers/nodes';
import { appConnectionCredentials, type ClockedSimulator, credentialsOf, startClockedSimulator } from '../helpers/simulator';
import { configVersion, currentVersion, migrate, MIGRATIONS } from '../../src/nodes/shared/migrations';
import type { AppConnectionNode, GadgetApiNode } from '../../src/nodes/shared/types';
import { until } from '../client/live-helpers';
import mqtt, { type MqttClient } from 'mqtt';
import type { Simulator } from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import { BROKER_REQUIRED, type Broker, brokerConfig, mosquittoPath, startMosquitto } from '../helpers/mosquitto';

const ROOT = path.resolve(__dirname, '..', '..');
/** The shared file itself, to watch which configs the runtime reads through it. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the plain .js file the runtime and the editor share
const shared = require(path.join(ROOT, 'resources', 'migrations.js')) as {
  migrate(type: string, config: Record<string, unknown>): Record<string, unknown>;
  STEPS: Record<string, Array<{ to: number; up(c: Record<string, unknown>): Record<string, unknown> }>>;
};
const TYPES = Object.keys(
  (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red'].nodes,
);
const STATUS = 'octoeverywhere-status-poll';

/** What nodes/<type>.html gives a new node: its `defaults` literal's `version` and `mode` values. */
function editorDefault(type: string, key: string): string | undefined {
  const html = fs.readFileSync(path.join(ROOT, 'nodes', `${type}.html`), 'utf8');
  return new RegExp(`\\n\\s+${key}: \\{ value: ([^ ,}]+)`).exec(html)?.[1];
}

/** A flow as saved before nodes carried `version`. */
function firstShape(flow: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return flow.map(({ version: _version, ...rest }) => rest);
}

const original = shared.migrate;
/**
 * From now until `shared.migrate = original`: `type:id` of every config a node reads through its
 * migration list, with the version it got.
 */
function watchMigrations(): Map<string, unknown> {
  const read = new Map<string, unknown>();
  shared.migrate = (type, config) => {
    const out = original(type, config);
    read.set(`${type}:${String(config.id)}`, out.version);
    return out;
  };
  return read;
}

describe('migrations: every node type', () => {
  describe('the one registry', () => {
    it('has a list for every node type, and its current version is the version a new node gets in the editor', () => {
      assert.deepEqual(Object.keys(MIGRATIONS).sort(), [...TYPES].sort());
      for (const type of TYPES) assert.equal(editorDefault(type, 'version'), String(currentVersion(type)), `${type}: nodes/${type}.html version default`);
      assert.equal(currentVersion(STATUS), 2);
      assert.equal(editorDefault(STATUS, 'mode'), "'auto'", 'a new status node gets mode auto (issue 16)');
      assert.throws(() => migrate('octoeverywhere-unknown', {}), /no migration list for node type octoeverywhere-unknown/);
    });

    for (const type of TYPES) {
      it(`${type}: a config saved without version reads as the current version; one from a newer release is left alone`, () => {
        const saved = { id: 'n1', type, name: 'old', z: 'f1' };
        const read = migrate(type, saved);
        assert.equal(read.version, currentVersion(type));
        assert.equal(configVersion(read), currentVersion(type));
        assert.equal(read.name, 'old');
        assert.deepEqual(saved, { id: 'n1', type, name: 'old', z: 'f1' }, 'the saved object is not changed');
        const newer = { id: 'n1', type, name: 'later', version: currentVersion(type) + 3, futureOption: 'x' };
        assert.deepEqual(migrate(type, newer), newer);
        const current = { id: 'n1', type, name: 'now', version: currentVersion(type) };
        assert.deepEqual(migrate(type, current), current, 'a current config is read as saved');
      });
    }

    it('every example flow and the npm start demo are in the current shape, so none needs a migration (nothing shows as changed in the editor)', () => {
      const dir = path.join(ROOT, 'examples');
      const files = [...fs.readdirSync(dir).filter((f) => f.endsWith('.json')), path.join('..', 'scripts', 'demo-flow.json')];
      for (const file of files) {
        for (const node of JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Array<Record<string, unknown>>) {
          if (typeof node.type !== 'string' || !TYPES.includes(node.type)) continue;
          assert.deepEqual(migrate(node.type, node), node, `${file}: ${node.type} ${String(node.id)}`);
        }
      }
    });

    it('status poll: version 1 (or none) gets mode poll, as it always polled; a version 2 mode is kept', () => {
      const v1 = { id: 'p1', type: STATUS, connection: 'c1', interval: 30, output: 'change', bedCooldownC: 40 };
      assert.deepEqual(migrate(STATUS, v1), { ...v1, mode: 'poll', version: 2 });
      assert.deepEqual(migrate(STATUS, { ...v1, version: 1 }), { ...v1, mode: 'poll', version: 2 });
      assert.deepEqual(migrate(STATUS, { ...v1, version: '1' }), { ...v1, mode: 'poll', version: 2 });
      assert.deepEqual(migrate(STATUS, { ...v1, mode: 'auto', version: 2 }), { ...v1, mode: 'auto', version: 2 });
      assert.deepEqual(migrate(STATUS, { ...v1, version: 7 }), { ...v1, version: 7 }, 'a newer release decides its own mode');
    });
  });

  describe('in the runtime, each node of a flow saved before versions works', function () {
    let rig: ClockedSimulator;
    let server: http.Server | undefined;
    let read: Map<string, unknown>;

    beforeEach(async () => {
      rig = await startClockedSimulator();
      read = watchMigrations();
    });
    afterEach(async () => {
      shared.migrate = original;
      await helper.unload();
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
      await rig.close();
    });

    const config = (): Record<string, unknown> => ({
      id: 'c1',
      type: 'octoeverywhere-app-connection',
      name: 'printer',
      printerName: 'Voron 2.4',
      serviceUrl: rig.sim.serviceUrl,
    });
    const modules = (...types: string[]): NodeInitializer[] =>
      [nodeModule('octoeverywhere-app-connection'), ...types.map((t) => nodeModule(t)), coreNode('common/25-catch.js')] as unknown as NodeInitializer[];

    /** Loads [c1, n1 → out, catch(n1) → caught] with every `version` removed; resolves n1's first output or caught error. */
    async function loadOld(
      type: string,
      props: Record<string, unknown>,
      expectVersion = currentVersion(type),
    ): Promise<(msg: Record<string, unknown>) => Promise<NodeMessage & Record<string, unknown>>> {
      const flow = firstShape([
        { id: 'f1', type: 'tab', label: 'old' },
        { ...config(), version: 1 },
        { id: 'n1', z: 'f1', type, connection: 'c1', wires: [['out']], ...props },
        { id: 'out', z: 'f1', type: 'helper' },
        { id: 'catcher', z: 'f1', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'f1', type: 'helper' },
      ]);
      assert.ok(flow.every((n) => !('version' in n)));
      await helper.load(modules(type), flow as never, { c1: appConnectionCredentials(rig.sim) } as never);
      assert.equal(read.get(`${type}:n1`), expectVersion, `${type} read its saved config through its list`);
      assert.equal(read.get('octoeverywhere-app-connection:c1'), 1);
      return (msg) =>
        new Promise((resolve, reject) => {
          helper.getNode('out').once('input', resolve);
          helper.getNode('caught').once('input', (m: { error?: { message?: string } }) => reject(new Error(m.error?.message)));
          helper.getNode('n1').receive(msg as NodeMessage);
        });
    }

    it('app connection and printer request: a GET reaches the printer', async () => {
      const send = await loadOld('octoeverywhere-printer-request', { method: 'GET', path: '/printer/info', ret: 'obj', timeout: '' });
      const msg = await send({});
      assert.equal(msg.statusCode, 200);
      assert.equal(typeof (msg.payload as { result?: unknown }).result, 'object');
    });

    it('a node works from what its steps return, not from the saved config', async () => {
      const steps = shared.STEPS['octoeverywhere-printer-request'];
      // A made-up version 2 that moved the path; a version 1 flow still names the old one.
      steps.push({ to: 2, up: (c) => ({ ...c, path: c.path === '/old/info' ? '/printer/info' : c.path }) });
      try {
        const send = await loadOld('octoeverywhere-printer-request', { method: 'GET', path: '/old/info', ret: 'obj', timeout: '' }, 2);
        assert.equal((await send({})).statusCode, 200);
      } finally {
        steps.pop();
      }
    });

    it('webcam snapshot: sends the JPEG', async () => {
      const send = await loadOld('octoeverywhere-webcam-snapshot', { webcam: '', mode: 'snapshot', maxFps: '1', maxFrames: '0' });
      const msg = await send({});
      assert.ok(Buffer.isBuffer(msg.payload) && msg.payload[0] === 0xff && msg.payload[1] === 0xd8, 'a JPEG');
    });

    it('printer command: status answers with the Features', async () => {
      const send = await loadOld('octoeverywhere-printer-command', { action: 'status' });
      const msg = await send({ payload: 1 });
      assert.equal((msg.payload as { Features?: number }).Features, 63);
    });

    it('live link: makes a link', async () => {
      const send = await loadOld('octoeverywhere-live-link', { expiration: '24', expirationType: 'num' });
      const msg = await send({ payload: 1 });
      assert.match(String((msg.payload as { Url?: string }).Url), /^https?:\/\//);
    });

    it('printer socket: opens its socket and answers a JSON-RPC frame', async () => {
      const send = await loadOld('octoeverywhere-printer-socket', { path: '/websocket', subprotocols: '', heartbeat: 15, events: 'all' });
      const n1 = helper.getNode('n1') as unknown as { status: { lastCall?: { args: [{ fill?: string }] } } };
      await until(() => n1.status.lastCall?.args[0].fill === 'green', 'the socket');
      const msg = await send({ payload: { jsonrpc: '2.0', method: 'printer.info', id: 5 } });
      assert.equal((msg.payload as { id?: unknown }).id, 5);
    });

    it('status poll: a version 1 node keeps polling (mode poll); auto and live nodes take the live socket', async () => {
      const flow = firstShape([
        { ...config(), version: 1 },
        ...[{ id: 'p1' }, { id: 'p2', mode: 'auto', version: 2 }, { id: 'p3', mode: 'live', version: 2 }].flatMap((n) => [
          { type: STATUS, connection: 'c1', interval: 10, output: 'change', bedCooldownC: 40, wires: [[`${n.id}-out`], []], ...n },
          { id: `${n.id}-out`, type: 'helper' },
        ]),
      ]);
      await helper.load(modules(STATUS), flow as never, { c1: appConnectionCredentials(rig.sim) } as never);
      assert.deepEqual([read.get(`${STATUS}:p1`), read.get(`${STATUS}:p2`), read.get(`${STATUS}:p3`)], [2, 2, 2]);
      const got: Record<string, Array<Record<string, unknown>>> = { p1: [], p2: [], p3: [] };
      for (const id of Object.keys(got)) helper.getNode(`${id}-out`).on('input', (m: NodeMessage) => got[id].push(m.payload as Record<string, unknown>));
      const poller = (helper.getNode('c1') as unknown as AppConnectionNode).poller();
      rig.printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 100 });
      for (let i = 0; i < 3; i++) {
        await rig.clock.advance(10_000);
        await poller.settled();
        for (let t = 0; t < 3; t++) await new Promise((r) => setImmediate(r));
      }
      for (const id of Object.keys(got)) assert.ok(got[id].length >= 1, `${id} sent the status`);
      // The migrated node is not among the live socket's subscribers; the two current ones are.
      assert.equal((helper.getNode('c1') as unknown as AppConnectionNode).live().subscribers, 2);
    });

    it('notification webhook: a delivery to its path is sent on', async () => {
      let red: NodeAPI | undefined;
      const webhook = nodeModule('octoeverywhere-notification-webhook') as unknown as NodeInitializer;
      const capture: NodeInitializer = (RED) => {
        red = RED;
        return webhook(RED);
      };
      const token = 'tok-migration-test-0123456789abcdef';
      const flow = firstShape([
        { ...config(), version: 1 },
        {
          id: 'w1',
          type: 'octoeverywhere-notification-webhook',
          mode: 'user',
          path: '/oe/old-hook',
          events: [],
          dedupe: false,
          dedupeSeconds: 600,
          wires: [['out']],
          version: 1,
        },
        { id: 'out', type: 'helper' },
      ]);
      await helper.load(
        [nodeModule('octoeverywhere-app-connection') as unknown as NodeInitializer, capture],
        flow as never,
        { c1: appConnectionCredentials(rig.sim), w1: { token } } as never,
      );
      if (!red) throw new Error('the webhook module was not loaded');
      assert.equal(read.get('octoeverywhere-notification-webhook:w1'), 1);
      const httpNode = red.httpNode as unknown as http.RequestListener;
      server = http.createServer(httpNode);
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const received = new Promise<NodeMessage>((resolve) => helper.getNode('out').once('input', resolve));
      const reply = await fetch(`http://127.0.0.1:${port}/oe/old-hook?token=${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ PrinterId: 'P1', PrinterName: 'Voron', EventType: 6, PrintId: '42', Progress: '30', FileName: 'cube.gcode' }),
      });
      assert.equal(reply.status, 200);
      const msg = (await received) as NodeMessage & { topic?: string };
      assert.equal(typeof msg.topic, 'string');
      assert.equal((msg.payload as { printId?: unknown }).printId, '42');
    });

    it('gadget API and failure detection: a frame is scored', async () => {
      const key = rig.sim.gadgetApi.addKey();
      const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00]), Buffer.alloc(64, 7), Buffer.from([0xff, 0xd9])]);
      const flow = firstShape([
        { id: 'f1', type: 'tab', label: 'old' },
        {
          id: 'g1',
          type: 'octoeverywhere-gadget-api',
          serviceUrl: rig.sim.gadgetApi.url,
          warningConfidence: 3,
          pauseConfidence: 3,
          monthlyBudget: 5000,
          version: 1,
        },
        { id: 'fd', z: 'f1', type: 'octoeverywhere-failure-detection', gadgetApi: 'g1', wires: [['out'], []], version: 1 },
        { id: 'out', z: 'f1', type: 'helper' },
      ]);
      await helper.load(
        [nodeModule('octoeverywhere-gadget-api'), nodeModule('octoeverywhere-failure-detection')] as never,
        flow as never,
        { g1: { apiKey: key } } as never,
      );
      assert.deepEqual([read.get('octoeverywhere-gadget-api:g1'), read.get('octoeverywhere-failure-detection:fd')], [1, 1]);
      const scored = new Promise<NodeMessage>((resolve) => helper.getNode('out').once('input', resolve));
      helper.getNode('fd').receive({ payload: jpeg } as NodeMessage);
      await (helper.getNode('g1') as unknown as GadgetApiNode).gadgetApi().settled();
      const msg = await scored;
      assert.equal(typeof (msg.payload as { printQuality?: unknown }).printQuality, 'number');
    });
  });

  describe('in the runtime, the MQTT nodes of a flow saved before versions work', function () {
    let rig: ClockedSimulator;
    let sim: Simulator;
    let broker: Broker | undefined;
    let watcher: MqttClient | undefined;
    let read: Map<string, unknown>;

    beforeEach(async () => {
      rig = await startClockedSimulator(
        [
          { kind: 'bambu', name: 'P1S' },
          { kind: 'moonraker', name: 'Voron 2.4' },
        ],
        { mqttReconnectTime: 200 },
      );
      sim = rig.sim;
      read = watchMigrations();
    });
    afterEach(async () => {
      shared.migrate = original;
      await watcher?.endAsync(true);
      watcher = undefined;
      await helper.unload();
      await rig.close();
      await broker?.stop();
      broker = undefined;
    });

    const config = (printer: number): Record<string, unknown> => ({
      id: 'c1',
      type: 'octoeverywhere-app-connection',
      printerName: sim.printers[printer].name,
      serviceUrl: sim.serviceUrl,
    });

    it('printer mqtt: subscribes through the proxy and gets the Bambu report', async () => {
      const sn = (sim.printers[0] as SimulatedPrinter).serialNumber ?? '';
      const flow = firstShape([
        { id: 'f1', type: 'tab', label: 'old' },
        { ...config(0), version: 1 },
        {
          id: 'm1',
          z: 'f1',
          type: 'octoeverywhere-printer-mqtt',
          connection: 'c1',
          topics: `device/${sn}/report`,
          qos: '0',
          datatype: 'auto-detect',
          retain: false,
          version: 1,
          wires: [['out'], []],
        },
        { id: 'out', z: 'f1', type: 'helper' },
      ]);
      await helper.load(
        [nodeModule('octoeverywhere-app-connection'), nodeModule('octoeverywhere-printer-mqtt')] as never,
        flow as never,
        { c1: credentialsOf(sim.createAppConnection(0)) } as never,
      );
      assert.deepEqual([read.get('octoeverywhere-app-connection:c1'), read.get('octoeverywhere-printer-mqtt:m1')], [1, 1]);
      const got: NodeMessage[] = [];
      helper.getNode('out').on('input', (m: NodeMessage) => got.push(m));
      helper.getNode('m1').receive({ topic: `device/${sn}/request`, payload: { pushing: { sequence_id: '0', command: 'pushall' } } } as NodeMessage);
      await until(() => got.length > 0, 'the report');
      assert.equal(got[0].topic, `device/${sn}/report`);
      assert.equal(typeof ((got[0].payload as Record<string, Record<string, unknown>>).print ?? {}).gcode_state, 'string');
    });

    it('home assistant: publishes its discovery configs and the printer state', async function () {
      const binary = mosquittoPath();
      if (!binary) {
        if (BROKER_REQUIRED) throw new Error('mosquitto is required (CI / OE_REQUIRE_BROKER=1) but was not found');
        this.skip();
      }
      broker = await startMosquitto(binary);
      watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { reconnectPeriod: 0 });
      const topics = new Set<string>();
      watcher.on('message', (topic, payload) => {
        if (payload.length > 0) topics.add(topic);
      });
      await watcher.subscribeAsync(['homeassistant/#', 'octoeverywhere/#'], { qos: 1 });
      const flow = firstShape([
        { id: 'f1', type: 'tab', label: 'old' },
        { ...config(1), version: 1 },
        brokerConfig('b1', broker.port),
        // As saved before nodes carried `version`: no mode either (a version 1 config reads as it was made).
        {
          id: 'h1',
          z: 'f1',
          type: 'octoeverywhere-home-assistant',
          connection: 'c1',
          broker: 'b1',
          prefix: 'homeassistant',
          deviceName: '',
          interval: 10,
          webcamInterval: 10,
          version: 1,
        },
      ]);
      await helper.load(
        [nodeModule('octoeverywhere-app-connection'), nodeModule('octoeverywhere-home-assistant'), coreNode('network/10-mqtt.js')] as never,
        flow as never,
        { c1: credentialsOf(sim.createAppConnection(1)) } as never,
      );
      assert.deepEqual([read.get('octoeverywhere-app-connection:c1'), read.get('octoeverywhere-home-assistant:h1')], [1, 1]);
      await until(() => topics.has('octoeverywhere/octoeverywhere_c1/state'), 'the first state');
      assert.ok(
        [...topics].some((t) => t.startsWith('homeassistant/') && t.endsWith('/config')),
        'discovery configs',
      );
    });
  });
});
