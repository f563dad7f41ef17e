// The raw MQTT client through the simulator's MQTT proxy on the manual clock: subscriptions and
// publishes for Bambu Lab and Elegoo CC2, SUBACK 0x80, the printer link dropping and coming back,
// 606 on the upgrade, a stalled proxy, the Bambu wrong-serial drop, waiting publishes, a clean close.
import assert from 'node:assert/strict';
import {
  type OctoEverywhereError,
  PRINTER_MQTT_QUEUE_LIMIT,
  PRINTER_MQTT_QUEUE_TIMEOUT_MS,
  PrinterMqttClient,
  type PrinterMqttMessage,
  type PrinterMqttOptions,
  type PrinterMqttState,
} from '../../src/client';
import { type LiveRig, startRig, tick, until } from './live-helpers';

interface Rec {
  states: PrinterMqttState[];
  messages: PrinterMqttMessage[];
  refused: OctoEverywhereError[];
}

function record(client: PrinterMqttClient): Rec {
  const r: Rec = { states: [], messages: [], refused: [] };
  client.on('state', (s) => r.states.push(s));
  client.on('message', (m) => r.messages.push(m));
  client.on('refused', (e) => r.refused.push(e));
  return r;
}

const json = (m: PrinterMqttMessage): Record<string, unknown> => JSON.parse(m.payload.toString('utf8')) as Record<string, unknown>;

/** Moves the manual clock a second at a time, letting socket I/O run, until `done()` (or `maxSec`). */
async function run(rig: LiveRig, maxSec: number, done: () => boolean = () => false): Promise<void> {
  for (let s = 0; s < maxSec && !done(); s++) {
    await rig.clock.advance(1000);
    for (let i = 0; i < 5; i++) await tick();
  }
}

describe('client live: raw printer MQTT through the proxy', () => {
  let rig: LiveRig | undefined;
  const clients: PrinterMqttClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop();
    await rig?.close();
    rig = undefined;
  });

  const make = (r: LiveRig, options: Partial<PrinterMqttOptions> = {}): { client: PrinterMqttClient; rec: Rec } => {
    const client = new PrinterMqttClient({ connection: r.connection, clock: r.clock, ...options });
    clients.push(client);
    return { client, rec: record(client) };
  };

  it('Bambu: subscribes to the report, a pushall waiting for the connection goes out after the SUBACK and is answered; stop leaves no session and no timer', async () => {
    rig = await startRig('bambu');
    const r = rig;
    const sn = r.printer.serialNumber ?? '';
    const { client, rec } = make(r, { topics: [`device/${sn}/report`] });
    client.start();
    // Sent before the session is up: it waits, and goes out once the subscription is in place.
    const sent = client.publish(`device/${sn}/request`, JSON.stringify({ pushing: { sequence_id: '0', command: 'pushall' } }));
    assert.equal(client.queued, 1);
    await sent;
    await until(() => rec.messages.some((m) => typeof (json(m).print as Record<string, unknown> | undefined)?.gcode_state === 'string'), 'the full report');
    const report = rec.messages.find((m) => m.topic === `device/${sn}/report`);
    assert.ok(report);
    assert.equal(report.qos, 0);
    assert.equal(report.retain, false);
    assert.deepEqual(
      rec.states.map((s) => s.status),
      ['connecting', 'connected'],
    );
    assert.deepEqual(client.subscriptions, [`device/${sn}/report`]);
    assert.equal(r.sim.socketChaos.openSockets, 1);
    await client.stop();
    assert.equal(client.pendingTimers, 0);
    await until(() => r.sim.socketChaos.openSockets === 0, 'the session to close');
    assert.equal(r.printer.mqtt?.subscriptions.size, 0, 'nothing left subscribed upstream');
    assert.equal(rec.states.at(-1)?.status, 'stopped');
  });

  it('Elegoo CC2: registers, asks for the full status and gets the status pushes', async () => {
    rig = await startRig('elegoo-cc2');
    const r = rig;
    const p = `elegoo/${r.printer.serialNumber ?? ''}/`;
    const { client, rec } = make(r, { topics: [`${p}api_status`, `${p}nr1/api_response`, `${p}req1/register_response`], qos: 1 });
    client.start();
    await until(() => client.state.status === 'connected', 'the session');
    await client.publish(`${p}api_register`, JSON.stringify({ client_id: 'nr1', request_id: 'req1' }));
    await until(() => rec.messages.some((m) => m.topic === `${p}req1/register_response`), 'the registration');
    await client.publish(`${p}nr1/api_request`, JSON.stringify({ id: 1, method: 1002, params: {} }), { qos: 1 });
    await until(() => rec.messages.some((m) => m.topic === `${p}nr1/api_response`), 'the full status');
    const full = json(rec.messages.find((m) => m.topic === `${p}nr1/api_response`) as PrinterMqttMessage);
    assert.equal(full.method, 1002);
    assert.equal(((full.result as Record<string, unknown>).machine_status as Record<string, unknown>).status, 1);
    r.printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 10 });
    await run(r, 30, () => rec.messages.some((m) => m.topic === `${p}api_status`));
    const push = json(rec.messages.find((m) => m.topic === `${p}api_status`) as PrinterMqttMessage);
    assert.equal(push.method, 6000);
  });

  it('publishes strings and bytes as they are, with QoS 1 and retain; a retained message is replayed to a later subscriber', async () => {
    rig = await startRig('bambu');
    const r = rig;
    const { client, rec } = make(r, { topics: ['test/#'] });
    client.start();
    await until(() => client.state.status === 'connected', 'the session');
    const bytes = Buffer.from([0, 1, 2, 0xff]);
    await client.publish('test/bytes', bytes, { qos: 1 });
    await client.publish('test/text', 'héllo', { retain: true });
    await until(() => rec.messages.length >= 2, 'both back');
    assert.deepEqual(rec.messages.find((m) => m.topic === 'test/bytes')?.payload, bytes);
    assert.equal(rec.messages.find((m) => m.topic === 'test/text')?.payload.toString('utf8'), 'héllo');
    const later = make(r, { topics: ['test/text'] });
    later.client.start();
    await until(() => later.rec.messages.length > 0, 'the retained replay');
    assert.equal(later.rec.messages[0]?.retain, true);
    assert.equal(later.rec.messages[0]?.payload.toString('utf8'), 'héllo');
    await assert.rejects(client.publish('test/+', 'x'), { code: 'OE_MQTT_INVALID_TOPIC' });
    assert.throws(() => new PrinterMqttClient({ connection: r.connection, topics: ['a/#/b'] }), { code: 'OE_MQTT_INVALID_TOPIC' });
  });

  it('a filter the proxy refuses (SUBACK 0x80) is one coded error naming it; the others stay subscribed and are subscribed again after a reconnect', async () => {
    rig = await startRig('bambu');
    const r = rig;
    const sn = r.printer.serialNumber ?? '';
    r.printer.mqtt?.refusedFilters.add('not/allowed');
    const { client, rec } = make(r, { topics: ['not/allowed', `device/${sn}/report`] });
    client.start();
    await until(() => client.state.status === 'connected', 'the session');
    assert.equal(rec.refused.length, 1);
    assert.equal(rec.refused[0]?.code, 'OE_MQTT_SUBSCRIBE_REFUSED');
    assert.match(rec.refused[0]?.message ?? '', /"not\/allowed".*SUBACK 0x80.*serial number/);
    assert.deepEqual(client.subscriptions, [`device/${sn}/report`]);
    r.sim.socketChaos.drop();
    await run(r, 60, () => rec.states.filter((s) => s.status === 'connected').length === 2);
    assert.equal(rec.refused.length, 1, 'the refused filter is not asked for again');
    assert.deepEqual([...(r.printer.mqtt?.subscriptions ?? [])], [`device/${sn}/report`]);
  });

  it('the printer link drops: CONNACK 3 while it is down, back-off retries, then reconnected and subscribed again', async () => {
    rig = await startRig('bambu');
    const r = rig;
    const sn = r.printer.serialNumber ?? '';
    const { client, rec } = make(r, { topics: [`device/${sn}/report`], random: () => 0.5 });
    client.start();
    await until(() => client.state.status === 'connected', 'the session');
    r.sim.socketChaos.setPrinterLink(r.printer, false);
    await until(() => client.state.status === 'connecting' && client.state.error !== undefined, 'the drop');
    await run(r, 90, () => rec.states.some((s) => s.status === 'connecting' && s.error?.code === 'OE_MQTT_PRINTER_UNAVAILABLE'));
    const unavailable = rec.states.find((s) => s.status === 'connecting' && s.error?.code === 'OE_MQTT_PRINTER_UNAVAILABLE');
    assert.ok(unavailable?.status === 'connecting' && unavailable.error?.behaviour === 'offline' && unavailable.retryInMs !== undefined);
    assert.equal(client.pendingTimers, 1, 'one retry timer');
    r.sim.socketChaos.setPrinterLink(r.printer, true);
    await run(r, 90, () => client.state.status === 'connected');
    assert.equal(client.state.status, 'connected');
    assert.ok(r.printer.mqtt?.subscriptions.has(`device/${sn}/report`), 'subscribed again');
    const before = rec.messages.length;
    await client.publish(`device/${sn}/request`, JSON.stringify({ pushing: { sequence_id: '0', command: 'pushall' } }));
    await until(() => rec.messages.length > before, 'reports again');
  });

  it('606 on the upgrade stops with one error and never retries', async () => {
    rig = await startRig('bambu', { connection: { authBearerToken: 'not-the-token' } });
    const r = rig;
    const { client, rec } = make(r, { topics: ['device/x/report'] });
    client.start();
    await until(() => client.state.status === 'stopped', 'the stop');
    const state = client.state;
    assert.ok(state.status === 'stopped' && state.error?.code === 'OE_606' && state.error.behaviour === 'reconnect');
    assert.equal(client.pendingTimers, 0);
    await assert.rejects(client.publish('device/x/request', '{}'), { code: 'OE_MQTT_NOT_CONNECTED', message: /OE_606/ });
    await run(r, 120);
    assert.equal(rec.states.filter((s) => s.status === 'connecting').length, 1, 'one attempt only');
    assert.equal(rec.states.filter((s) => s.status === 'stopped').length, 1, 'one error');
  });

  it('a stalled proxy is noticed by the keepalive and the session replaced', async () => {
    rig = await startRig('bambu');
    const r = rig;
    const sn = r.printer.serialNumber ?? '';
    const { client, rec } = make(r, { topics: [`device/${sn}/report`], keepaliveMs: 10_000 });
    client.start();
    await until(() => client.state.status === 'connected', 'the session');
    r.sim.chaos.stallSockets = true;
    await run(r, 60, () => client.state.status !== 'connected');
    const stalled = rec.states.find((s) => s.status === 'connecting' && s.error !== undefined);
    assert.ok(stalled?.status === 'connecting' && stalled.error?.code === 'OE_SOCKET_STALLED');
    r.sim.chaos.stallSockets = false;
    await run(r, 60, () => client.state.status === 'connected');
    assert.equal(client.state.status, 'connected');
    await until(() => r.sim.socketChaos.openSockets === 1, 'only the new session left');
  });

  it('Bambu: a subscription naming another serial number (the printer drops everyone) stops after two drops instead of looping', async () => {
    rig = await startRig('bambu');
    const r = rig;
    const { client, rec } = make(r, { topics: ['device/01P00A999999999/report'] });
    client.start();
    await run(r, 300, () => client.state.status === 'stopped');
    const state = client.state;
    assert.ok(state.status === 'stopped' && state.error?.code === 'OE_MQTT_SUBSCRIBE_REFUSED', rec.states.map((s) => s.status).join(','));
    assert.match(state.error.message, /serial number/);
    const upstream = r.printer.mqtt?.upstreamSubscribes ?? 0;
    await run(r, 120);
    assert.equal(r.printer.mqtt?.upstreamSubscribes, upstream, 'no more subscriptions after the stop');
    assert.equal(client.pendingTimers, 0);
  });

  it('publishes wait a bounded time and number while connecting, and fail with a code rather than vanish', async () => {
    rig = await startRig('bambu');
    const r = rig;
    r.printer.online = false; // 601 on every upgrade: never connects
    const { client } = make(r);
    client.start();
    const waiting = Array.from({ length: PRINTER_MQTT_QUEUE_LIMIT }, (_, i) => client.publish(`t/${i}`, 'x'));
    const settled = waiting.map((p) =>
      p.then(
        () => 'sent',
        (e: OctoEverywhereError) => e.code,
      ),
    );
    await assert.rejects(client.publish('t/over', 'x'), { code: 'OE_MQTT_QUEUE_FULL' });
    assert.equal(client.queued, PRINTER_MQTT_QUEUE_LIMIT);
    await run(r, PRINTER_MQTT_QUEUE_TIMEOUT_MS / 1000 + 1);
    assert.deepEqual(await Promise.all(settled), Array<string>(PRINTER_MQTT_QUEUE_LIMIT).fill('OE_MQTT_NOT_CONNECTED'));
    assert.equal(client.queued, 0);
    const onStop = client.publish('t/stop', 'x');
    await client.stop();
    await assert.rejects(onStop, { code: 'OE_CLOSED' });
    assert.equal(client.pendingTimers, 0);
  });

  it('a printer without a broker (Klipper: the upgrade is answered 754) stops with one clear error instead of retrying', async () => {
    rig = await startRig('moonraker');
    const r = rig;
    const { client, rec } = make(r, { topics: ['a/b'] });
    client.start();
    await until(() => client.state.status === 'stopped', 'the stop');
    const state = client.state;
    assert.ok(state.status === 'stopped' && state.error?.code === 'OE_MQTT_NO_BROKER', JSON.stringify(state));
    await run(r, 60);
    assert.equal(rec.states.filter((s) => s.status === 'connecting').length, 1, 'one attempt only');
  });

  it('stop on a stalled proxy with a QoS 1 publish in flight still ends the socket', async () => {
    rig = await startRig('bambu');
    const r = rig;
    const { client } = make(r, { topics: ['a/b'] });
    client.start();
    await until(() => client.state.status === 'connected', 'the session');
    r.sim.chaos.stallSockets = true;
    const inFlight = client.publish('a/b', 'x', { qos: 1 }).catch((e: OctoEverywhereError) => e.code);
    await client.stop();
    r.sim.chaos.stallSockets = false;
    await until(() => r.sim.socketChaos.openSockets === 0, 'the socket to go');
    assert.equal(await inFlight, 'OE_MQTT_PUBLISH_FAILED');
    assert.equal(client.pendingTimers, 0);
  });
});
