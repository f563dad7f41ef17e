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

export { helper };
