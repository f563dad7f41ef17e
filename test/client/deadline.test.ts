// Issue 14, item 3: a timeout is a deadline, not an idle timeout. Against a server that dribbles one
// byte every 100 ms for 10 s, a request with a 500 ms timeout ends with OE_TIMEOUT long before the
// dribble is over — relay requests, transfers, command API calls and App API calls alike — and its
// socket is destroyed, not returned to the pool. On the manual clock, the deadline also covers a TLS
// handshake that never completes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AppConnection,
  DetectionContext,
  FailureDetectionClient,
  findPrinterId,
  OctoEverywhereClient,
  type OctoEverywhereError,
  transfer,
} from '../../src/client';
import { Deadline } from '../../src/client/deadline';
import { createClock, type ManagedClock } from '../../src/simulator';
import { type DribbleServer, DRIBBLE_FOR_MS, startDribbleServer } from '../helpers/dribble';
import { SECRETS, secretsIn } from '../helpers/secrets';
import { figure } from '../reliability/rig';

const TIMEOUT_MS = 500;
/** A correctness bound, not a speed goal: far below the 10 s the dribble lasts. */
const BOUND_MS = 5_000;

describe('client: request deadlines (issue 14 item 3)', function () {
  this.timeout(30_000);
  let server: DribbleServer;
  const open: Array<{ close(): Promise<void> }> = [];
  const client = (extra: Partial<ConstructorParameters<typeof OctoEverywhereClient>[0]> = {}): OctoEverywhereClient => {
    const c = new OctoEverywhereClient({
      url: `http://app-deadline.localhost:${server.port}`,
      serviceUrl: `http://127.0.0.1:${server.port}`,
      authBearerToken: SECRETS.authBearerToken,
      appApiToken: SECRETS.appApiToken,
      ...extra,
    });
    open.push(c);
    return c;
  };

  beforeEach(async () => {
    server = await startDribbleServer();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await server.close();
  });

  /** Runs `call`, which must fail with OE_TIMEOUT well before the dribble ends, its socket destroyed. */
  async function timesOut(label: string, connection: AppConnection, call: () => Promise<unknown>): Promise<void> {
    const started = Date.now();
    const error = await call().then(
      () => assert.fail(`${label}: ended OK after ${Date.now() - started} ms instead of OE_TIMEOUT`),
      (e: OctoEverywhereError) => e,
    );
    const tookMs = Date.now() - started;
    assert.equal(error.code, 'OE_TIMEOUT', `${label}: ${error.code} ${error.message}`);
    assert.equal(error.kind, 'temporary');
    assert.ok(tookMs < BOUND_MS, `${label}: OE_TIMEOUT after ${tookMs} ms, the dribble lasts ${DRIBBLE_FOR_MS} ms`);
    assert.deepEqual(secretsIn(`${error.message}${JSON.stringify(error)}`), []);
    assert.ok(!error.message.includes(String(server.port)), 'the message names no address');
    await server.socketsClosed();
    // The client's side of the socket closes a moment after the server's.
    for (let i = 0; i < 10 && connection.socketCount() > 0; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(connection.socketCount(), 0, 'the timed-out socket was destroyed, not pooled');
    figure(`deadline/${label}`, { timeoutMs: TIMEOUT_MS, dribbleMs: DRIBBLE_FOR_MS, oeTimeoutAfterMs: tookMs });
  }

  it('a relay request whose body dribbles', async () => {
    const c = client();
    await timesOut('relay-body', c.connection, () => c.connection.request({ path: '/api/job', timeoutMs: TIMEOUT_MS }));
  });

  it('a transfer (the printer request node) whose head or body dribbles, read whole or streamed', async () => {
    const c = client();
    await timesOut('transfer-body', c.connection, () => transfer(c.connection, { path: '/api/job', timeoutMs: TIMEOUT_MS }));
    server.respond(() => ({ dribble: 'head' }));
    await timesOut('transfer-head', c.connection, () => transfer(c.connection, { path: '/api/job', timeoutMs: TIMEOUT_MS }));
    // A file upload reads the answer from a stream: the same deadline covers that read.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oe-deadline-'));
    try {
      const file = path.join(dir, 'part.gcode');
      fs.writeFileSync(file, 'G28\n');
      server.respond(() => ({ dribble: 'body' }));
      await timesOut('transfer-upload', c.connection, () => transfer(c.connection, { method: 'POST', path: '/api/files/local', file, timeoutMs: TIMEOUT_MS }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the command API status command', async () => {
    const c = client();
    await timesOut('command-status', c.connection, () => c.commands.status({ timeoutMs: TIMEOUT_MS }));
  });

  it('the Info App API call', async () => {
    server.respond(() => ({ dribble: 'body', contentType: 'application/json' }));
    const c = client();
    await timesOut('app-api-info', c.connection, () => c.app.info({ timeoutMs: TIMEOUT_MS }));
  });

  it('the connection timeout applies when the call sets none', async () => {
    const c = client({ timeoutMs: TIMEOUT_MS });
    await timesOut('connection-default', c.connection, () => c.commands.status());
  });

  /** Like timesOut(), for the clients that own no AppConnection: the socket is checked on the server's side. */
  async function endsByDeadline(label: string, call: () => Promise<unknown>): Promise<void> {
    const started = Date.now();
    const error = await call().then(
      () => assert.fail(`${label}: ended OK after ${Date.now() - started} ms instead of OE_TIMEOUT`),
      (e: OctoEverywhereError) => e,
    );
    const tookMs = Date.now() - started;
    assert.equal(error.code, 'OE_TIMEOUT', `${label}: ${error.code} after ${tookMs} ms: ${error.message}`);
    assert.equal(error.kind, 'temporary');
    assert.ok(tookMs < BOUND_MS, `${label}: OE_TIMEOUT after ${tookMs} ms, the dribble lasts ${DRIBBLE_FOR_MS} ms`);
    assert.deepEqual(secretsIn(`${error.message}${JSON.stringify(error)}`), []);
    assert.ok(!error.message.includes(String(server.port)), 'the message names no address');
    await server.socketsClosed();
    figure(`deadline/${label}`, { timeoutMs: TIMEOUT_MS, dribbleMs: DRIBBLE_FOR_MS, oeTimeoutAfterMs: tookMs });
  }

  it('the Gadget Failure Detection API: a context and a frame', async () => {
    server.respond(() => ({ dribble: 'body', contentType: 'application/json' }));
    const gadget = new FailureDetectionClient({
      apiKey: SECRETS.authBearerToken,
      serviceUrl: `http://127.0.0.1:${server.port}`,
      createTimeoutMs: TIMEOUT_MS,
      processTimeoutMs: TIMEOUT_MS,
    });
    open.push(gadget);
    await endsByDeadline('gadget-create', () => gadget.createContext());
    const context = new DetectionContext('ctx', `http://127.0.0.1:${server.port}/process`, `http://127.0.0.1:${server.port}/fallback`);
    await endsByDeadline('gadget-process', () => gadget.process(context, Buffer.from([0xff, 0xd8, 0xff, 0xd9])));
  });

  it("the printer's Printer ID on the LAN (the editor's look-up), both of its questions within one deadline", async () => {
    server.respond(() => ({ dribble: 'body', contentType: 'application/json' }));
    await endsByDeadline('printer-id', () => findPrinterId(`http://127.0.0.1:${server.port}`, { timeoutMs: TIMEOUT_MS }));
  });

  it('a caller that cancels still gets OE_ABORTED, not OE_TIMEOUT', async () => {
    const c = client();
    const controller = new AbortController();
    const call = c.connection.request({ path: '/api/job', timeoutMs: 60_000, signal: controller.signal });
    while (server.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await assert.rejects(call, (e: OctoEverywhereError) => e.code === 'OE_ABORTED');
  });

  describe('on the manual clock', () => {
    let clock: ManagedClock;
    beforeEach(() => {
      clock = createClock({ mode: 'manual' });
    });
    afterEach(() => clock.dispose());

    const started = async (): Promise<void> => {
      while (server.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    };

    it('ends a request that gets no answer when its time is up, and not before', async () => {
      server.respond(() => ({ silent: true }));
      const c = client({ clock, timeoutMs: 30_000 });
      let settled = false;
      const call = c.commands.status();
      call.then(
        () => (settled = true),
        () => (settled = true),
      );
      await started();
      await clock.advance(29_999);
      assert.equal(settled, false, 'still waiting 1 ms before the deadline');
      await clock.advance(1);
      await assert.rejects(call, (e: OctoEverywhereError) => e.code === 'OE_TIMEOUT');
      assert.equal(clock.pendingTimers, 0);
    });

    it('covers connecting: a TLS handshake that never completes ends at the deadline', async () => {
      // A TCP server that accepts and says nothing: the client's TLS hello is never answered.
      const silent = net.createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as net.AddressInfo).port;
      const accepted: net.Socket[] = [];
      silent.on('connection', (socket) => accepted.push(socket));
      try {
        const c = client({ clock, url: `https://app-deadline.localhost:${port}`, timeoutMs: 10_000 });
        const call = c.connection.request({ path: '/api/job' });
        while (accepted.length === 0) await new Promise((resolve) => setImmediate(resolve));
        const rejected = assert.rejects(call, (e: OctoEverywhereError) => e.code === 'OE_TIMEOUT');
        await clock.advance(10_000);
        await rejected;
        assert.equal(c.connection.socketCount(), 0);
      } finally {
        for (const socket of accepted) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('leaves no timer behind: answered requests release their deadline, a stream answer stops it at its head', async () => {
      server.respond(() => ({ json: { ok: true } }));
      const c = client({ clock });
      await c.connection.request({ path: '/api/job' });
      await c.app.info().catch(() => undefined);
      assert.equal(clock.pendingTimers, 0);
      server.respond(() => ({ dribble: 'body' }));
      const res = await c.connection.request<import('node:stream').Readable>({ path: '/webcam/stream', responseType: 'stream' });
      assert.equal(clock.pendingTimers, 0, 'the stream reader bounds the rest');
      res.body.destroy();
    });

    it('Deadline: the caller aborting first is not a timeout, and release() lets go of both', () => {
      const parent = new AbortController();
      const deadline = new Deadline(1_000, parent.signal, clock);
      parent.abort();
      assert.equal(deadline.signal.aborted, true);
      assert.equal(deadline.expired, false);
      assert.equal(clock.pendingTimers, 0);
      const other = new Deadline(1_000, undefined, clock);
      other.release();
      assert.equal(clock.pendingTimers, 0);
      assert.equal(other.signal.aborted, false);
    });
  });
});
