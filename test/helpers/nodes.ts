// Loading our nodes into the real Node-RED runtime through node-red-node-test-helper. The modules
// come from src/ (through tsx) so a test never depends on a stale or half-written dist/; the
// packaging test covers the compiled files Node-RED loads from an installed package.
import path from 'node:path';
import helper, { type TestNodeInitializer } from 'node-red-node-test-helper';

const SRC = path.resolve(__dirname, '..', '..', 'src', 'nodes');

/** The node module for a type, as Node-RED would require it. */
export function nodeModule(type: string): TestNodeInitializer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a node module by its type, as Node-RED loads it
  return require(path.join(SRC, `${type}.ts`));
}

/**
 * A core node module (e.g. `common/25-catch.js`) of the Node-RED under test: Node-RED 5's runtime
 * must get its own core nodes, and the test helper skips catch/status/complete it already loaded
 * only when they are the same module.
 */
export function coreNode(file: string): TestNodeInitializer {
  const runtime = path.dirname(require.resolve(process.env.OE_NODE_RED_PATH || 'node-red'));
  const nodes = path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [runtime] }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a core node of the Node-RED under test, found at run time
  return require(path.join(nodes, 'core', file));
}

export { helper };

interface HelperInternals {
  _events: { on(event: string, fn: () => void): void; off(event: string, fn: () => void): void };
  _redNodes: { setFlows(flows: unknown[], credentials: Record<string, unknown>, type: string): Promise<unknown> };
}

/**
 * A deploy, as helper.setFlows does it, but listening for `flows:started` before deploying and for
 * as long as the deploy takes: the helper starts listening only after the deploy returned and gives
 * up after 300 ms, which a busy machine (or a fast deploy that already started) turns into a
 * "timeout waiting event" that says nothing about the nodes.
 */
export async function setFlows(
  flows: unknown[],
  type: 'full' | 'nodes' | 'flows',
  credentials: Record<string, unknown> = {},
  timeoutMs = 30_000,
): Promise<void> {
  const internals = helper as unknown as HelperInternals;
  let onStarted: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const started = new Promise<void>((resolve, reject) => {
    onStarted = resolve;
    timer = setTimeout(() => reject(new Error(`flows did not start within ${timeoutMs} ms of a ${type} deploy`)), timeoutMs);
  });
  internals._events.on('flows:started', onStarted);
  try {
    await internals._redNodes.setFlows(flows, credentials, type);
    await started;
  } finally {
    clearTimeout(timer);
    internals._events.off('flows:started', onStarted);
  }
}
