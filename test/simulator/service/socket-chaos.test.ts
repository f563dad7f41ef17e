// Socket chaos and the relay's socket endings, from outside: a relayed Moonraker socket and an MQTT
// proxy session against the real simulated printers, on the manual clock.
import assert from 'node:assert/strict';
import type { IConnackPacket } from 'mqtt-packet';
import WebSocket from 'ws';
import {
  type CompletionKeys,
  ConnackCode,
  createClock,
  localhostLookup,
  type ManagedClock,
  type Simulator,
  startSimulator,
} from '../../../src/simulator/index';
import type { SimulatedPrinter } from '../../../src/simulator/printers';
import { bearer } from './helpers';
import { authOf, proxyUrl, RawMqtt, until, upgradeStatus } from './mqtt-helpers';

interface Relayed {
  ws: WebSocket;
  messages: string[];
  pongs: number;
  closing: Promise<number>;
}

describe('simulator service: socket chaos', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  let bambu: SimulatedPrinter;
  let voron: SimulatedPrinter;
  let bambuConn: CompletionKeys;
  let voronConn: CompletionKeys;
  const sockets: Array<{ terminate(): void }> = [];

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({
      clock,
      printers: [
        { kind: 'bambu', name: 'P1S' },
        { kind: 'moonraker', name: 'Voron' },
      ],
    });
    [bambu, voron] = sim.printers as SimulatedPrinter[];
    bambuConn = sim.createAppConnection(0);
    voronConn = sim.createAppConnection(1);
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.terminate();
    await sim.close();
    clock.dispose();
  });

  const moonrakerUrl = (): string => `${voronConn.url.replace(/^http/, 'ws')}/websocket`;

  const relayed = async (): Promise<Relayed> => {
    const ws = new WebSocket(moonrakerUrl(), {
      headers: { authorization: bearer(voronConn.authBearerToken) },
      lookup: localhostLookup,
    } as WebSocket.ClientOptions);
    sockets.push(ws);
    const r: Relayed = { ws, messages: [], pongs: 0, closing: new Promise((resolve) => ws.once('close', (code) => resolve(code))) };
    ws.on('message', (data: Buffer) => r.messages.push(data.toString()));
    ws.on('pong', () => r.pongs++);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return r;
  };
  const rpc = async (r: Relayed, id: number): Promise<void> => {
    r.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'server.info', id }));
    await until(() => r.messages.some((m) => (JSON.parse(m) as { id?: number }).id === id), `answer ${id}`);
  };
  const session = async (clientId: string, keepalive = 0): Promise<RawMqtt> => {
    const m = await RawMqtt.open(proxyUrl(bambuConn), authOf(bambuConn));
    sockets.push(m.ws);
    assert.equal(((await m.connect(clientId, { keepalive })) as IConnackPacket).returnCode, ConnackCode.Accepted);
    return m;
  };

  it('refuses a failed relay upgrade with the 6xx as HTTP status (603 removed, 603 unknown host, 606)', async () => {
    assert.equal(await upgradeStatus(moonrakerUrl(), {}), 606);
    const unknown = moonrakerUrl().replace(/app-[^.]+/, 'app-doesnotexist');
    assert.equal(await upgradeStatus(unknown, { authorization: bearer(voronConn.authBearerToken) }), 603);
    sim.remove(voronConn.id);
    assert.equal(await upgradeStatus(moonrakerUrl(), { authorization: bearer(voronConn.authBearerToken) }), 603);
  });

  it("closes a relayed Moonraker socket when the printer's plugin goes offline", async () => {
    const r = await relayed();
    await rpc(r, 1);
    voron.online = false;
    assert.equal(await r.closing, 1011);
    await until(() => sim.socketChaos.openSockets === 0, 'the relay to let go of the socket');
  });

  it('drop: every relayed socket and proxy session ends abruptly', async () => {
    const r = await relayed();
    const m = await session('drop');
    assert.equal(sim.socketChaos.openSockets, 2);
    sim.socketChaos.drop();
    assert.equal(await r.closing, 1006);
    assert.equal((await m.closing).code, 1006);
    await until(() => sim.socketChaos.openSockets === 0, 'the relay to let go of the sockets');
  });

  it('stall: sockets stay open but carry no frames and answer no pings; the proxy does not enforce keepalive meanwhile', async () => {
    const r = await relayed();
    const m = await session('stall', 10);
    sim.chaos.stallSockets = true;
    r.ws.ping();
    r.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'server.info', id: 2 }));
    m.ws.ping();
    m.send({ cmd: 'pingreq' });
    await until(() => sim.socketChaos.stalledFrames >= 4, 'the stall to swallow four frames');
    await clock.advance(60_000);
    assert.ok(r.ws.readyState === WebSocket.OPEN && m.isOpen, 'still open');
    assert.deepEqual([r.pongs, m.pongs, r.messages.length, m.packets.length], [0, 0, 0, 0]);

    sim.chaos.stallSockets = false;
    await rpc(r, 3);
    m.send({ cmd: 'pingreq' });
    await m.next('pingresp');
    r.ws.ping();
    await until(() => r.pongs === 1, 'a pong after the stall');
    assert.ok(!r.messages.some((msg) => (JSON.parse(msg) as { id?: number }).id === 2), 'a stalled frame is lost, not queued');
  });

  it('relay restart: sockets close with 1012; upgrades get 601 (or the knob) for the window, then pass', async () => {
    const r = await relayed();
    const m = await session('restart');
    sim.socketChaos.restartRelay();
    assert.equal(await r.closing, 1012);
    assert.equal((await m.closing).code, 1012);
    assert.equal(await upgradeStatus(moonrakerUrl(), { authorization: bearer(voronConn.authBearerToken) }), 601);
    assert.equal(await upgradeStatus(proxyUrl(bambuConn), authOf(bambuConn)), 601);
    await clock.advance(10_000);
    await rpc(await relayed(), 4);

    sim.chaos.relayRestartStatus = 600;
    sim.chaos.relayRestartMs = 2_000;
    sim.socketChaos.restartRelay();
    assert.equal(await upgradeStatus(moonrakerUrl(), { authorization: bearer(voronConn.authBearerToken) }), 600);
    await clock.advance(2_000);
    await session('after-restart');
  });

  it('printer link drop: proxy sessions and relayed sockets of that printer close; CONNACK 3 until the link is back', async () => {
    const r = await relayed();
    const m = await session('link');
    sim.socketChaos.setPrinterLink(bambu, false);
    assert.equal((await m.closing).code, 1011);
    assert.equal(r.ws.readyState, WebSocket.OPEN, "another printer's socket stays");
    const refused = await RawMqtt.open(proxyUrl(bambuConn), authOf(bambuConn));
    sockets.push(refused.ws);
    assert.equal(((await refused.connect('again')) as IConnackPacket).returnCode, ConnackCode.ServerUnavailable);
    sim.socketChaos.setPrinterLink(bambu, true);
    await session('back');

    sim.socketChaos.setPrinterLink(1, false);
    assert.equal(await r.closing, 1011);
  });
});
