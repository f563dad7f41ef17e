// octoeverywhere-printer-socket (issue 16.4) in the real runtime against the simulator on its manual
// clock: JSON-RPC to the simulated Moonraker through the relay, the framing of every payload kind,
// the events of output 2 across drops, relay restarts and stalls, the stop on codes that need the
// user, messages sent while disconnected, bad settings, and a close that leaves nothing open.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { coreNode, helper, nodeModule } from '../helpers/nodes';
import { secretsIn } from '../helpers/secrets';
import { type ClockedSimulator, credentialsOf, startClockedSimulator } from '../helpers/simulator';
import type { AppConnectionCredentials } from '../../src/nodes/shared/types';
import { tick, until } from '../client/live-helpers';
import { prng, SEED } from '../fuzz/gen';

const TYPE = 'octoeverywhere-printer-socket';
const CATCH = coreNode('common/25-catch.js') as unknown;
const COMPLETE = coreNode('common/24-complete.js') as unknown;

interface Msg {
  topic?: string;
  payload?: unknown;
  error?: { code?: string; message: string };
  _msgid?: string;
}
interface Status {
  fill?: string;
  shape?: string;
  text?: string;
}
interface Rig {
  frames: Msg[];
  events: Msg[];
  errors: Msg[];
  /** Messages the node ended without an error (Complete node). */
  completes: Msg[];
  statuses: Status[];
  send(msg: Msg): void;
}

const payload = (m: Msg | undefined): Record<string, unknown> => (m?.payload ?? {}) as Record<string, unknown>;
const topics = (r: Rig): string[] => r.events.map((e) => String(e.topic));

describe('node: octoeverywhere-printer-socket', () => {
  let rig: ClockedSimulator;
  beforeEach(async () => {
    rig = await startClockedSimulator();
  });
  afterEach(async () => {
    assert.deepEqual(secretsIn(JSON.stringify(helper.log().args)), [], 'no secret in the log');
    await helper.unload();
    await rig.close();
  });

  async function load(
    node: Record<string, unknown> = {},
    options: { credentials?: AppConnectionCredentials; config?: Record<string, unknown> } = {},
  ): Promise<Rig> {
    const at = { z: 'f1', x: 100, y: 100 };
    const flow = [
      { id: 'f1', type: 'tab' },
      { id: 'c1', type: 'octoeverywhere-app-connection', printerName: 'Voron 2.4', serviceUrl: rig.sim.serviceUrl, ...options.config },
      {
        id: 's1',
        type: TYPE,
        connection: 'c1',
        path: '/websocket',
        subprotocols: '',
        heartbeat: 15,
        events: 'all',
        version: 1,
        wires: [['frames'], ['events']],
        ...at,
        ...node,
      },
      { id: 'frames', type: 'helper', ...at },
      { id: 'events', type: 'helper', ...at },
      { id: 'catch', type: 'catch', scope: ['s1'], uncaught: false, wires: [['errs']], ...at },
      { id: 'errs', type: 'helper', ...at },
      { id: 'complete', type: 'complete', scope: ['s1'], uncaught: false, wires: [['dones']], ...at },
      { id: 'dones', type: 'helper', ...at },
    ];
    await helper.load([nodeModule('octoeverywhere-app-connection'), nodeModule(TYPE), CATCH, COMPLETE] as Parameters<typeof helper.load>[0], flow, {
      c1: options.credentials ?? credentialsOf(rig.sim.createAppConnection(0)),
    });
    const r: Rig = { frames: [], events: [], errors: [], completes: [], statuses: [], send: () => undefined };
    const s1 = helper.getNode('s1');
    type Call = { thisValue: unknown; args: [Status] };
    r.statuses.push(
      ...(s1 as unknown as { status: { getCalls(): Call[] } }).status
        .getCalls()
        .filter((c) => c.thisValue === s1)
        .map((c) => c.args[0]),
    );
    (s1 as unknown as { on(event: string, fn: (call: { args: unknown[] }) => void): void }).on('call:status', (call) =>
      r.statuses.push(call.args[0] as Status),
    );
    helper.getNode('frames').on('input', (m: Msg) => r.frames.push(m));
    helper.getNode('events').on('input', (m: Msg) => r.events.push(m));
    helper.getNode('errs').on('input', (m: Msg) => r.errors.push(m));
    helper.getNode('dones').on('input', (m: Msg) => r.completes.push(m));
    let seq = 0;
    r.send = (msg) => s1.receive({ ...msg, _msgid: `m${(seq += 1)}` } as Parameters<typeof s1.receive>[0]);
    return r;
  }

  /** Simulated time in 1 s steps, letting loopback I/O run, until `done()` or `maxSec`. */
  async function run(maxSec: number, done: () => boolean = () => false): Promise<void> {
    for (let s = 0; s < maxSec && !done(); s++) {
      await rig.clock.advance(1000);
      for (let i = 0; i < 5; i++) await tick();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  const connected = (r: Rig, n = 1): Promise<void> => until(() => topics(r).filter((t) => t === 'connected').length >= n, `connected #${n}`);

  it('JSON-RPC round trip to Moonraker through the relay: an object goes as JSON text, the answer comes back parsed', async () => {
    const r = await load();
    await connected(r);
    assert.deepEqual(r.events[0], { topic: 'connected', payload: { path: '/websocket', via: 'relay' }, _msgid: r.events[0]?._msgid });
    assert.deepEqual(r.statuses.at(-1), { fill: 'green', shape: 'dot', text: 'status.connected' });
    r.send({ payload: { jsonrpc: '2.0', method: 'server.info', id: 1 } });
    await until(() => r.frames.length > 0, 'the answer');
    assert.equal(r.frames[0]?.topic, '/websocket');
    assert.equal(payload(r.frames[0]).id, 1);
    assert.equal((payload(r.frames[0]).result as Record<string, unknown>).klippy_connected, true);
    // A string goes as it is: not JSON, so Moonraker answers with its parse error.
    r.send({ payload: 'hello' });
    await until(() => r.frames.length > 1, 'the parse error');
    assert.equal((payload(r.frames[1]).error as Record<string, unknown>).code, -32700);
    assert.equal(r.errors.length, 0);
    await until(() => r.completes.length === 2, 'both messages ended');
  });

  it('frames each payload kind as the help says and gives received frames back parsed, as strings or as Buffers (LAN route)', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (offered) => [...offered][0] ?? false });
    const seen: Array<{ text: string; binary: boolean }> = [];
    const protocols: Array<string | undefined> = [];
    server.on('connection', (ws, req) => {
      protocols.push(req.headers['sec-websocket-protocol'] as string | undefined);
      ws.on('message', (data: Buffer, binary: boolean) => {
        seen.push({ text: data.toString('utf8'), binary });
        ws.send(data, { binary });
      });
    });
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const r = await load({ subprotocols: 'jsonrpc, v2' }, { config: { localUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } });
      await connected(r);
      assert.equal(payload(r.events[0]).via, 'local');
      assert.deepEqual(r.statuses.at(-1), { fill: 'green', shape: 'dot', text: 'status.connected-local' });
      assert.deepEqual(protocols, ['jsonrpc,v2']);
      const sent: unknown[] = [{ a: 1 }, [1, 2], 42, true, 'plain text', Buffer.from([0xde, 0xad, 0xbe, 0xef])];
      for (const p of sent) r.send({ payload: p });
      await until(() => r.frames.length === sent.length, 'the echoes');
      assert.deepEqual(seen, [
        { text: '{"a":1}', binary: false },
        { text: '[1,2]', binary: false },
        { text: '42', binary: false },
        { text: 'true', binary: false },
        { text: 'plain text', binary: false },
        { text: Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('utf8'), binary: true },
      ]);
      assert.deepEqual(
        r.frames.slice(0, 5).map((f) => f.payload),
        [{ a: 1 }, [1, 2], 42, true, 'plain text'],
      );
      assert.ok(Buffer.isBuffer(r.frames[5]?.payload));
      assert.deepEqual(r.frames[5]?.payload, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    } finally {
      for (const c of server.clients) c.terminate();
      server.close();
    }
  });

  it('a payload that cannot be a frame fails with OE_INVALID_PAYLOAD to Catch, and nothing is sent', async () => {
    const r = await load();
    await connected(r);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    r.send({});
    r.send({ payload: circular });
    r.send({ payload: 10n });
    await until(() => r.errors.length === 3, 'three errors');
    assert.deepEqual(
      r.errors.map((e) => e.error?.code),
      ['OE_INVALID_PAYLOAD', 'OE_INVALID_PAYLOAD', 'OE_INVALID_PAYLOAD'],
    );
    assert.deepEqual(r.statuses.at(-1), { fill: 'red', shape: 'ring', text: 'OE_INVALID_PAYLOAD' });
    // The red flash falls back to the socket's state.
    await run(4);
    assert.deepEqual(r.statuses.at(-1), { fill: 'green', shape: 'dot', text: 'status.connected' });
    assert.equal(r.frames.length, 0);
  });

  it('hostile payloads: each message ends exactly once (sent, or one coded error), nothing crashes, the socket stays up', async () => {
    const r = await load();
    await connected(r);
    const rng = prng(SEED);
    const n = 200;
    for (let i = 0; i < n; i++) {
      const payload = rng.bool(0.2) ? Buffer.from(rng.string(30)) : rng.value(3);
      r.send(rng.bool(0.1) ? {} : { payload });
    }
    await until(() => r.completes.length + r.errors.length >= n, 'every message ended');
    await run(2);
    assert.equal(r.completes.length + r.errors.length, n, 'each message ends exactly once');
    for (const e of r.errors) assert.equal(e.error?.code, 'OE_INVALID_PAYLOAD', JSON.stringify(e.error));
    assert.ok(r.errors.length < n, 'most payloads are frames');
    assert.ok(r.frames.length > 0, 'Moonraker answered');
    assert.equal(topics(r).filter((t) => t !== 'connected').length, 0, 'no drop');
  });

  it('on a drop and a relay restart: disconnected (close code, retry in ms), errors while refused, connected again', async () => {
    const r = await load();
    await connected(r);
    rig.sim.socketChaos.drop();
    await until(() => topics(r).includes('disconnected'), 'the disconnect');
    const drop = payload(r.events.find((e) => e.topic === 'disconnected'));
    assert.equal(drop.path, '/websocket');
    assert.equal(drop.closeCode, 1006);
    assert.equal(drop.code, 'OE_SOCKET_CLOSED');
    assert.ok(typeof drop.retryInMs === 'number' && drop.retryInMs >= 1000 && drop.retryInMs <= 20_000, String(drop.retryInMs));
    assert.equal(r.statuses.at(-1)?.fill, 'yellow');
    await run(30, () => topics(r).filter((t) => t === 'connected').length === 2);
    assert.deepEqual(topics(r), ['connected', 'disconnected', 'connected']);

    rig.sim.socketChaos.restartRelay();
    await until(() => topics(r).filter((t) => t === 'disconnected').length === 2, 'the second disconnect');
    const restart = payload(r.events.filter((e) => e.topic === 'disconnected')[1]);
    assert.equal(restart.closeCode, 1012);
    assert.equal(restart.closeReason, 'relay restart');
    await run(90, () => topics(r).filter((t) => t === 'connected').length === 3);
    assert.equal(topics(r).at(-1), 'connected');
    // The socket works again.
    r.send({ payload: { jsonrpc: '2.0', method: 'printer.info', id: 3 } });
    await until(() => r.frames.some((f) => payload(f).id === 3), 'the answer on the new socket');
    assert.equal(r.errors.length, 0, 'passing failures are events, not errors');
    // A refused attempt during the restart (601), when the back-off met it, is an `error` event that retries.
    for (const e of r.events.filter((ev) => ev.topic === 'error')) {
      assert.equal(payload(e).code, 'OE_601');
      assert.equal(typeof payload(e).retryInMs, 'number');
    }
  });

  for (const [what, code, credentials] of [
    [
      '606 (invalid credentials)',
      'OE_606',
      (): AppConnectionCredentials => ({ ...credentialsOf(rig.sim.createAppConnection(0)), authBearerToken: 'not-the-token' }),
    ],
    [
      '604 (a revoked App Connection)',
      'OE_604',
      (): AppConnectionCredentials => {
        const keys = rig.sim.createAppConnection(0);
        const creds = credentialsOf(keys);
        rig.sim.revoke(keys.id);
        return creds;
      },
    ],
  ] as const) {
    it(`${what} on the upgrade stops with one error to Catch, a red ring and no retry`, async () => {
      const r = await load({}, { credentials: credentials() });
      await until(() => r.errors.length > 0, 'the error');
      await run(120);
      assert.deepEqual(
        r.errors.map((e) => e.error?.code),
        [code],
      );
      assert.deepEqual(topics(r), ['error']);
      assert.equal(payload(r.events[0]).code, code);
      assert.equal(payload(r.events[0]).retryInMs, null);
      assert.deepEqual(r.statuses.at(-1), { fill: 'red', shape: 'ring', text: code });
      assert.equal(rig.sim.socketChaos.openSockets, 0);
    });
  }

  it('events: none sends nothing on output 2, yet the stop still reaches Catch', async () => {
    const r = await load({ events: 'none' }, { credentials: { ...credentialsOf(rig.sim.createAppConnection(0)), authBearerToken: 'wrong' } });
    await until(() => r.errors.length > 0, 'the error');
    assert.equal(r.errors[0]?.error?.code, 'OE_606');
    assert.equal(r.events.length, 0);
  });

  it('events: errors reports the disconnect but not the connect', async () => {
    const r = await load({ events: 'errors' });
    await until(() => rig.sim.socketChaos.openSockets === 1 && r.statuses.at(-1)?.fill === 'green', 'the socket');
    rig.sim.socketChaos.drop();
    await until(() => r.events.length > 0, 'the disconnect');
    await run(30, () => r.statuses.at(-1)?.fill === 'green');
    assert.deepEqual(topics(r), ['disconnected']);
  });

  it('a stalled socket is noticed within two heartbeats and replaced', async () => {
    const r = await load({ heartbeat: 10 });
    await connected(r);
    rig.sim.chaos.stallSockets = true;
    await run(25, () => topics(r).includes('disconnected'));
    const stall = payload(r.events.find((e) => e.topic === 'disconnected'));
    assert.equal(stall.code, 'OE_SOCKET_STALLED');
    assert.equal(stall.closeCode, null);
    rig.sim.chaos.stallSockets = false;
    await run(60, () => topics(r).filter((t) => t === 'connected').length === 2);
    assert.deepEqual(topics(r), ['connected', 'disconnected', 'connected']);
    await until(() => rig.sim.socketChaos.openSockets === 1, 'only the new socket open');
  });

  it('a message while the socket is not connected fails with OE_SOCKET_NOT_CONNECTED to Catch, with the message', async () => {
    rig.printer.online = false;
    const r = await load();
    await until(() => topics(r).includes('error'), 'the refused attempt');
    assert.equal(payload(r.events[0]).code, 'OE_601');
    r.send({ topic: 'mine', payload: { jsonrpc: '2.0', method: 'printer.info', id: 1 } });
    await until(() => r.errors.length > 0, 'the error');
    assert.equal(r.errors[0]?.error?.code, 'OE_SOCKET_NOT_CONNECTED');
    assert.equal(r.errors[0]?.topic, 'mine', 'the message itself reaches Catch');
    assert.deepEqual(r.statuses.at(-1), { fill: 'red', shape: 'ring', text: 'OE_SOCKET_NOT_CONNECTED' });
    rig.printer.online = true;
    await run(60, () => topics(r).includes('connected'));
    assert.equal(topics(r).at(-1), 'connected');
  });

  it('closing the flow closes the socket and leaves no timer of the node', async () => {
    const baseline = rig.clock.pendingTimers;
    const r = await load();
    await connected(r);
    assert.equal(rig.sim.socketChaos.openSockets, 1);
    assert.ok(rig.clock.pendingTimers > baseline, 'the heartbeat runs');
    await helper.unload();
    await until(() => rig.sim.socketChaos.openSockets === 0, 'the socket to close');
    assert.equal(rig.clock.pendingTimers, baseline);
    await run(60);
    assert.equal(rig.sim.socketChaos.openSockets, 0, 'nothing reconnects');
  });

  it('closing while a retry is pending (printer offline) releases the retry timer', async () => {
    rig.printer.online = false;
    const baseline = rig.clock.pendingTimers;
    const r = await load();
    await until(() => topics(r).includes('error'), 'the refused attempt');
    await helper.unload();
    assert.equal(rig.clock.pendingTimers, baseline);
  });

  for (const [what, settings, code] of [
    ['a URL instead of a path', { path: 'ws://printer.local/websocket' }, 'OE_INVALID_PATH'],
    ['a path without a leading slash', { path: 'websocket' }, 'OE_INVALID_PATH'],
    ['a path with a query (where a token would be stored)', { path: '/websocket?token=abc' }, 'OE_INVALID_PATH'],
    ['a subprotocol with a space', { subprotocols: 'json rpc' }, 'OE_INVALID_SUBPROTOCOL'],
    ['a heartbeat out of range', { heartbeat: 0 }, 'OE_INVALID_CONFIG'],
    ['an unknown events choice', { events: 'some' }, 'OE_INVALID_CONFIG'],
  ] as const) {
    it(`refuses ${what} at deploy with a red ring (${code}); every message fails with it; no socket`, async () => {
      const r = await load(settings);
      assert.deepEqual(r.statuses.at(-1), { fill: 'red', shape: 'ring', text: code });
      r.send({ payload: 'x' });
      await until(() => r.errors.length > 0, 'the error');
      assert.equal(r.errors[0]?.error?.code, code);
      assert.ok((r.errors[0]?.error?.message ?? '').length > 10, 'a message that says what is wrong');
      await run(3);
      assert.equal(rig.sim.socketChaos.openSockets, 0);
      assert.equal(r.events.length, 0);
    });
  }

  it('a config node that cannot be used (no credentials): its code on a red ring and on every message, no socket', async () => {
    const r = await load({}, { credentials: {} });
    const code = r.statuses.at(-1)?.text ?? '';
    assert.match(code, /^OE_/);
    assert.equal(r.statuses.at(-1)?.fill, 'red');
    r.send({ payload: 'x' });
    await until(() => r.errors.length > 0, 'the error');
    assert.equal(r.errors[0]?.error?.code, code);
    assert.equal(rig.sim.socketChaos.openSockets, 0);
  });

  it('without a config node: OE_NO_CONNECTION', async () => {
    const r = await load({ connection: '' });
    r.send({ payload: 'x' });
    await until(() => r.errors.length > 0, 'the error');
    assert.equal(r.errors[0]?.error?.code, 'OE_NO_CONNECTION');
  });
});
