// Issue 10, leaks: 100 full redeploys in a row of a flow holding every node type (each deploy used:
// one message through every input node, a webhook registered at the service), then closing it all,
// must leave no timer, socket, listener or HTTP route behind. Measured through the process's active
// resources, the httpNode/httpAdmin router stacks and the runtime's event listeners.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { NodeAPI } from 'node-red';
import { helper, setFlows } from '../helpers/nodes';
import { credentialsOf } from '../helpers/simulator';
import { type Simulator, startSimulator } from '../../src/simulator';
import { routesOn } from '../../src/nodes/shared/webhook-route';
import { allNodesFlow, figure, heapAfterGc, rawRequest, INPUT_NODES, lastStatus, ledger, modules, recordProcessFaults } from './rig';

const REDEPLOYS = 100;
const HOOK_PATH = '/oe/redeploy-hook';

/**
 * Active resources by kind (Timeout, TCPServerWrap …), as Node reports them, with TCP sockets split by
 * what they connect: an idle pooled client socket is unref'd and so not listed, but its server side in
 * the simulator is, which is how the client's keep-alive sockets are counted. The simulator's own
 * relay-to-printer connections are its business and left out.
 */
function resources(sim: Simulator): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) if (kind !== 'TCPSocketWrap') counts[kind] = (counts[kind] ?? 0) + 1;
  const printerPorts = new Set(sim.printers.map((p) => Number(new URL(p.url).port)));
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  for (const h of handles) {
    if (!(h instanceof net.Socket) || h.localPort === undefined) continue;
    if (printerPorts.has(h.localPort) || printerPorts.has(h.remotePort ?? -1)) continue;
    const kind = h.localPort === sim.port || h.remotePort === sim.port ? 'socket:service' : 'socket:other';
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

function grown(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[kind] ?? 0) - (before[kind] ?? 0);
    if (d > 0) out[kind] = d;
  }
  return out;
}

type Stacked = { _router?: { stack: unknown[] }; router?: { stack: unknown[] } };
function stackSize(app: unknown): number {
  const a = app as Stacked;
  return (a._router ?? a.router)?.stack.length ?? 0;
}

function listenerTotal(emitter: NodeJS.EventEmitter): number {
  return emitter.eventNames().reduce((sum, name) => sum + emitter.listenerCount(name), 0);
}

/** Lets sockets finish closing and timers be cleared before counting. */
async function quiesce(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
}

describe('reliability: 100 redeploys leave nothing behind', function () {
  // A bound for a stuck run on a busy machine, not a speed goal.
  this.timeout(240_000);
  let sim: Simulator;
  let red: NodeAPI | undefined;
  let nodeServer: http.Server;
  let nodePort = 0;

  before(async () => {
    sim = await startSimulator({ printers: [{ kind: 'moonraker', name: 'Voron 2.4' }] });
    sim.webcamViewLimit.maxViews = 100_000;
    // Serves whatever httpNode the current runtime has (webhook deliveries and the registered URL).
    nodeServer = http.createServer((req, res) => {
      if (red) (red.httpNode as unknown as http.RequestListener)(req, res);
      else res.writeHead(503).end();
    });
    await new Promise<void>((r) => nodeServer.listen(0, '127.0.0.1', r));
    nodePort = (nodeServer.address() as AddressInfo).port;
  });
  after(async () => {
    nodeServer.closeAllConnections();
    await new Promise((r) => nodeServer.close(r));
    await sim.close();
  });

  it(`${REDEPLOYS} full redeploys with traffic, then closing every node: no timer, socket, listener or route left`, async () => {
    const faults = recordProcessFaults();
    await quiesce();
    const idle = resources(sim);
    const keys = sim.createAppConnection(0, { appId: 'nodered' });
    const creds = { c1: credentialsOf(keys), hook: { token: 'redeploy-token-0123456789abcdefghij' } };
    const flow = (i: number): ReturnType<typeof allNodesFlow> =>
      allNodesFlow({
        serviceUrl: sim.serviceUrl,
        webhookMode: 'app-connection',
        webhookPath: HOOK_PATH,
        publicUrl: `http://127.0.0.1:${nodePort}`,
        pollIntervalSec: 10 + (i % 2),
      });

    await helper.load(modules((r) => (red = r)) as Parameters<typeof helper.load>[0], flow(0), creds);
    assert.ok(red);
    const runtimeEvents = (helper as unknown as { _events: NodeJS.EventEmitter })._events;
    /** What a leak would grow: handles, routes, listeners, heap. */
    const measure = () => {
      assert.ok(red);
      return {
        resources: resources(sim),
        httpNode: stackSize(red.httpNode),
        httpAdmin: stackSize(red.httpAdmin),
        events: listenerTotal(runtimeEvents),
        process: listenerTotal(process),
        heap: heapAfterGc(),
      };
    };
    let messages = 0;
    const exercise = async (): Promise<void> => {
      const l = ledger();
      const ends = await Promise.all(INPUT_NODES.map((n) => l.send(n)));
      messages += ends.length;
      assert.deepEqual(
        ends.map((e) => e.kind),
        INPUT_NODES.map(() => 'out'),
        ends.map((e) => e.code).join(','),
      );
    };
    await exercise();
    // Two warm-up deploys: lazily made things (routers, module caches, agents of Node-RED itself) exist now.
    for (let i = 1; i <= 2; i++) {
      await setFlows(flow(i), 'full', creds);
      await exercise();
    }
    await quiesce();
    const base = measure();

    const started = Date.now();
    for (let i = 3; i < REDEPLOYS + 3; i++) {
      await setFlows(flow(i), 'full', creds);
      await exercise();
    }
    await quiesce();
    const after = measure();

    figure('redeploy', {
      deploys: REDEPLOYS,
      messages,
      ms: Date.now() - started,
      handlesBefore: JSON.stringify(base.resources),
      handlesAfter: JSON.stringify(after.resources),
      httpNodeRoutes: `${base.httpNode}->${after.httpNode}`,
      httpAdminRoutes: `${base.httpAdmin}->${after.httpAdmin}`,
      runtimeListeners: `${base.events}->${after.events}`,
      processListeners: `${base.process}->${after.process}`,
      heapMiB: `${(base.heap / 2 ** 20).toFixed(1)}->${(after.heap / 2 ** 20).toFixed(1)}`,
    });
    assert.deepEqual(grown(base.resources, after.resources), {}, 'active handles grew over the redeploys');
    assert.equal(after.httpNode, base.httpNode, 'httpNode routes');
    assert.equal(after.httpAdmin, base.httpAdmin, 'httpAdmin routes');
    assert.equal(after.events, base.events, 'runtime event listeners');
    assert.equal(after.process, base.process, 'process listeners');
    // Generous: V8 grows its code and inline caches for a while; a leak of a flow per deploy is far larger.
    assert.ok(after.heap - base.heap < 16 * 2 ** 20, `heap grew by ${((after.heap - base.heap) / 2 ** 20).toFixed(1)} MiB`);
    // The webhook route is there once, answers, and its node is listening (not "path in use"). Probed after
    // counting: the refusal starts the node's short status flash timer.
    assert.equal(routesOn(red.httpNode as never, HOOK_PATH), 1, 'exactly one webhook route after the redeploys');
    const probe = await rawRequest(nodePort, 'POST', `${HOOK_PATH}?token=wrong`, '{}', { 'content-type': 'application/json' });
    assert.equal(probe.status, 401);
    assert.notEqual(lastStatus('hook')?.fill, 'red', JSON.stringify(lastStatus('hook')));

    await helper.unload();
    red = undefined;
    await quiesce();
    const closed = resources(sim);
    figure('redeploy/closed', { idle: JSON.stringify(idle), closed: JSON.stringify(closed) });
    assert.deepEqual(grown(idle, closed), {}, 'closing every node released every handle');
    faults.stop();
    assert.deepEqual(faults.faults, []);
  });
});
