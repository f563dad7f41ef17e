// octoeverywhere-printer-mqtt in the real runtime against the simulator's MQTT proxy on the manual
// clock: Bambu report + pushall, CC2 register + status, publish framing, bad input, SUBACK 0x80,
// the printer link dropping and coming back, 606, and a close that leaves no session and no timer.
import assert from 'node:assert/strict';
import type { NodeMessage, NodeInitializer } from 'node-red';
import type { TestFlows } from 'node-red-node-test-helper';
import { createClock, type ManagedClock, type Simulator, startSimulator } from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import { coreNode, helper, nodeModule } from '../helpers/nodes';
import { secretsIn } from '../helpers/secrets';
import { credentialsOf } from '../helpers/simulator';
import { until } from '../client/live-helpers';

const TYPE = 'octoeverywhere-printer-mqtt';
const configModule = nodeModule('octoeverywhere-app-connection') as NodeInitializer;
const mqttModule = nodeModule(TYPE) as NodeInitializer;
const catchModule = coreNode('common/25-catch.js') as NodeInitializer;

interface Rec {
  messages: NodeMessage[];
  events: NodeMessage[];
  caught: Array<NodeMessage & { error?: { code?: string; message?: string } }>;
  statuses: Array<{ fill?: string; shape?: string; text?: string }>;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('node: octoeverywhere-printer-mqtt', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  let bambu: SimulatedPrinter;
  let cc2: SimulatedPrinter;

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({
      clock,
      printers: [
        { kind: 'bambu', name: 'P1S' },
        { kind: 'elegoo-cc2', name: 'CC2' },
      ],
    });
    bambu = sim.printers[0] as SimulatedPrinter;
    cc2 = sim.printers[1] as SimulatedPrinter;
    helper.settings({ octoeverywhereClock: clock } as Parameters<typeof helper.settings>[0]);
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    await sim.close();
    clock.dispose();
  });

  const load = async (node: Record<string, unknown>, options: { printer?: number; token?: string } = {}): Promise<Rec> => {
    const keys = sim.createAppConnection(options.printer ?? 0);
    const creds = credentialsOf(keys);
    if (options.token) creds.authBearerToken = options.token;
    // Flow nodes need a tab and a position: without them the runtime takes them for config nodes.
    const at = { z: 'f1', x: 100, y: 100 };
    const flow = [
      { id: 'f1', type: 'tab' },
      { id: 'c1', type: 'octoeverywhere-app-connection', printerName: 'P', serviceUrl: sim.serviceUrl },
      {
        id: 'm1',
        type: TYPE,
        connection: 'c1',
        topics: '',
        qos: '0',
        datatype: 'auto-detect',
        retain: false,
        version: 1,
        wires: [['out'], ['events']],
        ...at,
        ...node,
      },
      { id: 'out', type: 'helper', ...at },
      { id: 'events', type: 'helper', ...at },
      { id: 'catch', type: 'catch', scope: ['m1'], uncaught: false, wires: [['caught']], ...at },
      { id: 'caught', type: 'helper', ...at },
    ];
    const rec: Rec = { messages: [], events: [], caught: [], statuses: [] };
    await helper.load([configModule, mqttModule, catchModule], flow as TestFlows, { c1: creds });
    helper.getNode('out').on('input', (msg: NodeMessage) => rec.messages.push(msg));
    helper.getNode('events').on('input', (msg: NodeMessage) => rec.events.push(msg));
    helper.getNode('caught').on('input', (msg: NodeMessage) => rec.caught.push(msg));
    const m1 = helper.getNode('m1') as unknown as { status: (s: Rec['statuses'][number]) => void };
    const status = m1.status.bind(m1);
    m1.status = (s) => {
      rec.statuses.push(s);
      status(s);
    };
    return rec;
  };

  const send = (msg: Record<string, unknown>): void => helper.getNode('m1').receive(msg as NodeMessage);
  const run = async (sec: number, done: () => boolean = () => false): Promise<void> => {
    for (let s = 0; s < sec && !done(); s++) {
      await clock.advance(1000);
      for (let i = 0; i < 5; i++) await turn();
    }
  };
  const connected = (rec: Rec): number => rec.events.filter((e) => e.topic === 'connected').length;
  const codes = (rec: Rec): Array<string | undefined> => rec.caught.map((c) => c.error?.code);

  it('Bambu: subscribes to the report; a pushall sent at deploy is answered with the full state as parsed JSON', async () => {
    const sn = bambu.serialNumber ?? '';
    const rec = await load({ topics: `device/${sn}/report\n` });
    // At deploy, before the session is up: it waits and goes out once the subscription is in place.
    send({ topic: `device/${sn}/request`, payload: { pushing: { sequence_id: '0', command: 'pushall' } } });
    await until(() => rec.messages.length > 0, 'the report');
    const report = rec.messages[0] as NodeMessage & { qos: number; retain: boolean };
    assert.equal(report.topic, `device/${sn}/report`);
    assert.equal(typeof ((report.payload as Record<string, Record<string, unknown>>).print ?? {}).gcode_state, 'string');
    assert.equal(report.qos, 0);
    assert.equal(report.retain, false);
    assert.deepEqual(rec.events[0], { topic: 'connected', payload: { topics: [`device/${sn}/report`] }, _msgid: rec.events[0]?._msgid });
    assert.deepEqual(rec.statuses.at(-1), { fill: 'green', shape: 'dot', text: 'status.connected' });
    assert.deepEqual(rec.caught, []);
    assert.deepEqual(secretsIn(JSON.stringify([rec.messages, rec.events, rec.statuses])), []);
  });

  it('Elegoo CC2: registers and gets the full status', async () => {
    const p = `elegoo/${cc2.serialNumber ?? ''}/`;
    const rec = await load({ topics: `${p}nr/api_response\n${p}rq/register_response`, qos: '1' }, { printer: 1 });
    send({ topic: `${p}api_register`, payload: { client_id: 'nr', request_id: 'rq' } });
    await until(() => rec.messages.some((m) => m.topic === `${p}rq/register_response`), 'the registration');
    send({ topic: `${p}nr/api_request`, payload: { id: 1, method: 1002, params: {} }, qos: 1 });
    await until(() => rec.messages.some((m) => m.topic === `${p}nr/api_response`), 'the status');
    const answer = rec.messages.find((m) => m.topic === `${p}nr/api_response`)?.payload as Record<string, Record<string, unknown>>;
    assert.equal(answer.method, 1002);
    assert.ok(answer.result.machine_status);
  });

  it('publishes an object as JSON, a string as is, a Buffer as bytes, a number as text; gives received payloads in the chosen format', async () => {
    const rec = await load({ topics: 'echo/#' });
    await until(() => connected(rec) === 1, 'the session');
    send({ topic: 'echo/object', payload: { a: 1 } });
    send({ topic: 'echo/string', payload: 'plain text' });
    send({ topic: 'echo/buffer', payload: Buffer.from([0xff, 0x00, 0xfe]) });
    send({ topic: 'echo/number', payload: 42, retain: true });
    await until(() => rec.messages.length === 4, 'the four echoes');
    const by = (topic: string): unknown => rec.messages.find((m) => m.topic === topic)?.payload;
    assert.deepEqual(by('echo/object'), { a: 1 });
    assert.equal(by('echo/string'), 'plain text');
    assert.deepEqual(by('echo/buffer'), Buffer.from([0xff, 0x00, 0xfe]), 'not UTF-8: a Buffer');
    assert.equal(by('echo/number'), 42, 'auto-detect parses "42"');
    await helper.unload();
    const asText = await load({ topics: 'echo/#', datatype: 'utf8' });
    // The retained message is replayed on subscribing.
    await until(() => asText.messages.length > 0, 'the retained echo');
    assert.equal(asText.messages[0]?.payload, '42');
    assert.equal((asText.messages[0] as NodeMessage & { retain?: boolean }).retain, true);
    await helper.unload();
    const asJson = await load({ topics: 'echo/#', datatype: 'json' });
    await until(() => asJson.messages.length > 0, 'the retained echo as JSON');
    assert.equal(asJson.messages[0]?.payload, 42);
    send({ topic: 'echo/text', payload: 'not json' });
    await until(() => asJson.caught.length > 0, 'the JSON error');
    assert.equal(asJson.caught[0]?.error?.code, 'OE_MQTT_INVALID_JSON');
    assert.equal(asJson.caught[0]?.topic, 'echo/text', 'the received message reaches Catch with its topic');
    await helper.unload();
    const asBytes = await load({ topics: 'echo/#', datatype: 'buffer' });
    await until(() => asBytes.messages.length > 0, 'the retained echo as bytes');
    assert.deepEqual(asBytes.messages[0]?.payload, Buffer.from('42'));
  });

  it('refuses bad input with a coded error and a red ring, and keeps working', async () => {
    const rec = await load({ topics: 'echo/#' });
    await until(() => connected(rec) === 1, 'the session');
    send({ payload: 'no topic' });
    send({ topic: '', payload: 'empty topic' });
    send({ topic: 'device/+/request', payload: 'wildcard' });
    send({ topic: 'echo/x', payload: 'x', qos: 2 });
    send({ topic: 'echo/x', payload: 'x', retain: 'yes' });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    send({ topic: 'echo/x', payload: cyclic });
    await until(() => rec.caught.length === 6, 'six errors');
    assert.deepEqual(codes(rec), [
      'OE_MQTT_NO_TOPIC',
      'OE_MQTT_NO_TOPIC',
      'OE_MQTT_INVALID_TOPIC',
      'OE_MQTT_INVALID_QOS',
      'OE_MQTT_INVALID_RETAIN',
      'OE_MQTT_INVALID_PAYLOAD',
    ]);
    assert.equal(rec.caught[2]?.payload, 'wildcard', 'the failed message itself reaches Catch');
    assert.deepEqual(rec.statuses.at(-1), { fill: 'red', shape: 'ring', text: 'OE_MQTT_INVALID_PAYLOAD' });
    send({ topic: 'echo/ok', payload: 'fine' });
    await until(() => rec.messages.some((m) => m.topic === 'echo/ok'), 'a good message still goes');
  });

  it('an invalid filter in the node is a configuration error: no session, every message fails with its code', async () => {
    const rec = await load({ topics: 'a/#/b' });
    send({ topic: 'a/b', payload: 'x' });
    await until(() => rec.caught.length === 1, 'the error');
    assert.equal(rec.caught[0]?.error?.code, 'OE_MQTT_INVALID_TOPIC');
    await run(5);
    assert.equal(sim.socketChaos.openSockets, 0);
  });

  it('a filter the proxy refuses (SUBACK 0x80) is one coded error naming it, on Catch and output 2', async () => {
    const sn = bambu.serialNumber ?? '';
    bambu.mqtt?.refusedFilters.add('refused/topic');
    const rec = await load({ topics: `refused/topic\ndevice/${sn}/report` });
    await until(() => rec.caught.length === 1 && connected(rec) === 1, 'the refusal and the session');
    assert.equal(rec.caught[0]?.error?.code, 'OE_MQTT_SUBSCRIBE_REFUSED');
    assert.match(rec.caught[0]?.error?.message ?? '', /refused\/topic.*serial number/);
    const error = rec.events.find((e) => e.topic === 'error');
    assert.equal((error?.payload as { code?: string }).code, 'OE_MQTT_SUBSCRIBE_REFUSED');
    assert.deepEqual((rec.events.find((e) => e.topic === 'connected')?.payload as { topics: string[] }).topics, [`device/${sn}/report`]);
  });

  it('msg.action subscribes and unsubscribes at run time (kept across reconnects); a refused or invalid one fails with its code', async () => {
    const sn = bambu.serialNumber ?? '';
    bambu.mqtt?.refusedFilters.add('refused/topic');
    const rec = await load({ topics: '' });
    await until(() => connected(rec) === 1, 'the session');
    send({ action: 'subscribe', topic: [`device/${sn}/report`] });
    await until(() => bambu.mqtt?.subscriptions.has(`device/${sn}/report`) === true, 'the subscription');
    send({ topic: `device/${sn}/request`, payload: { pushing: { sequence_id: '0', command: 'pushall' } } });
    await until(() => rec.messages.length > 0, 'the report');
    sim.socketChaos.drop();
    await run(60, () => connected(rec) === 2);
    assert.deepEqual((rec.events.filter((e) => e.topic === 'connected')[1]?.payload as { topics: string[] }).topics, [`device/${sn}/report`]);
    send({ action: 'unsubscribe', topic: true });
    await until(() => bambu.mqtt?.subscriptions.size === 0, 'the unsubscription');
    send({ action: 'subscribe', topic: 'refused/topic' });
    send({ action: 'subscribe', topic: 'a/#/b' });
    send({ action: 'subscribe' });
    send({ action: 'connect', topic: 'x' });
    await until(() => rec.caught.length === 4, 'four errors');
    assert.deepEqual(codes(rec).sort(), ['OE_MQTT_INVALID_ACTION', 'OE_MQTT_INVALID_TOPIC', 'OE_MQTT_NO_TOPIC', 'OE_MQTT_SUBSCRIBE_REFUSED']);
  });

  it('the printer link drops: disconnected, retried while the proxy says CONNACK 3, connected and subscribed again when it is back', async () => {
    const sn = bambu.serialNumber ?? '';
    const rec = await load({ topics: `device/${sn}/report` });
    await until(() => connected(rec) === 1, 'the session');
    sim.socketChaos.setPrinterLink(bambu, false);
    await until(() => rec.events.some((e) => e.topic === 'disconnected'), 'the drop');
    await run(60, () => rec.statuses.some((s) => s.text === 'status.retrying'));
    assert.ok(rec.statuses.some((s) => s.fill === 'yellow' && s.shape === 'ring'));
    sim.socketChaos.setPrinterLink(bambu, true);
    await run(90, () => connected(rec) === 2);
    assert.equal(connected(rec), 2);
    assert.deepEqual(codes(rec), [], 'a passing outage is no error for Catch');
    send({ topic: `device/${sn}/request`, payload: { pushing: { sequence_id: '0', command: 'pushall' } } });
    await until(() => rec.messages.length > 0, 'reports again');
  });

  it('606 on the upgrade: one error (Catch, output 2, red ring) and no retry', async () => {
    const rec = await load({ topics: 'device/x/report' }, { token: 'not-the-token' });
    await until(() => rec.caught.length === 1, 'the error');
    assert.equal(rec.caught[0]?.error?.code, 'OE_606');
    assert.deepEqual(rec.statuses.at(-1), { fill: 'red', shape: 'ring', text: 'OE_606' });
    await run(120);
    assert.equal(rec.caught.length, 1, 'one error only');
    send({ topic: 'device/x/request', payload: '{}' });
    await until(() => rec.caught.length === 2, 'the refused publish');
    assert.equal(rec.caught[1]?.error?.code, 'OE_MQTT_NOT_CONNECTED');
    assert.deepEqual(secretsIn(JSON.stringify([rec.caught, rec.events])), []);
  });

  it('close (a redeploy) ends the session with DISCONNECT and leaves no socket, subscription or timer', async () => {
    const sn = bambu.serialNumber ?? '';
    const baseline = clock.pendingTimers;
    const rec = await load({ topics: `device/${sn}/report` });
    await until(() => connected(rec) === 1, 'the session');
    assert.equal(sim.socketChaos.openSockets, 1);
    assert.ok(clock.pendingTimers > baseline, 'the keepalive runs on the clock');
    await helper.unload();
    await until(() => sim.socketChaos.openSockets === 0, 'the session to close');
    assert.equal(bambu.mqtt?.subscriptions.size, 0);
    await run(5);
    assert.ok(clock.pendingTimers <= baseline, `the node released its timers (${clock.pendingTimers} > ${baseline})`);
    await run(120);
    assert.equal(sim.socketChaos.openSockets, 0, 'no reconnect after close');
    assert.deepEqual(
      rec.events.map((e) => e.topic),
      ['connected'],
      'its own close is no "disconnected" for the flow that is going',
    );
  });
});
