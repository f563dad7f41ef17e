// Loading our compiled nodes into the real Node-RED runtime through node-red-node-test-helper.
import path from 'node:path';
import helper from 'node-red-node-test-helper';

const DIST = path.resolve(__dirname, '..', '..', 'dist', 'nodes');

/** The compiled node module for a type, as Node-RED loads it from the installed package. */
export function nodeModule(type: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(DIST, `${type}.js`));
}

export { helper };
