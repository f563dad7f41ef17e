import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import { createClock, type ManagedClock, type Simulator, startSimulator, type CompletionKeys, localhostLookup } from '../../../src/simulator/index';
import { bearer } from './helpers';
import { StandInPrinter, standInFactory } from './stand-in-printer';

/** Opens a client WebSocket to a relay host (resolving *.localhost to 127.0.0.1). */
function connect(url: string, headers: Record<string, string>, protocols: string[] = []): WebSocket {
  return new WebSocket(url.replace(/^http/, 'ws'), protocols, { headers, lookup: localhostLookup } as WebSocket.ClientOptions);
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary }));
    ws.once('error', reject);
  });
}

function handshakeStatus(ws: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => reject(new Error('handshake unexpectedly accepted')));
    ws.once('error', () => undefined);
  });
}

describe('simulator service: WebSocket relay', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  let printer: StandInPrinter;
  let conn: CompletionKeys;

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({ clock, startPrinter: standInFactory, printers: [{ kind: 'octoprint', name: 'Prusa MK3S' }] });
    printer = sim.printers[0] as StandInPrinter;
    conn = sim.createAppConnection(0);
  });
  afterEach(async () => {
    await sim.close();
    clock.dispose();
  });

  it('forwards only X-Api-Key*, Cookie and the subprotocol list to the printer', async () => {
    const ws = connect(
      `${conn.url}/sockjs/websocket`,
      {
        authorization: bearer(conn.authBearerToken),
        'x-api-key': 'k1',
        'x-api-key-extra': 'k2',
        cookie: 'session=abc',
        'x-custom': 'nope',
        origin: conn.url,
      },
      ['v1.octoprint', 'v2'],
    );
    const first = await nextMessage(ws);
    assert.deepEqual(JSON.parse(first.data.toString()), { protocol: 'v1.octoprint' });
    assert.equal(ws.protocol, 'v1.octoprint', 'the client gets the protocol the printer chose');
    const seen = printer.wsHandshakes[0];
    assert.equal(seen['x-api-key'], 'k1');
    assert.equal(seen['x-api-key-extra'], 'k2');
    assert.equal(seen.cookie, 'session=abc');
    assert.deepEqual(
      seen['sec-websocket-protocol']?.split(',').map((p) => p.trim()),
      ['v1.octoprint', 'v2'],
    );
    for (const dropped of ['x-custom', 'authorization', 'origin', 'x-forwarded-for']) assert.equal(seen[dropped], undefined, dropped);
    ws.close();
  });

  it('keeps text, binary and close frames', async () => {
    const ws = connect(`${conn.url}/ws`, { authorization: bearer(conn.authBearerToken) });
    await nextMessage(ws);
    ws.send('hello');
    const text = await nextMessage(ws);
    assert.deepEqual([text.data.toString(), text.isBinary], ['hello', false]);
    ws.send(Buffer.from([1, 2, 3]));
    const binary = await nextMessage(ws);
    assert.deepEqual([[...binary.data], binary.isBinary], [[1, 2, 3], true]);
    const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
    ws.send('close-me');
    assert.deepEqual(await closed, [4001, 'asked to']);
  });

  it('refuses a handshake whose subprotocol list is malformed with 400, and keeps running', async () => {
    const target = new URL(conn.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: target.port,
        path: '/ws',
        headers: {
          host: target.host,
          authorization: bearer(conn.authBearerToken),
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-protocol': 'not a token, v2',
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 400);
    const ws = connect(`${conn.url}/ws`, { authorization: bearer(conn.authBearerToken) });
    await nextMessage(ws);
    ws.close();
  });

  it('authenticates the handshake: 606 without or with wrong credentials, 604 revoked, 605, 601', async () => {
    assert.equal(await handshakeStatus(connect(`${conn.url}/ws`, {})), 606);
    assert.equal(await handshakeStatus(connect(`${conn.url}/ws`, { authorization: bearer('wrong') })), 606);
    const auth = { authorization: `Basic ${Buffer.from(`${conn.authbasichttpuser}:${conn.authbasichttppassword}`).toString('base64')}` };
    printer.online = false;
    assert.equal(await handshakeStatus(connect(`${conn.url}/ws`, auth)), 601);
    printer.online = true;
    sim.setSupporter(false);
    assert.equal(await handshakeStatus(connect(`${conn.url}/ws`, auth)), 605);
    sim.setSupporter(true);
    sim.revoke(conn.id);
    assert.equal(await handshakeStatus(connect(`${conn.url}/ws`, auth)), 604);
  });
});
