// The MQTT proxy from outside, with MQTT.js and a raw mqtt-packet socket (docs/octoeverywhere.md §9.1).
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import type { IConnackPacket, ISubackPacket } from 'mqtt-packet';
import mqttPacket from 'mqtt-packet';
import { type CompletionKeys, ConnackCode, createClock, type ManagedClock, type Simulator, startSimulator } from '../../../src/simulator/index';
import type { SimulatedPrinter } from '../../../src/simulator/printers';
import { BambuBroker, BAMBU_RECONNECT_MS } from '../../../src/simulator/printers';
import { request } from './helpers';
import { authOf, closed, mqttConnect, nextJson, proxyUrl, RawMqtt, until, upgradeStatus } from './mqtt-helpers';

describe('simulator service: MQTT proxy', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  let bambu: SimulatedPrinter;
  let conn: CompletionKeys;
  let url: string;
  const clients: MqttClient[] = [];
  const raws: RawMqtt[] = [];

  const client = async (opts: Parameters<typeof mqttConnect>[2] = {}): Promise<MqttClient> => {
    const c = await mqttConnect(url, authOf(conn), opts);
    clients.push(c);
    return c;
  };
  const raw = async (): Promise<RawMqtt> => {
    const r = await RawMqtt.open(url, authOf(conn));
    raws.push(r);
    return r;
  };

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({
      clock,
      printers: [
        { kind: 'bambu', name: 'P1S' },
        { kind: 'moonraker', name: 'Voron' },
      ],
    });
    bambu = sim.printers[0] as SimulatedPrinter;
    conn = sim.createAppConnection(0);
    url = proxyUrl(conn);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    for (const r of raws.splice(0)) r.ws.terminate();
    await sim.close();
    clock.dispose();
  });

  describe('handshake', () => {
    it('answers plain HTTP with the 400 envelope', async () => {
      const reply = await request(`${conn.url}/octoeverywhere-command-api/proxy/mqtt`, { headers: authOf(conn) });
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.json(), { Status: 400, Error: 'MQTT proxy requires a websocket connection.' });
    });

    it('takes OE credentials from the header or ?oe_api_key= (bearer or base64 user:password), never from MQTT', async () => {
      assert.equal(await upgradeStatus(url, {}), 606);
      assert.equal(await upgradeStatus(proxyUrl(conn, '?oe_api_key=wrong'), {}), 606);
      const byBearer = await mqttConnect(proxyUrl(conn, `?oe_api_key=${encodeURIComponent(conn.authBearerToken)}`), {});
      clients.push(byBearer);
      const basic = Buffer.from(`${conn.authbasichttpuser}:${conn.authbasichttppassword}`).toString('base64');
      const byBasic = await mqttConnect(proxyUrl(conn, `?oe_api_key=${encodeURIComponent(basic)}`), {});
      clients.push(byBasic);
      // MQTT username/password are ignored, whatever they are.
      const withMqttCreds = await client({ username: 'bblp', password: 'not-the-access-code' });
      assert.ok(byBearer.connected && byBasic.connected && withMqttCreds.connected);
    });

    it('echoes the first offered subprotocol', async () => {
      const r = await RawMqtt.open(url, authOf(conn), ['mqttv3.1', 'mqtt']);
      raws.push(r);
      assert.equal(r.ws.protocol, 'mqttv3.1');
      assert.equal((await raw()).ws.protocol, 'mqtt');
    });

    it('picks the mode by the first frame: legacy JSON and anything but CONNECT are closed', async () => {
      const legacy = await raw();
      legacy.sendBytes(Buffer.from('{"Type":"connect"}'), false);
      assert.equal((await legacy.closing).code, 1003);
      const junk = await raw();
      junk.sendBytes(Buffer.from([0x30, 0x00]));
      assert.equal((await junk.closing).code, 1002);
    });

    it('refuses a failed upgrade with the 6xx as HTTP status: 601, 605, 604, 603', async () => {
      bambu.online = false;
      assert.equal(await upgradeStatus(url, authOf(conn)), 601);
      bambu.online = true;
      sim.setSupporter(false);
      assert.equal(await upgradeStatus(url, authOf(conn)), 605);
      sim.setSupporter(true);
      const other = sim.createAppConnection(0);
      sim.revoke(other.id);
      assert.equal(await upgradeStatus(proxyUrl(other), authOf(other)), 604);
      sim.remove(conn.id);
      assert.equal(await upgradeStatus(url, authOf(conn)), 603);
    });

    it('MQTT.js only closes on a refused upgrade; its stream errors with "Unexpected server response: 601"', async () => {
      bambu.online = false;
      await assert.rejects(mqttConnect(url, authOf(conn)), /Unexpected server response: 601/);
    });

    it('answers a printer without a broker (Moonraker) as an unknown command: 754', async () => {
      const voron = sim.createAppConnection(1);
      assert.equal(await upgradeStatus(proxyUrl(voron), authOf(voron)), 754);
    });
  });

  describe('CONNECT rules', () => {
    const connack = async (packet: Partial<mqttPacket.IConnectPacket>): Promise<[number | undefined, boolean, number]> => {
      const r = await raw();
      r.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: 'c', ...packet } as mqttPacket.IConnectPacket);
      const ack = (await r.next('connack')) as IConnackPacket;
      const { code } = await r.closing;
      return [ack.returnCode, ack.sessionPresent, code];
    };

    it('refuses MQTT 5 and MQTT 3.1 with CONNACK 1 and closes', async () => {
      assert.deepEqual((await connack({ protocolVersion: 5 })).slice(0, 2), [ConnackCode.BadProtocol, false]);
      assert.deepEqual((await connack({ protocolId: 'MQIsdp', protocolVersion: 3 })).slice(0, 2), [ConnackCode.BadProtocol, false]);
    });

    it('refuses clean=false with CONNACK 3, and an empty id with clean=false with CONNACK 2', async () => {
      assert.equal((await connack({ clean: false }))[0], ConnackCode.ServerUnavailable);
      // mqtt-packet will not write an empty id with clean=false, so the clean flag is cleared by hand.
      const r = await raw();
      const bytes = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: '' });
      const flagsAt = 2 + 2 + 4 + 1;
      assert.equal(bytes[flagsAt], 0x02, 'connect flags: clean session only');
      bytes[flagsAt] = 0x00;
      r.sendBytes(bytes);
      assert.equal(((await r.next('connack')) as IConnackPacket).returnCode, ConnackCode.IdentifierRejected);
      await r.closing;
    });

    it('refuses with CONNACK 3 while the printer link is down', async () => {
      bambu.setHostConnected(false);
      assert.equal((await connack({}))[0], ConnackCode.ServerUnavailable);
    });

    it('accepts a clean 3.1.1 CONNECT with session_present 0; empty ids get their own ids', async () => {
      const a = await raw();
      const ackA = (await a.connect('')) as IConnackPacket;
      assert.deepEqual([ackA.returnCode, ackA.sessionPresent], [0, false]);
      const b = await raw();
      assert.equal(((await b.connect('')) as IConnackPacket).returnCode, 0);
      // Two assigned ids (oe-<hex32>) do not collide: neither session kicks the other.
      a.send({ cmd: 'pingreq' });
      await a.next('pingresp');
      assert.ok(a.isOpen && b.isOpen);
    });

    it('kicks the older session when a second CONNECT uses the same client id', async () => {
      const first = await client({ clientId: 'node-red-1' });
      const kicked = closed(first);
      const second = await client({ clientId: 'node-red-1' });
      await kicked;
      assert.ok(second.connected);
      assert.ok(!first.connected);
    });
  });

  describe('session', () => {
    it('enforces keepalive at 1.5x on the clock; PINGREQ is answered and counts as traffic; 0 is off', async () => {
      const r = await raw();
      await r.connect('ka', { keepalive: 10 });
      await clock.advance(10_000);
      r.send({ cmd: 'pingreq' });
      await r.next('pingresp');
      await clock.advance(14_999);
      assert.ok(r.isOpen, 'alive within 1.5 x keepalive of the last packet');
      await clock.advance(2);
      await r.closing;

      const off = await raw();
      await off.connect('ka0', { keepalive: 0 });
      await clock.advance(3_600_000);
      off.send({ cmd: 'pingreq' });
      await off.next('pingresp');
    });

    it('counts keepalive in real seconds on a sped-up clock', async () => {
      const fast = createClock({ mode: 'real', timeScale: 60 });
      const demo = await startSimulator({ clock: fast, printers: [{ kind: 'bambu', name: 'P1S' }] });
      try {
        const demoConn = demo.createAppConnection(0);
        const r = await RawMqtt.open(proxyUrl(demoConn), authOf(demoConn));
        raws.push(r);
        await r.connect('demo', { keepalive: 10 });
        // 20 simulated seconds are a third of a real second at this scale: far inside 15 real seconds.
        await fast.advance(20_000);
        r.send({ cmd: 'pingreq' });
        await r.next('pingresp');
      } finally {
        await demo.close();
        fast.dispose();
      }
    });

    it('closes a session that sends a packet over 1 MiB', async () => {
      const r = await raw();
      await r.connect('big');
      r.send({ cmd: 'publish', topic: 'big/topic', payload: Buffer.alloc(1024 * 1024 + 16), qos: 0, dup: false, retain: false });
      assert.equal((await r.closing).code, 1009);

      // Announced over several frames: refused from the fixed header, before the rest is buffered.
      const spread = await raw();
      await spread.connect('spread');
      const bytes = mqttPacket.generate({ cmd: 'publish', topic: 'big/topic', payload: Buffer.alloc(2 * 1024 * 1024), qos: 0, dup: false, retain: false });
      spread.sendBytes(bytes.subarray(0, 64 * 1024));
      assert.equal((await spread.closing).code, 1009);
    });

    it('answers SUBACK per filter: an invalid filter gets 0x80; QoS is granted up to 1', async () => {
      const r = await raw();
      await r.connect('sub');
      const sn = bambu.serialNumber ?? '';
      r.send({
        cmd: 'subscribe',
        messageId: 7,
        subscriptions: [
          { topic: `device/${sn}/report`, qos: 0 },
          { topic: 'a/#/b', qos: 1 },
          { topic: 'c/+x', qos: 0 },
          { topic: `device/${sn}/request`, qos: 2 },
        ],
      });
      const ack = (await r.next('suback')) as ISubackPacket;
      assert.equal(ack.messageId, 7);
      assert.deepEqual(ack.granted, [0, 0x80, 0x80, 1]);
    });

    it('ends a session that sends garbage or publishes to a wildcard topic, and keeps serving others', async () => {
      const garbage = await raw();
      await garbage.connect('garbage');
      garbage.sendBytes(Buffer.from([0xf0, 0x03, 0xde, 0xad, 0xbe]));
      assert.equal((await garbage.closing).code, 1002);
      const wildcard = await raw();
      await wildcard.connect('wildcard');
      wildcard.send({ cmd: 'publish', topic: 'device/+/request', payload: Buffer.from('{}'), qos: 0, dup: false, retain: false });
      assert.equal((await wildcard.closing).code, 1002);
      const before = await raw();
      before.send({ cmd: 'pingreq' });
      assert.equal((await before.closing).code, 1002, 'a first packet other than CONNECT');
      assert.ok((await client()).connected);
    });

    it('acks QoS 1 and QoS 2 publishes', async () => {
      const c = await client();
      await c.publishAsync(`device/${bambu.serialNumber}/request`, JSON.stringify({ pushing: { sequence_id: '0', command: 'pushall' } }), { qos: 1 });
      await c.publishAsync(`device/${bambu.serialNumber}/request`, JSON.stringify({ pushing: { sequence_id: '1', command: 'pushall' } }), { qos: 2 });
      const r = await raw();
      await r.connect('acks');
      r.send({ cmd: 'publish', topic: 'device/x/any', payload: Buffer.from('1'), qos: 1, messageId: 41, dup: false, retain: false });
      assert.equal((await r.next('puback')).messageId, 41);
      r.send({ cmd: 'publish', topic: 'device/x/any', payload: Buffer.from('2'), qos: 2, messageId: 42, dup: false, retain: false });
      assert.equal((await r.next('pubrec')).messageId, 42);
      r.send({ cmd: 'pubrel', messageId: 42 });
      assert.equal((await r.next('pubcomp')).messageId, 42);
    });

    it('shares one upstream subscription between identical filters and delivers to both', async () => {
      const broker = bambu.mqtt as BambuBroker;
      const topic = `device/${bambu.serialNumber}/report`;
      const a = await client();
      const b = await client();
      await a.subscribeAsync(topic);
      await b.subscribeAsync(topic);
      assert.equal(broker.upstreamSubscribes, 1);
      const gotA = nextJson(a, topic);
      const gotB = nextJson(b, topic);
      await a.publishAsync(`device/${bambu.serialNumber}/request`, JSON.stringify({ pushing: { sequence_id: '1', command: 'pushall' } }));
      assert.equal(((await gotA).print as Record<string, unknown>).command, 'push_status');
      assert.equal(((await gotB).print as Record<string, unknown>).command, 'push_status');
      await a.unsubscribeAsync(topic);
      assert.ok(broker.subscriptions.has(topic), 'still wanted by b');
      await b.unsubscribeAsync(topic);
      assert.ok(!broker.subscriptions.has(topic), 'dropped upstream with its last user');
    });

    it('caches retained messages and replays them on subscribe', async () => {
      const topic = `device/${bambu.serialNumber}/note`;
      const a = await client();
      await a.publishAsync(topic, 'kept', { retain: true, qos: 1 });
      const b = await client();
      const got = new Promise<[string, boolean]>((resolve) => b.once('message', (_t, payload, packet) => resolve([payload.toString(), packet.retain])));
      await b.subscribeAsync(`device/${bambu.serialNumber}/#`);
      assert.deepEqual(await got, ['kept', true]);
    });

    it('publishes the will on an abnormal close, not after DISCONNECT', async () => {
      const topic = `device/${bambu.serialNumber}/status/client`;
      const watcher = await client();
      await watcher.subscribeAsync(topic);
      const seen: string[] = [];
      watcher.on('message', (_t, payload) => seen.push(payload.toString()));

      const polite = await raw();
      await polite.connect('polite', { will: { topic, payload: Buffer.from('polite gone'), qos: 0, retain: false } });
      polite.send({ cmd: 'disconnect' });
      await polite.closing;

      const rude = await raw();
      await rude.connect('rude', { will: { topic, payload: Buffer.from('rude gone'), qos: 0, retain: false } });
      rude.ws.terminate();
      await until(() => seen.length > 0, 'the will');
      assert.deepEqual(seen, ['rude gone']);

      // A session taken over by a newer one with its client id did not end by DISCONNECT either.
      const older = await raw();
      await older.connect('taken', { will: { topic, payload: Buffer.from('taken over'), qos: 0, retain: false } });
      const newer = await raw();
      await newer.connect('taken');
      await older.closing;
      await until(() => seen.length > 1, 'the will of the kicked session');
      assert.deepEqual(seen, ['rude gone', 'taken over']);
    });
  });

  describe('printer link', () => {
    it('closes every session when the link drops and answers CONNACK 3 until it is back', async () => {
      const a = await client();
      const b = await client();
      const gone = Promise.all([closed(a), closed(b)]);
      bambu.setHostConnected(false);
      await gone;
      const r = await raw();
      assert.equal(((await r.connect('again')) as IConnackPacket).returnCode, ConnackCode.ServerUnavailable);
      bambu.setHostConnected(true);
      assert.ok((await client()).connected);
    });

    it('closes every session when the plugin goes offline (new upgrades get 601)', async () => {
      const a = await client();
      const gone = closed(a);
      bambu.online = false;
      await gone;
      assert.equal(await upgradeStatus(url, authOf(conn)), 601);
    });

    it("a subscribe to another serial's topic drops the printer's connection: every session closes, CONNACK 3 until the plugin reconnects", async () => {
      const bystander = await client();
      const gone = closed(bystander);
      const r = await raw();
      await r.connect('wrong-sn');
      r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'device/01P00A999999999/report', qos: 0 }] });
      await r.closing;
      await gone;
      const during = await raw();
      assert.equal(((await during.connect('x')) as IConnackPacket).returnCode, ConnackCode.ServerUnavailable);
      await clock.advance(BAMBU_RECONNECT_MS);
      assert.ok((await client()).connected);
    });
  });
});
