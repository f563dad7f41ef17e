// octoeverywhere-home-assistant against the simulator (on its manual clock) and a real mosquitto, with
// Node-RED's own mqtt-broker config node and an MQTT.js client standing in for Home Assistant: the
// retained discovery configs a late subscriber sees (per platform), state on change, device triggers
// once per event through a whole print, buttons and a failing command, availability, webcam pictures
// only while printing, removal and rename.
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import type { NodeInitializer, NodeMessage } from 'node-red';
import { coreNode, helper, nodeModule, setFlows } from '../helpers/nodes';
import { advanceInSteps, credentialsOf } from '../helpers/simulator';
import { createClock, type ManagedClock, type Simulator, startSimulator } from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import type { AppConnectionNode } from '../../src/nodes/shared/types';
import { TRIGGER_EVENTS } from '../../src/nodes/shared/home-assistant/discovery';
import { BROKER_REQUIRED, type Broker, brokerConfig, mosquittoPath, startMosquitto } from '../helpers/mosquitto';
import { eventually, isJpeg } from '../examples/support';

const modules = [
  nodeModule('octoeverywhere-app-connection'),
  nodeModule('octoeverywhere-home-assistant'),
  coreNode('network/10-mqtt.js'),
  coreNode('common/25-catch.js'),
] as unknown as NodeInitializer[];

const ID = 'octoeverywhere_c1';
const BASE = `octoeverywhere/${ID}`;

interface Seen {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** An MQTT.js client on the test broker that records everything under `filter`. */
async function subscriber(port: number, filter = '#'): Promise<{ client: MqttClient; seen: Seen[] }> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  const seen: Seen[] = [];
  client.on('message', (topic, payload, packet) => seen.push({ topic, payload, retain: packet.retain }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, seen };
}

const text = (m: Seen | undefined): string => m?.payload.toString('utf8') ?? '';
const json = (m: Seen): Record<string, unknown> => JSON.parse(text(m)) as Record<string, unknown>;
/** The latest message on a topic. */
const latest = (seen: Seen[], topic: string): Seen | undefined => seen.filter((m) => m.topic === topic).at(-1);
/** Discovery configs (non-empty), by topic, the latest of each. */
function configs(seen: Seen[]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const m of seen) {
    if (!m.topic.startsWith('homeassistant/') || !m.topic.endsWith('/config')) continue;
    if (m.payload.length === 0) out.delete(m.topic);
    else out.set(m.topic, json(m));
  }
  return out;
}

/** Required keys per discovery component (Home Assistant's MQTT platform schemas). */
const REQUIRED: Record<string, string[]> = {
  sensor: ['state_topic'],
  binary_sensor: ['state_topic'],
  button: ['command_topic'],
  switch: ['command_topic', 'state_topic'],
  image: ['image_topic', 'content_type'],
  device_automation: ['automation_type', 'topic', 'type', 'subtype'],
};

describe('node: octoeverywhere-home-assistant (simulator + mosquitto)', function () {
  // Whole simulated prints in 1 s steps, each poll real HTTP and each message through a real broker.
  this.timeout(120_000);
  let broker: Broker | undefined;
  let clock: ManagedClock;
  let sim: Simulator;
  const clients: MqttClient[] = [];

  const binary = mosquittoPath();
  before(function () {
    if (!binary) {
      if (BROKER_REQUIRED) throw new Error('mosquitto is required (CI / OE_REQUIRE_BROKER=1) but was not found');
      this.skip();
    }
  });
  beforeEach(async () => {
    // A broker of its own per test: nothing retained by an earlier test.
    broker = await startMosquitto(binary as string);
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({
      clock,
      printers: [
        { kind: 'moonraker', name: 'Voron 2.4' },
        { kind: 'octoprint', name: 'Prusa MK4' },
        { kind: 'bambu', name: 'Bambu P1S' },
      ],
    });
    helper.settings({ octoeverywhereClock: clock, mqttReconnectTime: 200 } as Parameters<typeof helper.settings>[0]);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    await helper.unload();
    helper.settings({});
    await sim.close();
    clock.dispose();
    await broker?.stop();
  });

  const port = (): number => (broker as Broker).port;

  function flow(printer: number, ha: Record<string, unknown> = {}): Array<Record<string, unknown>> {
    return [
      { id: 'f1', type: 'tab', label: 'ha' },
      { id: 'c1', type: 'octoeverywhere-app-connection', printerName: sim.printers[printer].name, serviceUrl: sim.serviceUrl },
      brokerConfig('b1', port(), {
        birthTopic: 'octoeverywhere/bridge',
        birthQos: '1',
        birthRetain: 'true',
        birthPayload: 'online',
        closeTopic: 'octoeverywhere/bridge',
        closeQos: '1',
        closeRetain: 'true',
        closePayload: 'offline',
        willTopic: 'octoeverywhere/bridge',
        willQos: '1',
        willRetain: 'true',
        willPayload: 'offline',
      }),
      {
        id: 'ha1',
        z: 'f1',
        type: 'octoeverywhere-home-assistant',
        connection: 'c1',
        broker: 'b1',
        prefix: 'homeassistant',
        deviceName: '',
        mode: 'poll',
        interval: 10,
        webcamInterval: 10,
        version: 1,
        ...ha,
      },
      { id: 'catcher', z: 'f1', type: 'catch', scope: ['ha1'], uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
  }

  let credentials: Record<string, unknown> = {};
  async function load(printer = 0, ha: Record<string, unknown> = {}): Promise<{ seen: Seen[]; printer: SimulatedPrinter; caught: NodeMessage[] }> {
    const watcher = await subscriber(port());
    clients.push(watcher.client);
    credentials = { c1: credentialsOf(sim.createAppConnection(printer)) };
    await helper.load(modules, flow(printer, ha) as never, credentials as never);
    const caught: NodeMessage[] = [];
    helper.getNode('caught').on('input', (m: NodeMessage) => caught.push(m));
    await eventually('the first state', () => latest(watcher.seen, `${BASE}/state`) !== undefined);
    return { seen: watcher.seen, printer: sim.printers[printer] as SimulatedPrinter, caught };
  }

  const settle = async (): Promise<void> => {
    const config = helper.getNode('c1') as unknown as AppConnectionNode | null;
    if (config) await config.poller().settled();
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  };
  const step = (ms: number, until?: () => boolean): Promise<void> => advanceInSteps(clock, ms, settle, until);

  for (const [index, platform, expected] of [
    [0, 'Moonraker', { lights: ['light_chamber'], chamber: true, model: 'Klipper (Moonraker)' }],
    [1, 'OctoPrint', { lights: [], chamber: false, model: 'OctoPrint' }],
    [2, 'Bambu Lab', { lights: ['light_chamber_light'], chamber: true, model: 'Bambu Lab' }],
  ] as const) {
    it(`a late subscriber sees valid retained configs for every entity (${platform})`, async () => {
      const { seen, printer } = await load(index);
      // Temperatures (the chamber among them) come with a running print.
      printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 100 });
      await step(600_000, () => printer.simulation.state === 'printing');
      await step(10_000);
      await eventually('the printing state', () => json(latest(seen, `${BASE}/state`) as Seen).state === 'printing');
      await new Promise((r) => setTimeout(r, 50));
      const early = configs(seen);
      const late = await subscriber(port(), 'homeassistant/#');
      clients.push(late.client);
      await eventually('the retained configs', () => configs(late.seen).size === early.size && early.size > 0);
      assert.ok(
        late.seen.every((m) => m.retain),
        'all retained',
      );
      const found = configs(late.seen);
      const keys = new Set<string>();
      const uniqueIds = new Set<string>();
      for (const [topic, config] of found) {
        const [, component, node, key] = topic.split('/');
        assert.equal(node, ID);
        keys.add(`${component}/${key}`);
        for (const required of REQUIRED[component] ?? ['unknown component']) assert.ok(config[required] !== undefined, `${topic} has ${required}`);
        const device = config.device as Record<string, unknown>;
        assert.deepEqual(device.identifiers, [ID]);
        assert.equal(device.name, sim.printers[index].name);
        assert.equal(device.model, expected.model);
        assert.match(String(device.configuration_url), /^https?:\/\/.+\/view\//, 'the printer page from the Info API');
        if (component !== 'device_automation') {
          assert.equal(typeof config.name, 'string');
          assert.ok(!uniqueIds.has(String(config.unique_id)), 'unique ids are unique');
          uniqueIds.add(String(config.unique_id));
          assert.equal(config.availability_mode, 'all');
          const availability = config.availability as Array<{ topic: string }>;
          assert.ok(
            availability.some((a) => a.topic === 'octoeverywhere/bridge'),
            "the broker's will/birth topic is part of availability",
          );
        }
      }
      const has = (component: string, key: string): boolean => keys.has(`${component}/${key}`);
      for (const key of [
        'state',
        'progress',
        'time_left',
        'finish_time',
        'file',
        'current_layer',
        'total_layers',
        'bed',
        'bed_target',
        'hotend',
        'hotend_target',
        'gadget_status',
        'gadget_rating',
      ])
        assert.ok(has('sensor', key), key);
      for (const key of ['online', 'printing', 'error']) assert.ok(has('binary_sensor', key), key);
      for (const key of ['pause', 'resume', 'cancel']) assert.ok(has('button', key), key);
      assert.ok(has('image', 'webcam'));
      assert.equal(has('sensor', 'chamber'), expected.chamber);
      const of = (component: string): string[] => [...keys].filter((k) => k.startsWith(`${component}/`)).map((k) => k.slice(component.length + 1));
      assert.deepEqual(of('switch'), [...expected.lights]);
      assert.deepEqual(
        of('device_automation'),
        [...TRIGGER_EVENTS].map((e) => e.replace(/-/g, '_')),
        'a trigger per derived event',
      );
      const state = json(latest(seen, `${BASE}/state`) as Seen);
      assert.equal(state.state, 'printing');
      assert.equal(state.online, true);
      assert.equal(text(latest(seen, `${BASE}/availability`)), 'online');
    });
  }

  for (const [mode, readings] of [['poll'], ['auto'], ['auto', 'interval']] as const)
    it(`publishes the state on change only and fires each device trigger once per event through a whole print (${mode}${readings ? `, readings once per ${readings}` : ''})`, async () => {
      const { seen, printer } = await load(0, { mode, ...(readings ? { readings } : {}) });
      if (readings)
        assert.equal((helper.getNode('c1') as unknown as AppConnectionNode).live().readingsMs, 10_000, 'the socket reads once per the node’s interval');
      const sim0 = printer.simulation;
      const states = (): number => seen.filter((m) => m.topic === `${BASE}/state`).length;
      await step(60_000);
      await new Promise((r) => setTimeout(r, 50));
      // Poll: the first state stands. Auto: the live socket's first status adds the idle temperatures.
      const idle = states();
      assert.equal(idle, mode === 'poll' ? 1 : 2);
      await step(60_000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(states(), idle, 'idle polls and pushes change nothing: no new state message');
      if (mode === 'auto') assert.deepEqual(json(latest(seen, `${BASE}/state`) as Seen).lights, { chamber: 'OFF' }, 'the lights from the polls');

      printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 100 });
      await step(600_000, () => sim0.state === 'printing' && sim0.progress >= 22);
      printer.scriptGadget('warn');
      await step(20_000);
      await step(3_600_000, () => sim0.state === 'complete');
      await step(3_600_000, () => sim0.heaters.bed.actual < 39);
      await step(20_000);
      const expected = [
        'print-started',
        'first-layer-complete',
        'third-layer-complete',
        'print-progress',
        'print-progress',
        'gadget-warning',
        ...Array<string>(7).fill('print-progress'),
        'print-complete',
        'bed-cooldown-complete',
      ];
      const events = (): Seen[] => seen.filter((m) => m.topic === `${BASE}/event`);
      await eventually('every event', () => events().length >= expected.length);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        events().map((m) => json(m).event),
        expected,
      );
      assert.ok(
        events().every((m) => !m.retain),
        'device triggers are not retained',
      );
      if (mode === 'auto')
        assert.ok(
          events().some((m) => json(m).source === 'live'),
          'the live socket told some of them: still once each',
        );
      const started = json(events()[0]);
      assert.equal(started.fileName, 'cube.gcode');
      const printingStates = seen.filter((m) => m.topic === `${BASE}/state`).map((m) => json(m));
      assert.ok(printingStates.some((s) => s.state === 'printing' && typeof s.progress === 'number' && typeof s.finish_time === 'string'));
      assert.equal(printingStates.at(-1)?.state, 'complete');
      // No two state messages in a row are the same.
      for (let i = 1; i < printingStates.length; i++) assert.notDeepEqual(printingStates[i], printingStates[i - 1]);
    });

  it('a button press from MQTT pauses the simulated print; a failing command shows in Home Assistant and on Catch', async () => {
    const { seen, printer, caught } = await load(0);
    printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 100 });
    await step(600_000, () => printer.simulation.state === 'printing');
    const ha = await subscriber(port(), 'nothing/here');
    clients.push(ha.client);
    await ha.client.publishAsync(`${BASE}/command`, 'pause', { qos: 1 });
    await eventually('the pause', () => printer.simulation.state === 'paused');
    await eventually('the result', () => text(latest(seen, `${BASE}/command/result`)).includes('"ok"'));
    assert.equal(json(latest(seen, `${BASE}/command/result`) as Seen).action, 'pause');

    // Cancel while paused is fine; a second resume after resuming is refused by the printer (786).
    await ha.client.publishAsync(`${BASE}/command`, 'resume', { qos: 1 });
    await eventually('the resume', () => printer.simulation.state !== 'paused');
    await step(60_000, () => printer.simulation.state === 'printing');
    await eventually('the second result', () => seen.filter((m) => m.topic === `${BASE}/command/result`).length >= 2);
    await ha.client.publishAsync(`${BASE}/command`, 'resume', { qos: 1 });
    await eventually('the failure', () => caught.length === 1 && seen.filter((m) => m.topic === `${BASE}/command/result`).length === 3);
    const result = json(latest(seen, `${BASE}/command/result`) as Seen);
    assert.equal(result.code, 'OE_786');
    assert.equal(result.action, 'resume');
    // The printer command node's words (the test runtime shows catalog keys).
    assert.match(String(result.message), /octoeverywhere-printer-command:errors\.state-resume/);
    const error = (caught[0] as NodeMessage & { error: { message: string; code?: string } }).error;
    assert.match(error.message, /errors\.state-resume/);
    assert.equal(error.code, 'OE_786', 'Catch nodes branch on the code');
    assert.equal((caught[0] as NodeMessage & { action?: string }).action, 'resume');

    // Only the buttons' actions: a start or a move from the broker is refused before anything is sent.
    await ha.client.publishAsync(`${BASE}/command`, '{"action":"home"}', { qos: 1 });
    await eventually('the refusal', () => caught.length === 2 && seen.filter((m) => m.topic === `${BASE}/command/result`).length === 4);
    assert.equal(json(latest(seen, `${BASE}/command/result`) as Seen).code, 'OE_INVALID_ARGUMENT');
    assert.equal(printer.simulation.state, 'printing');

    // A light switch.
    await ha.client.publishAsync(`${BASE}/light/chamber/set`, 'ON', { qos: 1 });
    await eventually('the light', () => text(latest(seen, `${BASE}/command/result`)).includes('set-light'));
    await step(10_000);
    await eventually('the light state', () => (json(latest(seen, `${BASE}/state`) as Seen).lights as Record<string, string>).chamber === 'ON');
  });

  it('availability flips when the printer goes offline and back, and when the MQTT connection drops', async () => {
    const { seen, printer } = await load(0);
    printer.online = false;
    await step(60_000, () => text(latest(seen, `${BASE}/availability`)) === 'offline');
    await eventually('offline', () => text(latest(seen, `${BASE}/availability`)) === 'offline');
    assert.equal(json(latest(seen, `${BASE}/state`) as Seen).online, false);
    assert.equal(text(latest(seen, `${BASE}/node`)), 'online', 'the node itself still runs');
    printer.online = true;
    await step(20 * 60_000, () => text(latest(seen, `${BASE}/availability`)) === 'online');
    await eventually('online again', () => text(latest(seen, `${BASE}/availability`)) === 'online');

    // A dropped connection: mosquitto publishes the broker node's will; on reconnect its birth, and
    // the node publishes everything again.
    const before = seen.length;
    const brokerNode = helper.getNode('b1') as unknown as { client: { stream: { destroy(): void } } };
    brokerNode.client.stream.destroy();
    await eventually('the will', () => seen.slice(before).some((m) => m.topic === 'octoeverywhere/bridge' && text(m) === 'offline'));
    await eventually('the birth', () => seen.slice(before).some((m) => m.topic === 'octoeverywhere/bridge' && text(m) === 'online'), 10_000);
    await eventually('the configs again', () => seen.slice(before).some((m) => m.topic.endsWith('/config')));

    // Home Assistant restarted: it announces itself and gets every config again.
    const restart = seen.length;
    const ha = await subscriber(port(), 'nothing/here');
    clients.push(ha.client);
    await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await eventually('the configs after a Home Assistant restart', () => configs(seen.slice(restart)).size === configs(seen).size);
  });

  it('takes webcam pictures only while printing', async () => {
    const { seen, printer } = await load(0);
    const pictures = (): Seen[] => seen.filter((m) => m.topic === `${BASE}/webcam`);
    await step(60_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(pictures().length, 0, 'none while idle');
    printer.startPrint('cube.gcode', { durationSec: 120, totalLayers: 10 });
    await step(15_000, () => printer.simulation.state === 'printing');
    await eventually('a picture', () => pictures().length > 0);
    assert.ok(isJpeg(pictures()[0].payload));
    await step(3_600_000, () => printer.simulation.state === 'complete');
    await step(15_000);
    await new Promise((r) => setTimeout(r, 100));
    const after = pictures().length;
    await step(120_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(pictures().length, after, 'no pictures once the print is over');
  });

  it('a rename changes names, never unique ids; a redeploy says offline then online; removal clears every entity', async () => {
    const { seen } = await load(0);
    const first = configs(seen);
    const ids = (m: Map<string, Record<string, unknown>>): string[] => [...m].map(([t, c]) => `${t} ${String(c.unique_id)}`).sort();

    const mark = seen.length;
    await setFlows(flow(0, { deviceName: 'Workshop printer' }), 'nodes', credentials);
    await eventually('the renamed device', () => configs(seen.slice(mark)).size === first.size);
    const renamed = configs(seen.slice(mark));
    assert.deepEqual(ids(renamed), ids(first), 'same topics and unique ids');
    for (const config of renamed.values()) assert.equal((config.device as { name: string }).name, 'Workshop printer');
    const availability = seen
      .slice(mark)
      .filter((m) => m.topic === `${BASE}/availability`)
      .map(text);
    assert.deepEqual(availability.slice(0, 1), ['offline'], 'the old node said offline on close (not removed)');
    await eventually('online again', () => text(latest(seen, `${BASE}/availability`)) === 'online');

    await setFlows(
      flow(0).filter((n) => n.id !== 'ha1' && n.id !== 'catcher' && n.id !== 'caught'),
      'nodes',
      credentials,
    );
    await eventually('the entities cleared', () => configs(seen).size === 0);
    const brokerNode = helper.getNode('b1') as unknown as { users: Record<string, unknown>; subscriptions: Record<string, Record<string, unknown>> };
    assert.deepEqual(Object.keys(brokerNode.users), [], 'deregistered from the broker');
    assert.deepEqual(
      Object.values(brokerNode.subscriptions).filter((refs) => 'ha1' in refs),
      [],
      'no subscription left',
    );
    const late = await subscriber(port(), '#');
    clients.push(late.client);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      late.seen.filter((m) => m.topic.startsWith('homeassistant/') || m.topic.startsWith(BASE)).map((m) => m.topic),
      [],
      'nothing of the printer is retained any more',
    );
  });
});
