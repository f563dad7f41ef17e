import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import { localhostLookup, startSimulator } from '../../../src/simulator/index';
import { bearer, request } from './helpers';
import { standInFactory } from './stand-in-printer';

/** Handles and requests that keep the event loop alive, by kind. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

describe('simulator service: close()', () => {
  it('closes every server, socket, timer and printer, even with traffic in flight', async () => {
    // After one turn, so mocha's own timer for this test is already in the baseline.
    await new Promise((resolve) => setImmediate(resolve));
    const before = activeResources();
    const sim = await startSimulator({ timeScale: 1, printers: [{ kind: 'moonraker', name: 'Voron 2.4' }], startPrinter: standInFactory });
    const conn = sim.createAppConnection(0);
    const auth = bearer(conn.authBearerToken);
    // Keep-alive relay sockets, an open WebSocket, an endless MJPEG stream and a pending 602.
    await request(`${conn.url}/echo`, { headers: { authorization: auth } });
    const ws = new WebSocket(`${conn.url.replace('http', 'ws')}/ws`, { headers: { authorization: auth }, lookup: localhostLookup } as WebSocket.ClientOptions);
    await new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject));
    const stream = new Promise<void>((resolve) => {
      http
        .get(
          { host: '127.0.0.1', port: sim.port, path: '/webcam/?action=stream', agent: false, headers: { host: new URL(conn.url).host, authorization: auth } },
          (res) => {
            res.once('data', () => resolve());
            res.on('error', () => undefined);
          },
        )
        .on('error', () => undefined);
    });
    await stream;
    sim.chaos.latencyMs = 60_000;
    const delayed = request(`${conn.url}/echo`, { headers: { authorization: auth } }).catch(() => 'closed');

    await sim.close();
    assert.equal(await delayed, 'closed');
    await new Promise((resolve) => ws.once('close', resolve));
    await assert.rejects(request(`${sim.serviceUrl}/`), /ECONNREFUSED/);
    await assert.rejects(request(`${sim.printers[0].url}/echo`), /ECONNREFUSED/);
    // The test's own client sockets see the server's FIN a moment later, and Node's HTTP Date-header
    // cache holds an unref'd timer for up to a second: give both that long.
    const settled = (): boolean => ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'].every((kind) => (activeResources().get(kind) ?? 0) <= (before.get(kind) ?? 0));
    for (let i = 0; i < 75 && !settled(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const after = activeResources();
    for (const kind of ['TCPServerWrap', 'TCPSocketWrap', 'Timeout']) {
      assert.ok((after.get(kind) ?? 0) <= (before.get(kind) ?? 0), `${kind}: ${after.get(kind)} open after close, ${before.get(kind)} before`);
    }
  });

  it('is safe to call twice', async () => {
    const sim = await startSimulator({ printers: [], startPrinter: standInFactory });
    await Promise.all([sim.close(), sim.close()]);
  });
});
