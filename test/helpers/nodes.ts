// Loading our nodes into the real Node-RED runtime through node-red-node-test-helper. The modules
// come from src/ (through tsx) so a test never depends on a stale or half-written dist/; the
// packaging test covers the compiled files Node-RED loads from an installed package.
import path from 'node:path';
import helper, { type TestNodeInitializer } from 'node-red-node-test-helper';

const SRC = path.resolve(__dirname, '..', '..', 'src', 'nodes');

/** The node module for a type, as Node-RED would require it. */
export function nodeModule(type: string): TestNodeInitializer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
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
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(nodes, 'core', file));
}

export { helper };
