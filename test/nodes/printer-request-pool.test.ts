// Done-when for printer-request: 16 messages in flight share one keep-alive pool, and 10,000 requests
// leave nothing behind (sockets, handles, heap) once the flow is stopped.
import assert from 'node:assert/strict';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { helper } from '../helpers/nodes';
import { credentialsOf } from '../helpers/simulator';
import { startSimulator } from '../../src/simulator';
import type { AppConnectionNode } from '../../src/nodes/shared/types';
import { loadFlow } from './printer-request-harness';

const REQUESTS = 10_000;
const IN_FLIGHT = 16;

/** A TCP pass-through in front of the simulator that counts the connections clients open to it. */
async function countingProxy(targetPort: number): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections += 1;
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** global.gc, also when node was started without --expose-gc. */
function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

/**
 * The test helper's sinon spies record every call of the proxied Node methods (send, status, log …)
 * with their arguments; that history is the helper's, not ours, so it is dropped before measuring.
 */
function dropSpyHistory(node: object): void {
  for (const method of ['log', 'status', 'warn', 'error', 'debug', 'trace', 'send']) {
    (node as Record<string, { resetHistory?: () => void }>)[method]?.resetHistory?.();
  }
  (helper.log() as unknown as { resetHistory?: () => void }).resetHistory?.();
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe('node: octoeverywhere-printer-request — pool and leaks', function () {
  // 10,000 real requests: a bound for a stuck run, not a speed goal (those live in bench/).
  this.timeout(180_000);
  // A failure must not leave the flow loaded (and the helper's spies on) for the next file's tests.
  afterEach(() => helper.unload());

  it(`keeps ${IN_FLIGHT} in-flight messages on one keep-alive pool and leaks nothing after ${REQUESTS} requests`, async () => {
    const gc = gcFunction();
    await settle();
    gc();
    const handlesBefore = resourceCounts();

    const sim = await startSimulator();
    const proxy = await countingProxy(sim.port);
    const keys = sim.createAppConnection(0);
    const url = new URL(keys.url);
    url.port = String(proxy.port);
    const h = await loadFlow({
      type: 'octoeverywhere-printer-request',
      sim,
      credentials: credentialsOf({ ...keys, url: url.origin }),
      node: { method: 'GET', path: '/server/info', ret: 'obj' },
    });
    const client = (helper.getNode('c1') as AppConnectionNode).client();

    let sent = 0;
    let maxSockets = 0;
    let failures = 0;
    const worker = async (upTo: number): Promise<void> => {
      while (sent < upTo) {
        sent += 1;
        const { msg, error } = await h.send({});
        if (error || msg.statusCode !== 200) failures += 1;
        maxSockets = Math.max(maxSockets, client.connection.socketCount());
      }
    };
    // Warm up first (JIT, pools, caches), then measure the heap over the remaining requests.
    const WARM_UP = 1_000;
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker(WARM_UP)));
    dropSpyHistory(h.node);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker(REQUESTS)));

    assert.equal(failures, 0);
    assert.equal(h.counts.in, REQUESTS);
    assert.equal(h.counts.out + h.counts.errors, REQUESTS, 'nothing lost');
    assert.ok(maxSockets <= IN_FLIGHT, `at most ${IN_FLIGHT} pooled sockets (saw ${maxSockets})`);
    assert.ok(proxy.connections() <= IN_FLIGHT, `sockets are reused: ${proxy.connections()} TCP connections for ${REQUESTS} requests`);
    assert.deepEqual(h.statuses.at(-1), {}, 'status cleared once nothing is in flight');

    await helper.unload();
    assert.equal(client.connection.socketCount(), 0, 'the pool is empty after close');
    await proxy.close();
    await sim.close();
    await settle();
    dropSpyHistory(h.node);
    h.statuses.length = 0;
    gc();

    const handlesAfter = resourceCounts();
    for (const [type, n] of handlesAfter) {
      assert.ok(n <= (handlesBefore.get(type) ?? 0), `active ${type}: ${n} after, ${handlesBefore.get(type) ?? 0} before`);
    }
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB`);
  });
});
