// Node-RED flows in the real runtime (node-red-node-test-helper's load: the runtime's own flow
// engine, message routing and node API), with the helper's per-call spies removed (from
// Node.prototype and from the nodes that copied `send`) so that the figures are Node-RED's, not sinon's.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import helper from 'node-red-node-test-helper';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { Counter, type ClosedLoop } from './loop';

const NODE_RED = require.resolve('node-red');
helper.init(NODE_RED);

export type NodeModule = (RED: NodeAPI) => unknown;
export type FlowNode = Record<string, unknown> & { id: string; type: string };

const CORE = path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core');
/** Our nodes as Node-RED loads them: compiled (bench/run.ts builds dist/ first when src/ is newer). */
const OURS = path.resolve(__dirname, '..', '..', 'dist', 'nodes');
const SRC_NODES = path.resolve(__dirname, '..', '..', 'src', 'nodes');

export function nodeRedVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(path.dirname(NODE_RED), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** A core node module, e.g. `network/21-httprequest.js`. */
export function coreNode(file: string): NodeModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a core node of the Node-RED being measured
  return require(path.join(CORE, file)) as NodeModule;
}

/**
 * Our node module from dist/ (tsc's output, what users run; through tsx the code carries esbuild's
 * keepNames helper on every closure, ~5 % of a printer-request profile), or undefined while its
 * file has not landed.
 */
export function ourNode(type: string): NodeModule | undefined {
  const file = path.join(OURS, `${type}.js`);
  if (!fs.existsSync(path.join(SRC_NODES, `${type}.ts`)) || !fs.existsSync(file)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- our compiled node, as Node-RED loads it
  return require(file) as NodeModule;
}

/** Whether our node type has landed; the reason when it has not. */
export function missing(...types: string[]): string | undefined {
  const absent = types.filter((t) => !fs.existsSync(path.join(SRC_NODES, `${t}.ts`)));
  return absent.length ? `not available yet (src/nodes/${absent.join('.ts, src/nodes/')}.ts has not landed)` : undefined;
}

const PROXIED = ['log', 'status', 'warn', 'error', 'debug', 'trace', 'send'] as const;
type Proto = Record<(typeof PROXIED)[number], unknown>;

interface HelperInternals {
  _NodePrototype: Proto;
  /** The runtime's log module; the helper spies on its `log`, which Node.metric() calls for every message. */
  _log: { log: unknown };
}

/** Deploys a flow; resolves once it has started. The helper's spies are taken off again. */
export async function deploy(modules: NodeModule[], flow: FlowNode[], credentials: Record<string, unknown> = {}): Promise<void> {
  const internals = helper as unknown as HelperInternals;
  const proto = internals._NodePrototype;
  const originals = PROXIED.map((name) => proto[name]);
  const log = internals._log.log;
  await helper.load(modules as never, flow as never, credentials as never);
  // Node-RED calls Node.metric() on every receive, send and done, and metric() calls log.log, which
  // the helper spies on too: a CPU profile showed that spy at ~15 % of a run (and its call records
  // at much of the GC). The helper's unload restores the original anyway.
  internals._log.log = log;
  const proxied = PROXIED.map((name) => proto[name]);
  PROXIED.forEach((name, i) => {
    proto[name] = originals[i];
  });
  // Node-RED copies `send` onto each node when it wires it (Node.js updateWires), so the nodes
  // just started hold the spied one themselves.
  for (const { id } of flow) {
    const node = helper.getNode(id) as unknown as Proto | null;
    if (!node) continue;
    PROXIED.forEach((name, i) => {
      if (Object.prototype.hasOwnProperty.call(node, name) && node[name] === proxied[i]) node[name] = originals[i];
    });
  }
  // The runtime logs a node that failed to start and carries on; a benchmark must not.
  const absent = flow.filter((n) => n.type !== 'tab' && !helper.getNode(n.id)).map((n) => `${n.id} (${n.type})`);
  if (absent.length) throw new Error(`these nodes did not start: ${absent.join(', ')}`);
}

export async function undeploy(): Promise<void> {
  await helper.unload();
}

export function getNode(id: string): Node | undefined {
  return (helper.getNode(id) as Node | null) ?? undefined;
}

/** RED.httpNode as the flow's nodes see it, captured by a probe module loaded with them. */
export function httpNodeProbe(): { module: NodeModule; app: () => (req: unknown, res: unknown) => void } {
  let app: ((req: unknown, res: unknown) => void) | undefined;
  return {
    module: (RED) => {
      app = (RED as unknown as { httpNode: (req: unknown, res: unknown) => void }).httpNode;
    },
    app: () => {
      if (!app) throw new Error('the probe was not loaded');
      return app;
    },
  };
}

// ---- the driver: keeps N messages in flight through the measured node ----

interface DriverState {
  node?: Node;
  make?: () => NodeMessage;
  /** Whether a returning message carries the answer expected (else it counts as an error). */
  check?: (msg: NodeMessageInFlow) => boolean;
  running: boolean;
  outstanding: number;
  idle?: () => void;
  counter: Counter;
}

const drivers = new Map<string, DriverState>();

/**
 * Node type `bench-driver`: its output feeds the measured node, whose output (and a Catch node's
 * for its errors) comes back to it; every message that returns is counted and replaced by a new one.
 */
export const driverModule: NodeModule = (RED) => {
  RED.nodes.registerType('bench-driver', function BenchDriver(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const state: DriverState = { node: this, running: false, outstanding: 0, counter: new Counter() };
    drivers.set(def.id, state);
    this.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage) => void, done: () => void) => {
      const m = msg as NodeMessageInFlow & { _benchT0?: number; statusCode?: number; error?: unknown };
      state.outstanding--;
      if (typeof m._benchT0 === 'number') {
        const failed = m.error !== undefined || (typeof m.statusCode === 'number' && m.statusCode >= 400) || (state.check !== undefined && !state.check(msg));
        state.counter.done(m._benchT0, failed);
      }
      if (state.running && state.make) {
        state.outstanding++;
        send({ ...state.make(), _benchT0: performance.now() } as NodeMessage);
      } else if (state.outstanding === 0) state.idle?.();
      done();
    });
  } as never);
};

/** The closed loop of a deployed `bench-driver` node. */
export function driverLoop(id: string, inFlight: number, make: () => NodeMessage, check?: (msg: NodeMessageInFlow) => boolean): ClosedLoop {
  const state = drivers.get(id);
  if (!state?.node) throw new Error(`no bench-driver ${id} deployed`);
  const node = state.node;
  return {
    start() {
      state.make = make;
      state.check = check;
      state.running = true;
      for (let i = 0; i < inFlight; i++) {
        state.outstanding++;
        node.send({ ...make(), _benchT0: performance.now() } as NodeMessage);
      }
    },
    stop() {
      state.running = false;
      if (state.outstanding <= 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        state.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
    take: () => state.counter.take(),
  };
}

/** The tab flow nodes live on (with x and y: nodes without them are taken for config nodes). */
export const TAB = 'bench';

/** Nodes placed on the benchmark's tab, plus the config nodes given (which stay off it). */
export function onTab(nodes: FlowNode[], configNodes: FlowNode[] = []): FlowNode[] {
  return [{ id: TAB, type: 'tab', label: 'bench' }, ...nodes.map((n) => ({ x: 0, y: 0, ...n, z: TAB })), ...configNodes];
}

/** The wiring: driver → measured → driver, plus a Catch scoped to the measured node → driver. */
export function loopFlow(measured: FlowNode, configNodes: FlowNode[] = []): FlowNode[] {
  return onTab(
    [
      { id: 'driver', type: 'bench-driver', wires: [[measured.id]] },
      { ...measured, wires: [['driver']] },
      { id: 'catch', type: 'catch', scope: [measured.id], uncaught: false, wires: [['driver']] },
    ],
    configNodes,
  );
}

// ---- the sink: counts what reaches it ----

const sunk = new Map<string, number>();

/** Node type `bench-sink`: counts every message it receives (see sinkCount). */
export const sinkModule: NodeModule = (RED) => {
  RED.nodes.registerType('bench-sink', function BenchSink(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    sunk.set(def.id, 0);
    this.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: () => void) => {
      sunk.set(def.id, (sunk.get(def.id) ?? 0) + 1);
      done();
    });
  } as never);
};

/** Messages sink `id` received since the last call. */
export function sinkCount(id: string): number {
  const n = sunk.get(id) ?? 0;
  sunk.set(id, 0);
  return n;
}
