// The raw printer socket (issue 16.4) against the simulator on the manual clock: frames both ways
// through the relay, the LAN route, and the shared supervision — refused upgrades, drops, relay
// restarts, stalls, the stop that leaves nothing behind.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import {
  AppConnection,
  type OctoEverywhereError,
  type RawClose,
  type RawFrame,
  RawPrinterSocket,
  type RawPrinterSocketOptions,
  type SupervisedState,
} from '../../src/client';
import { watchConnectionSecrets } from '../helpers/simulator';
import { type LiveRig, startRig, tick, until } from './live-helpers';

interface RawRecorder {
  states: SupervisedState[];
  frames: RawFrame[];
  closes: RawClose[];
}

function recordRaw(socket: RawPrinterSocket): RawRecorder {
  const r: RawRecorder = { states: [], frames: [], closes: [] };
  socket.on('state', (s) => r.states.push(s));
  socket.on('frame', (f) => r.frames.push(f));
  socket.on('close', (c) => r.closes.push(c));
  return r;
}

async function run(rig: LiveRig, maxSec: number, done: () => boolean = () => false): Promise<void> {
  for (let s = 0; s < maxSec && !done(); s++) {
    await rig.clock.advance(1000);
    for (let i = 0; i < 5; i++) await tick();
  }
}

const errorsOf = (r: RawRecorder): string[] =>
  r.states.flatMap((s) => ((s.status === 'connecting' || s.status === 'stopped') && s.error ? [s.error.code] : []));
const jsonFrames = (r: RawRecorder): Array<Record<string, unknown>> =>
  r.frames.flatMap((f) => (f.binary ? [] : [JSON.parse(f.data) as Record<string, unknown>]));

describe('client live: raw printer socket', () => {
  let rig: LiveRig | undefined;
  const sockets: RawPrinterSocket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.stop();
    await rig?.close();
    rig = undefined;
  });

  const raw = (r: LiveRig, options: Partial<RawPrinterSocketOptions> = {}): RawPrinterSocket => {
    const s = new RawPrinterSocket({ connection: r.connection, path: '/websocket', clock: r.clock, via: 'relay', ...options });
    sockets.push(s);
    return s;
  };

  it("speaks Moonraker's JSON-RPC through the relay: text frames out and in, as they are", async () => {
    rig = await startRig('moonraker');
    const s = raw(rig);
    const rec = recordRaw(s);
    s.start();
    await until(() => s.state.status === 'connected', 'the socket');
    assert.deepEqual(s.state, { status: 'connected', via: 'relay' });
    s.send(JSON.stringify({ jsonrpc: '2.0', method: 'server.info', id: 7 }));
    await until(() => rec.frames.length > 0, 'the answer');
    assert.equal(rec.frames[0]?.binary, false);
    const answer = jsonFrames(rec)[0];
    assert.equal(answer?.id, 7);
    assert.equal((answer?.result as Record<string, unknown>).klippy_connected, true);
    // Not JSON: the printer's own parse error comes back as any other frame.
    s.send('not json');
    await until(() => rec.frames.length > 1, 'the parse error');
    assert.equal((jsonFrames(rec)[1]?.error as Record<string, unknown>).code, -32700);
  });

  it("OctoPrint's /sockjs/websocket through the relay: its connected message, sent with the upgrade's answer, is not lost", async () => {
    rig = await startRig('octoprint');
    const s = raw(rig, { path: '/sockjs/websocket' });
    const rec = recordRaw(s);
    s.start();
    await until(() => rec.frames.length > 0, 'the first frame');
    const first = jsonFrames(rec)[0];
    assert.ok(first && typeof first.connected === 'object', JSON.stringify(first));
  });

  it('on the LAN URL: binary frames stay binary both ways, subprotocols go as the relay splits them, no OctoEverywhere credential', async () => {
    rig = await startRig('moonraker');
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (offered) => [...offered][0] ?? false });
    const seen: Array<{ data: Buffer; binary: boolean }> = [];
    const headers: Array<Record<string, string | string[] | undefined>> = [];
    server.on('connection', (ws, req) => {
      headers.push(req.headers);
      ws.on('message', (data: Buffer, binary: boolean) => {
        seen.push({ data, binary });
        ws.send(data, { binary });
      });
    });
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const lan = new AppConnection({
        url: rig.connection.baseUrl,
        authBearerToken: 'bearer-not-for-the-lan',
        octoPrintApiKey: 'printer-own-key',
        localUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      });
      const s = raw(rig, { connection: lan, via: 'auto', protocols: ['jsonrpc', 'v2'] });
      const rec = recordRaw(s);
      s.start();
      await until(() => s.state.status === 'connected', 'the LAN socket');
      assert.deepEqual(s.state, { status: 'connected', via: 'local' });
      assert.equal(headers[0]?.['sec-websocket-protocol'], 'jsonrpc,v2');
      assert.equal(headers[0]?.authorization, undefined, 'no OctoEverywhere credential on the LAN');
      assert.equal(headers[0]?.['x-api-key'], 'printer-own-key', "the printer's own key");
      s.send(Buffer.from([0, 1, 2, 255]));
      s.send('text');
      await until(() => rec.frames.length === 2, 'the echoes');
      assert.deepEqual(
        seen.map((f) => f.binary),
        [true, false],
      );
      assert.deepEqual(rec.frames[0], { binary: true, data: Buffer.from([0, 1, 2, 255]) });
      assert.deepEqual(rec.frames[1], { binary: false, data: 'text' });
      await lan.close();
    } finally {
      for (const c of server.clients) c.terminate();
      server.close();
    }
  });

  it('606 on the upgrade stops with one error, the same as on HTTP, and never retries', async () => {
    rig = await startRig('moonraker', { connection: { authBearerToken: 'not-the-token' } });
    const s = raw(rig);
    const rec = recordRaw(s);
    s.start();
    await until(() => s.state.status === 'stopped', 'the stop');
    assert.deepEqual(errorsOf(rec), ['OE_606']);
    assert.equal(s.pendingTimers, 0);
    await run(rig, 120);
    assert.equal(rec.states.filter((st) => st.status === 'connecting').length, 1, 'one attempt only');
    assert.throws(
      () => s.send('x'),
      (e: OctoEverywhereError) => e.code === 'OE_SOCKET_NOT_CONNECTED',
    );
  });

  it('604 (a revoked App Connection) on the upgrade stops with one error', async () => {
    rig = await startRig('moonraker');
    const keys = rig.sim.createAppConnection(0);
    watchConnectionSecrets(keys);
    const connection = new AppConnection({ url: keys.url, authBearerToken: keys.authBearerToken });
    rig.sim.revoke(keys.id);
    const s = raw(rig, { connection });
    const rec = recordRaw(s);
    s.start();
    await until(() => s.state.status === 'stopped', 'the stop');
    await run(rig, 60);
    assert.deepEqual(errorsOf(rec), ['OE_604']);
    await connection.close();
  });

  it('a dropped socket and a relay restart are reconnected with back-off; the close says how it ended', async () => {
    rig = await startRig('moonraker');
    const r = rig;
    const s = raw(r, { random: () => 0 });
    const rec = recordRaw(s);
    s.start();
    await until(() => s.state.status === 'connected', 'the socket');
    r.sim.socketChaos.drop();
    await until(() => s.state.status === 'connecting', 'the drop');
    const dropped = s.state;
    assert.ok(dropped.status === 'connecting' && dropped.error?.code === 'OE_SOCKET_CLOSED' && dropped.retryInMs === 1000, JSON.stringify(dropped));
    assert.equal(rec.closes[0]?.code, 1006);
    await run(r, 10, () => s.state.status === 'connected');
    assert.equal(s.state.status, 'connected');
    r.sim.socketChaos.restartRelay();
    await run(r, 60, () => errorsOf(rec).includes('OE_601') && s.state.status === 'connected');
    assert.equal(s.state.status, 'connected');
    assert.deepEqual(rec.closes[1], { code: 1012, reason: 'relay restart' });
    assert.ok(errorsOf(rec).includes('OE_601'), errorsOf(rec).join(','));
    // It works again: a round trip on the new socket.
    s.send(JSON.stringify({ jsonrpc: '2.0', method: 'printer.info', id: 9 }));
    await until(() => jsonFrames(rec).some((f) => f.id === 9), 'the answer on the new socket');
  });

  it('a stalled socket is noticed within two heartbeats and replaced', async () => {
    rig = await startRig('moonraker');
    const r = rig;
    const s = raw(r, { heartbeatMs: 10_000 });
    const rec = recordRaw(s);
    s.start();
    await until(() => s.state.status === 'connected', 'the socket');
    r.sim.chaos.stallSockets = true;
    await run(r, 25, () => errorsOf(rec).includes('OE_SOCKET_STALLED'));
    assert.ok(errorsOf(rec).includes('OE_SOCKET_STALLED'), errorsOf(rec).join(','));
    r.sim.chaos.stallSockets = false;
    await run(r, 60, () => s.state.status === 'connected');
    assert.equal(s.state.status, 'connected');
    await until(() => r.sim.socketChaos.openSockets === 1, 'the old socket gone');
  });

  it('stop closes the socket with a close frame, releases every timer and says nothing more', async () => {
    rig = await startRig('moonraker');
    const r = rig;
    const s = raw(r);
    const rec = recordRaw(s);
    s.start();
    await until(() => s.state.status === 'connected', 'the socket');
    assert.equal(s.pendingTimers, 1, 'the heartbeat');
    s.stop();
    assert.equal(s.pendingTimers, 0);
    await until(() => r.sim.socketChaos.openSockets === 0, 'the socket to close');
    const count = rec.states.length;
    await run(r, 60);
    assert.equal(rec.states.length, count);
    assert.deepEqual(rec.states.at(-1), { status: 'stopped' });
    assert.equal(rec.closes.length, 0, 'our own close is not a disconnect');
  });

  it('a stop while the handshake is in flight leaves no socket open', async () => {
    rig = await startRig('moonraker');
    const r = rig;
    const s = raw(r);
    s.start();
    s.stop();
    await run(r, 5);
    await until(() => r.sim.socketChaos.openSockets === 0, 'no socket');
    assert.equal(s.pendingTimers, 0);
  });

  it('refuses paths and subprotocols that can never work, before connecting', async () => {
    rig = await startRig('moonraker');
    const r = rig;
    for (const path of ['websocket', 'ws://printer/websocket', '//host/websocket', '/a/../b', '/websocket?token=abc', '']) {
      assert.throws(
        () => raw(r, { path }),
        (e: OctoEverywhereError) => e.code === 'OE_INVALID_PATH',
        path,
      );
    }
    for (const protocols of [['a b'], ['a,b'], ['x', 'x'], ['']]) {
      assert.throws(
        () => raw(r, { protocols }),
        (e: OctoEverywhereError) => e.code === 'OE_INVALID_SUBPROTOCOL',
        protocols.join('|'),
      );
    }
    assert.equal(r.sim.socketChaos.openSockets, 0);
  });

  it('the socket the printer itself closes is reported with its close code and reason', async () => {
    rig = await startRig('moonraker');
    const r = rig;
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (ws) => ws.close(4001, 'bye'));
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const lan = new AppConnection({
        url: r.connection.baseUrl,
        authBearerToken: 'unused',
        localUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      });
      const s = raw(r, { connection: lan, via: 'auto' });
      const rec = recordRaw(s);
      s.start();
      await until(() => rec.closes.length > 0, 'the close');
      assert.deepEqual(rec.closes[0], { code: 4001, reason: 'bye' });
      s.stop();
      await lan.close();
    } finally {
      for (const c of server.clients) c.terminate();
      server.close();
    }
  });
});
