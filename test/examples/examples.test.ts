// Every example flow, loaded into the Node-RED runtime (node-red-node-test-helper with the real core
// nodes) against the simulator, and checked for the one thing it promises: the light turns red when
// Gadget warns, the plug goes off after the bed cooled, Home Assistant gets valid discovery, …
import assert from 'node:assert/strict';
import mqttjs from 'mqtt';
import type { NodeMessage } from 'node-red';
import {
  CORE_FILES,
  DEMO_FLOW,
  type CaptureServer,
  type Credentials,
  type FlowNode,
  type NodeServer,
  eventually,
  exampleFiles,
  helper,
  isJpeg,
  modulesFor,
  ourTypes,
  prepare,
  readFlow,
  settle,
  startCapture,
  startNodeServer,
  step,
} from './support';
import { BROKER_REQUIRED, type Broker, mosquittoPath, startMosquitto } from '../helpers/mosquitto';
import { type ClockedSimulator, startClockedSimulator } from '../helpers/simulator';
import { startSimulator } from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import type { GadgetApiNode } from '../../src/nodes/shared/types';

interface Loaded {
  flow: FlowNode[];
  tokens: Record<string, string>;
}

let rig: ClockedSimulator;
let capture: CaptureServer;
let broker: Broker | undefined;
let nodeServer: NodeServer;

/** Loads an example (plus test-only nodes) pointed at the simulator, the capture server and the broker. */
async function load(file: string, extra: FlowNode[] = []): Promise<Loaded> {
  const { flow, credentials, tokens } = prepare(readFlow(file), {
    sim: rig.sim,
    captureUrl: capture.url,
    brokerPort: broker?.port,
    publicUrl: nodeServer.url,
  });
  const all = [...flow, ...extra];
  await helper.load([nodeServer.attach, ...modulesFor(all)], all as never, credentials as Credentials as never);
  for (const n of all) assert.ok(n.type === 'tab' || helper.getNode(n.id), `${file}: node ${n.id} (${n.type}) did not start`);
  await settle(rig, all);
  return { flow: all, tokens };
}

/** Collects the messages a node receives (wire a `helper` node, or listen on a node of the flow). */
function received(id: string): NodeMessage[] {
  const list: NodeMessage[] = [];
  helper.getNode(id).on('input', (msg: NodeMessage) => list.push(msg));
  return list;
}

/** An MQTT subscriber on the example's broker node: test-only nodes `t-mqtt-in` → `t-mqtt`. */
function mqttTap(brokerId: string, topic = '#'): FlowNode[] {
  return [
    {
      id: 't-mqtt-in',
      type: 'mqtt in',
      z: 't-tab',
      name: '',
      topic,
      qos: '1',
      datatype: 'utf8',
      broker: brokerId,
      nl: false,
      rap: true,
      rh: 0,
      inputs: 0,
      wires: [['t-mqtt']],
    },
    { id: 't-mqtt', type: 'helper', z: 't-tab' },
    { id: 't-tab', type: 'tab', label: 'test' },
  ];
}

/** The retained message on `topic`, as a new subscriber (Home Assistant starting) gets it. */
async function retainedOn(b: Broker | undefined, topic: string): Promise<string | undefined> {
  const client = await mqttjs.connectAsync(`mqtt://127.0.0.1:${b?.port ?? 0}`, { reconnectPeriod: 0 });
  try {
    let got: string | undefined;
    client.on('message', (t, payload, packet) => {
      if (t === topic && packet.retain) got = payload.toString('utf8');
    });
    await client.subscribeAsync(topic, { qos: 1 });
    await eventually(`the retained ${topic}`, () => got !== undefined);
    return got;
  } finally {
    await client.endAsync(true);
  }
}

async function needBroker(ctx: Mocha.Context): Promise<void> {
  const binary = mosquittoPath();
  if (!binary) {
    if (BROKER_REQUIRED) throw new Error('mosquitto is required here (CI / OE_REQUIRE_BROKER=1) but was not found: apt-get install -y mosquitto');
    console.warn('    mosquitto not found: skipping the MQTT example tests (apt-get install -y mosquitto)');
    ctx.skip();
  }
  broker = await startMosquitto(binary);
}

describe('example flows', function () {
  this.timeout(60_000);

  beforeEach(async () => {
    rig = await startClockedSimulator();
    capture = await startCapture();
    nodeServer = await startNodeServer();
    await helper.startServer();
  });

  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    await nodeServer.close();
    await capture.close();
    await rig.close();
    await broker?.stop();
    broker = undefined;
  });

  it('every node type of ours appears in at least one example', () => {
    const used = new Set(exampleFiles().flatMap((f) => readFlow(f).map((n) => n.type)));
    assert.deepEqual(
      ourTypes().filter((t) => !used.has(t)),
      [],
    );
  });

  it('every example is a short flow with a comment and an App Connection config node without credentials', () => {
    for (const file of exampleFiles()) {
      const flow = readFlow(file);
      const configs = flow.filter((n) => n.type === 'octoeverywhere-app-connection');
      assert.equal(configs.length, 1, `${file}: one App Connection config node`);
      assert.equal(configs[0].credentials, undefined, `${file}: no credentials`);
      const comment = flow.find((n) => n.type === 'comment');
      assert.ok(comment && typeof comment.info === 'string' && comment.info.length > 100, `${file}: a comment node that explains the flow`);
      const users = flow.filter((n) => n.connection !== undefined && n.connection !== '');
      for (const u of users) assert.equal(u.connection, configs[0].id, `${file}: ${u.id} uses the file's config node`);
      assert.ok(flow.length <= 35, `${file}: short (${flow.length} nodes)`);
    }
  });

  it('all examples share one printer config node, the same in each, so that importing several needs one printer', () => {
    const configs = exampleFiles().map((file) => ({ file, config: readFlow(file).find((n) => n.type === 'octoeverywhere-app-connection') }));
    for (const { file, config } of configs) {
      assert.equal(config?.id, 'oe-example-printer', `${file}: the shared config node id`);
      assert.deepEqual(config, configs[0].config, `${file}: the same config node as ${configs[0].file}`);
    }
    assert.equal(configs[0].config?.serviceUrl, 'https://octoeverywhere.com');
  });

  it('an example that needs another package says so in its name, the first thing Import ▸ Examples shows', () => {
    // Node types by the package that provides them; ours and the core nodes need nothing.
    const providers: Array<{ test: (type: string) => boolean; pkg: string }> = [{ test: (t) => t.startsWith('ui-'), pkg: '@flowfuse node-red-dashboard' }];
    const known = new Set([...ourTypes(), 'tab', ...Object.keys(CORE_FILES)]);
    for (const file of exampleFiles()) {
      const needed = new Set<string>();
      for (const { type } of readFlow(file)) {
        if (known.has(type)) continue;
        const provider = providers.find((p) => p.test(type));
        assert.ok(provider, `${file}: node type ${type} comes from a package this test does not know`);
        needed.add(provider.pkg);
      }
      const named = /\(needs (.+)\)\.json$/.exec(file)?.[1];
      assert.equal(named, needed.size ? [...needed].join(', ') : undefined, `${file}: its name says what it needs`);
    }
  });

  describe('gadget-warning-alerts', () => {
    beforeEach(async function () {
      await needBroker(this);
    });

    it('turns the light red and sends a snapshot notification when Gadget warns; pauses only when auto-pause is on', async () => {
      const { flow } = await load('gadget-warning-alerts.json', mqttTap('gw-broker', 'home/#'));
      const mqtt = received('t-mqtt');
      await eventually('the MQTT subscription', () => (helper.getNode('gw-broker') as unknown as { connected: boolean }).connected);

      rig.printer.startPrint('benchy.gcode', { durationSec: 3600 });
      await step(rig, flow, 30_000);
      rig.printer.scriptGadget('warn');
      await step(rig, flow, 60_000, () => mqtt.length > 0);
      await eventually('the light command', () => mqtt.length > 0);
      assert.equal(mqtt[0].topic, 'home/printer-light/set');
      assert.deepEqual(JSON.parse(String(mqtt[0].payload)), { state: 'ON', color: { r: 255, g: 0, b: 0 } });

      await eventually('the notification', () => capture.requests.length > 0);
      const push = capture.requests[0];
      assert.equal(push.method, 'PUT');
      assert.equal(push.path, '/gw-ntfy');
      assert.ok(isJpeg(push.body), 'the snapshot is the body');
      assert.match(String(push.headers.title), /^Gadget warning: Voron 2\.4$/);
      assert.match(String(push.headers.message), /benchy\.gcode at \d+ %/);
      assert.equal(rig.printer.state, 'printing', 'auto-pause is off by default');

      helper.getNode('gw-auto-on').receive({});
      rig.printer.scriptGadget('good');
      await step(rig, flow, 30_000);
      rig.printer.scriptGadget('warn');
      await step(rig, flow, 60_000, () => mqtt.length > 1);
      await eventually('the pause', () => rig.printer.state === 'paused');
    });
  });

  describe('bed-cooldown-smart-plug', () => {
    beforeEach(async function () {
      await needBroker(this);
    });

    it('switches the plug off after bed-cooldown-complete, not at print-complete', async () => {
      const { flow } = await load('bed-cooldown-smart-plug.json', mqttTap('bc-broker', 'home/#'));
      const mqtt = received('t-mqtt');
      const log = received('bc-log');
      await eventually('the MQTT subscription', () => (helper.getNode('bc-broker') as unknown as { connected: boolean }).connected);

      rig.printer.startPrint('benchy.gcode', { durationSec: 600 });
      await step(rig, flow, 700_000, () => log.length > 0);
      assert.equal(log.length, 1, 'print-complete was seen');
      assert.equal(rig.printer.state, 'complete');
      assert.equal(mqtt.length, 0, 'the plug stays on while the bed is hot');

      await step(rig, flow, 3_600_000, () => mqtt.length > 0);
      await eventually('the plug command', () => mqtt.length > 0);
      assert.equal(mqtt[0].topic, 'home/printer-plug/set');
      assert.equal(mqtt[0].payload, 'OFF');
    });
  });

  describe('progress-notifications', () => {
    it('sends a notification with a snapshot and the time left at each 10 %', async () => {
      const { flow } = await load('progress-notifications.json');
      rig.printer.startPrint('benchy.gcode', { durationSec: 1000 });
      await step(rig, flow, 1_100_000, () => rig.printer.state === 'complete');
      await settle(rig, flow);
      await eventually('nine notifications', () => capture.requests.length >= 9);
      // One per 10 % step, in order; the title carries the progress at the poll that saw the step.
      capture.requests.forEach((r, i) => {
        const match = /^benchy\.gcode: (\d+) %$/.exec(String(r.headers.title));
        assert.ok(match, String(r.headers.title));
        assert.equal(Math.floor(Number(match[1]) / 10), i + 1, String(r.headers.title));
        assert.equal(r.method, 'PUT');
        assert.ok(isJpeg(r.body));
        assert.match(String(r.headers.message), /^\d+ min left$/);
      });
    });
  });

  describe('printer-dashboard', () => {
    it('feeds the widgets and runs the buttons (dashboard nodes stubbed)', async () => {
      rig.printer.startPrint('benchy.gcode', { durationSec: 3600 });
      const { flow } = await load('printer-dashboard (needs @flowfuse node-red-dashboard).json');
      const state = received('db-state');
      const progress = received('db-progress');
      const chart = received('db-chart');
      const webcam = received('db-webcam');
      // The inject node fires its first snapshot after 2 s of real time.
      await eventually('the webcam image', () => webcam.length > 0, 5000);
      assert.match(String(webcam[0].payload), /^data:image\/jpeg;base64,\/9j\//);
      await step(rig, flow, 300_000, () => state.some((m) => m.payload === 'printing'));
      assert.ok(
        state.some((m) => m.payload === 'printing'),
        JSON.stringify(state.map((m) => m.payload)),
      );
      assert.match(String(progress.at(-1)?.payload), /^\d+ % {2}\d+ min left$/);
      assert.deepEqual(new Set(chart.map((m) => m.topic)), new Set(['bed', 'hotend']));

      helper.getNode('db-pause').receive({});
      await eventually('the pause', () => rig.printer.state === 'paused');
      helper.getNode('db-resume').receive({});
      await eventually('the resume', () => rig.printer.state !== 'paused');
    });
  });

  describe('home-assistant-mqtt-discovery (the home assistant node)', () => {
    beforeEach(async function () {
      await needBroker(this);
    });

    it('makes the printer a Home Assistant device: retained configs, state, a trigger per event, the buttons', async () => {
      const { flow } = await load('home-assistant-mqtt-discovery.json', [
        ...mqttTap('ha-device-broker'),
        { id: 't-mqtt-out', type: 'mqtt out', z: 't-tab', name: '', topic: '', qos: '1', retain: 'false', broker: 'ha-device-broker', wires: [] },
      ]);
      const mqtt = received('t-mqtt');
      const base = 'octoeverywhere/octoeverywhere_oe-example-printer';
      const configs = (): NodeMessage[] => mqtt.filter((m) => String(m.topic).startsWith('homeassistant/') && String(m.topic).endsWith('/config'));
      const states = (): Array<Record<string, unknown>> =>
        mqtt.filter((m) => m.topic === `${base}/state`).map((m) => JSON.parse(String(m.payload)) as Record<string, unknown>);
      await step(rig, flow, 30_000, () => states().length > 0);
      await eventually('discovery and the state', () => configs().length >= 30 && states().length > 0);
      for (const m of configs()) {
        const config = JSON.parse(String(m.payload)) as { device: Record<string, unknown>; unique_id?: string };
        assert.equal(config.device.name, 'Voron 2.4', String(m.topic));
        assert.deepEqual(config.device.identifiers, ['octoeverywhere_oe-example-printer']);
      }
      assert.ok(configs().some((m) => String(m.topic) === 'homeassistant/device_automation/octoeverywhere_oe-example-printer/print_started/config'));
      assert.equal(await retainedOn(broker, 'octoeverywhere/bridge'), 'online', "the broker node's birth: the device's availability");
      rig.printer.startPrint('benchy.gcode', { durationSec: 3600 });
      await step(rig, flow, 600_000, () => rig.printer.state === 'printing');
      await step(rig, flow, 30_000);
      await eventually('print-started', () => mqtt.some((m) => m.topic === `${base}/event` && String(m.payload).includes('"print-started"')));
      helper.getNode('t-mqtt-out').receive({ topic: `${base}/command`, payload: 'pause' });
      await eventually('the pause', () => rig.printer.state === 'paused');
    });
  });

  describe('home-assistant-core-nodes', () => {
    beforeEach(async function () {
      await needBroker(this);
    });

    it('publishes valid retained discovery configs and the state, and runs the buttons', async () => {
      rig.printer.startPrint('benchy.gcode', { durationSec: 3600 });
      const { flow } = await load('home-assistant-core-nodes.json', [
        ...mqttTap('ha-broker'),
        { id: 't-mqtt-out', type: 'mqtt out', z: 't-tab', name: '', topic: '', qos: '1', retain: 'false', broker: 'ha-broker', wires: [] },
        // Subscribes when told to (a dynamic subscription), to see what the broker retained.
        {
          id: 't-late-in',
          type: 'mqtt in',
          z: 't-tab',
          name: '',
          topic: '',
          qos: '1',
          datatype: 'utf8',
          broker: 'ha-broker',
          nl: false,
          rap: true,
          rh: 0,
          inputs: 1,
          wires: [['t-late']],
        },
        { id: 't-late', type: 'helper', z: 't-tab' },
      ]);
      const mqtt = received('t-mqtt');
      const configs = (): NodeMessage[] => mqtt.filter((m) => String(m.topic).startsWith('homeassistant/') && String(m.topic).endsWith('/config'));
      const states = (): Array<Record<string, unknown>> =>
        mqtt.filter((m) => m.topic === 'octoeverywhere/octoeverywhere_printer/state').map((m) => JSON.parse(String(m.payload)) as Record<string, unknown>);
      await step(rig, flow, 60_000, () => configs().length >= 11 && states().some((s) => s.state === 'printing'));
      await eventually('discovery and a printing state', () => configs().length >= 11 && states().some((s) => s.state === 'printing'));

      const state = states().find((s) => s.state === 'printing') ?? {};
      assert.equal(state.online, true);
      assert.equal(typeof state.progress, 'number');
      assert.equal(typeof state.bed_temperature, 'number');
      // What Home Assistant sees: the broker node's retained birth on the bridge topic. Asked of the
      // broker by a client of its own, since the flow's own subscription may have been made before the birth.
      assert.equal(await retainedOn(broker, 'octoeverywhere/octoeverywhere_printer/bridge'), 'online', 'the broker node announces the bridge (availability)');

      const seen = new Map<string, Record<string, unknown>>();
      for (const m of configs()) {
        const match = /^homeassistant\/(sensor|binary_sensor|button)\/octoeverywhere_printer\/([a-z_]+)\/config$/.exec(String(m.topic));
        assert.ok(match, String(m.topic));
        const config = JSON.parse(String(m.payload)) as Record<string, unknown>;
        seen.set(`${match[1]}/${match[2]}`, config);
        assert.equal(config.unique_id, `octoeverywhere_printer_${match[2]}`);
        assert.equal(typeof config.name, 'string');
        assert.deepEqual(config.device, {
          identifiers: ['octoeverywhere_printer'],
          name: 'Voron 2.4',
          manufacturer: 'OctoEverywhere',
          model: 'App Connection',
        });
        assert.deepEqual(config.availability, [
          { topic: 'octoeverywhere/octoeverywhere_printer/bridge', payload_available: 'online', payload_not_available: 'offline' },
        ]);
        if (match[1] === 'button') {
          assert.equal(config.command_topic, 'octoeverywhere/octoeverywhere_printer/command');
          assert.equal(config.payload_press, match[2]);
        } else {
          assert.equal(config.state_topic, 'octoeverywhere/octoeverywhere_printer/state');
          // Each template reads a key the state message has.
          const key = /value_json\.([a-z_]+)/.exec(String(config.value_template))?.[1];
          assert.ok(key && key in state, `${m.topic}: ${String(config.value_template)}`);
        }
      }
      assert.deepEqual([...seen.keys()].sort(), [
        'binary_sensor/online',
        'binary_sensor/printing',
        'button/cancel',
        'button/pause',
        'button/resume',
        'sensor/bed_temperature',
        'sensor/gadget_rating',
        'sensor/hotend_temperature',
        'sensor/progress',
        'sensor/state',
        'sensor/time_left',
      ]);
      assert.equal(seen.get('sensor/bed_temperature')?.device_class, 'temperature');
      assert.equal(seen.get('binary_sensor/online')?.device_class, 'connectivity');

      // Retained: a subscriber that comes later (Home Assistant starting) still gets every config.
      const late = received('t-late');
      helper.getNode('t-late-in').receive({ action: 'subscribe', topic: 'homeassistant/+/octoeverywhere_printer/+/config' });
      await eventually('the retained configs', () => late.length >= 11);
      assert.ok(late.every((m) => (m as NodeMessage & { retain?: boolean }).retain === true));
      assert.deepEqual(new Set(late.map((m) => m.topic)), new Set(configs().map((m) => m.topic)));

      // A button press in Home Assistant comes back on the command topic.
      helper.getNode('t-mqtt-out').receive({ topic: 'octoeverywhere/octoeverywhere_printer/command', payload: 'pause' });
      await eventually('the pause', () => rig.printer.state === 'paused');

      // Home Assistant restarted: the discovery is sent again.
      const before = configs().length;
      helper.getNode('t-mqtt-out').receive({ topic: 'homeassistant/status', payload: 'online' });
      await eventually('discovery sent again', () => configs().length >= before + 11);
    });
  });

  describe('webhook-receiver', () => {
    it('receives LAN webhook events and shares a Live Link once per print', async () => {
      const { tokens } = await load('webhook-receiver.json');
      const lan = received('wh-lan-debug');
      const app = received('wh-app-debug');
      rig.sim.addUserWebhook(0, `${nodeServer.url}/octoeverywhere/webhook/lan?token=${tokens['wh-lan']}`);
      rig.printer.startPrint('benchy.gcode', { durationSec: 3600 });
      await rig.sim.flushWebhooks();
      await eventually('the LAN event and the App Connection event', () => lan.length > 0 && app.length > 0);
      assert.equal(lan[0].topic, 'print-started');
      assert.equal(app[0].topic, 'print-started');
      await eventually('the Live Link notification', () => capture.requests.length > 0);
      const push = capture.requests[0];
      assert.equal(push.method, 'POST');
      assert.match(push.body.toString(), /^Watch it live: http/);
      assert.match(String(push.headers.click), /^http/);
      assert.equal(capture.requests.length, 1, 'one Live Link per print although both webhooks delivered');
    });
  });

  describe('printer-api-request', () => {
    it("asks the printer's own API through OctoEverywhere", async () => {
      await load('printer-api-request.json');
      const answers = received('pr-result');
      helper.getNode('pr-klipper').receive({});
      await eventually('the answer', () => answers.length > 0);
      assert.equal(answers[0].statusCode, 200);
      assert.ok((answers[0].payload as { result?: { status?: object } }).result?.status, 'a Moonraker objects query result');
    });
  });

  describe('printer-socket-moonraker', () => {
    it("subscribes on every connect, splits Moonraker's pushes from its answers, and sends a request", async () => {
      const { flow } = await load('printer-socket-moonraker.json');
      const answers = received('ps-answers');
      const updates = received('ps-updates');
      const idOf = (m: NodeMessage): unknown => (m.payload as { id?: unknown }).id;
      await eventually('the subscribe answer', () => answers.some((m) => idOf(m) === 2));
      const subscribed = answers.find((m) => idOf(m) === 2)?.payload as { result?: { status?: { print_stats?: object } } };
      assert.ok(subscribed.result?.status?.print_stats, 'the print status it subscribed to');
      helper.getNode('ps-info').receive({});
      await eventually('the printer.info answer', () => answers.some((m) => idOf(m) === 1));
      rig.printer.startPrint('cube.gcode', { durationSec: 600 });
      await step(rig, flow, 5000, () => updates.length > 0);
      assert.ok(updates.length > 0, 'pushed status updates');
      // A reconnect subscribes again.
      rig.sim.socketChaos.drop();
      await step(rig, flow, 30_000, () => answers.filter((m) => idOf(m) === 2).length === 2);
      assert.equal(answers.filter((m) => idOf(m) === 2).length, 2);
    });
  });

  describe('bambu-mqtt-report', () => {
    it('starts disabled (a wrong serial number drops the printer for everyone); with the serial entered, pushall is answered with the full report', async () => {
      const original = readFlow('bambu-mqtt-report.json');
      assert.equal(original.find((n) => n.id === 'bm-mqtt')?.d, true, 'the printer mqtt node is disabled until the serial number is entered');
      const bambu = await startSimulator({ clock: rig.clock, printers: [{ kind: 'bambu', name: 'P1S' }] });
      try {
        const sn = (bambu.printers[0] as SimulatedPrinter).serialNumber ?? '';
        // What the user does: the serial number in both topics, the node enabled.
        const edited = JSON.parse(JSON.stringify(original).replaceAll('SERIAL_NUMBER', sn)) as FlowNode[];
        const { flow, credentials } = prepare(
          edited.map(({ d: _disabled, ...n }) => n),
          { sim: bambu, captureUrl: capture.url, publicUrl: nodeServer.url },
        );
        await helper.load(modulesFor(flow), flow as never, credentials as Credentials as never);
        const reports = received('bm-report');
        const events = received('bm-events');
        // The inject's pushall at deploy waits for the connection and is answered.
        await step(rig, flow, 10_000, () => reports.length > 0);
        await eventually('the full report', () =>
          reports.some((m) => typeof (m.payload as { print?: { gcode_state?: unknown } }).print?.gcode_state === 'string'),
        );
        assert.equal(reports[0]?.topic, `device/${sn}/report`);
        assert.equal(events[0]?.topic, 'connected');
      } finally {
        await helper.unload();
        await bambu.close();
      }
    });
  });

  describe('gadget-any-camera and gadget-webcam-node (Gadget Failure Detection API)', () => {
    /**
     * Presses the flow's snapshot inject every `everyMs` of simulated time until `until()` (at most
     * `max` frames): each frame reaches the failure detection node and its call ends before time moves on.
     */
    async function drive(
      flow: FlowNode[],
      prefix: string,
      everyMs: number,
      until: () => boolean,
      beforeFrame: (i: number) => void = () => undefined,
      max = 60,
    ): Promise<void> {
      const frames: NodeMessage[] = [];
      helper.getNode(`${prefix}-detect`).on('input', (m: NodeMessage) => frames.push(m));
      const account = (helper.getNode('oe-example-gadget-api') as unknown as GadgetApiNode).gadgetApi();
      for (let i = 0; i < max && !until(); i++) {
        beforeFrame(i);
        const seen = frames.length;
        helper.getNode(`${prefix}-every`).receive({});
        // The flow only takes pictures while the status poll says the printer prints.
        if (printing(prefix)) await eventually('the snapshot at the failure detection node', () => frames.length > seen);
        else await settle(rig, flow);
        await account.settled();
        await settle(rig, flow);
        await step(rig, flow, everyMs);
        await account.settled();
      }
    }

    /** What the flow keeps from the status poll: whether the printer prints now. */
    const printing = (prefix: string): boolean => helper.getNode(`${prefix}-every`).context().flow.get('printing') === true;

    /** What both flows promise: a notification with the scored picture on each event, and the print paused on the pause suggestion. */
    async function checkOutcome(prefix: string, quality: NodeMessage[], paused: NodeMessage[]): Promise<void> {
      await eventually('the pause', () => paused.length > 0 && rig.printer.state === 'paused');
      await eventually('two notifications', () => capture.requests.filter((r) => r.path === `/${prefix}-ntfy`).length >= 2);
      const notes = capture.requests.filter((r) => r.path === `/${prefix}-ntfy`);
      assert.deepEqual(
        notes.map((r) => r.headers.title),
        ['Gadget warning', 'Gadget: pausing the print'],
      );
      for (const r of notes) {
        assert.equal(r.method, 'PUT');
        assert.ok(isJpeg(r.body), 'the notification carries the scored picture');
      }
      const qualities = quality.map((m) => (m.payload as { printQuality: number }).printQuality);
      assert.equal(qualities[0], 8, 'good while the print is good');
      assert.equal(qualities.at(-1), 3, 'then failing');
      const calls = rig.sim.gadgetApi.processCalls();
      const gaps = calls.slice(1).map((c, i) => ({ ms: c.at - calls[i].at, sameContext: c.contextId === calls[i].contextId }));
      assert.ok(
        gaps.every((g) => g.ms >= (g.sameContext ? 40_000 : 20_000)),
        "never sooner than the 40 s interval (20 s into a new print's context)",
      );
    }

    it('any camera: an http request snapshot every 10 s → failure detection → notification with the image, pause', async () => {
      rig.printer.startPrint('benchy.gcode', { durationSec: 7200 });
      const { flow, credentials } = prepare(readFlow('gadget-any-camera.json'), { sim: rig.sim, captureUrl: capture.url, publicUrl: nodeServer.url });
      // The camera: the simulated printer's own mjpg-streamer snapshot URL on its LAN address.
      const camera = flow.find((n) => n.id === 'gac-camera');
      assert.ok(camera);
      camera.url = `${rig.printer.url}/webcam/?action=snapshot`;
      await helper.load([nodeServer.attach, ...modulesFor(flow)], flow as never, credentials as never);
      const quality = received('gac-quality');
      const paused = received('gac-paused');
      await drive(
        flow,
        'gac',
        10_000,
        () => paused.length > 0,
        (i) => i === 8 && rig.printer.scriptGadget('warn'),
      );
      await checkOutcome('gac', quality, paused);
      const frames = rig.sim.gadgetApi.processCalls().length;
      assert.ok(frames < quality.length + 1 && frames >= 5, `one call per interval (${frames})`);
      // Paused, the printer no longer prints: once the status poll says so, no picture is scored.
      await step(rig, flow, 60_000, () => !printing('gac'));
      assert.equal(printing('gac'), false);
      // The frame still waiting for the interval from before the pause may go; nothing after it.
      await step(rig, flow, 40_000);
      await (helper.getNode('oe-example-gadget-api') as unknown as GadgetApiNode).gadgetApi().settled();
      const calls = rig.sim.gadgetApi.processCalls().length;
      await drive(
        flow,
        'gac',
        10_000,
        () => false,
        () => undefined,
        12,
      );
      assert.equal(rig.sim.gadgetApi.processCalls().length, calls, 'no paid call while the printer does not print');
    });

    it('our webcam node: snapshots every 5 s, a new context per print from the status poll, notification and pause', async () => {
      const { flow } = await load('gadget-webcam-node.json');
      const quality = received('gwn-quality');
      const paused = received('gwn-paused');
      // Before the print: the inject fires, but no picture is taken or scored (an idle printer costs nothing).
      const snapshots = received('gwn-detect');
      await drive(
        flow,
        'gwn',
        5_000,
        () => false,
        () => undefined,
        12,
      );
      assert.equal(printing('gwn'), false);
      assert.equal(snapshots.length, 0);
      assert.equal(rig.sim.gadgetApi.calls.length, 0, 'no Gadget call before the print');
      rig.printer.startPrint('benchy.gcode', { durationSec: 7200 });
      await drive(
        flow,
        'gwn',
        5_000,
        () => paused.length > 0,
        (i) => i === 16 && rig.printer.scriptGadget('warn'),
      );
      await checkOutcome('gwn', quality, paused);
      const creates = rig.sim.gadgetApi.calls.filter((c) => c.kind === 'create');
      assert.equal(creates.length, 1, 'one context for the print');
    });
  });

  describe('the npm start demo flow', () => {
    it('serves the live page, the latest status and events as JSON, and a webcam JPEG', async () => {
      rig.printer.startPrint('benchy.gcode', { durationSec: 1000 });
      const { flow } = await load(DEMO_FLOW);
      const events = received('oe-demo-debug-events');
      await step(rig, flow, 300_000, () => events.some((m) => m.topic === 'print-progress'));
      assert.ok(
        events.some((m) => m.topic === 'print-progress'),
        'events reach the debug sidebar',
      );

      const page = await fetch(`${nodeServer.url}/octoeverywhere-demo`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      const html = await page.text();
      assert.match(html, /status\.json/);
      assert.match(html, /webcam\.jpg/);

      const status = (await (await fetch(`${nodeServer.url}/octoeverywhere-demo/status.json`)).json()) as {
        status: { state: string; printerName: string } | null;
        events: Array<{ event: string }>;
      };
      assert.equal(status.status?.state, 'printing');
      assert.equal(status.status?.printerName, 'Voron 2.4');
      assert.ok(status.events.some((e) => e.event === 'print-progress'));

      const webcam = await fetch(`${nodeServer.url}/octoeverywhere-demo/webcam.jpg`);
      assert.equal(webcam.status, 200);
      assert.equal(webcam.headers.get('content-type'), 'image/jpeg');
      assert.ok(isJpeg(Buffer.from(await webcam.arrayBuffer())));
    });
  });
});
