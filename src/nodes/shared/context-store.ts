// Records that must survive a Node-RED restart (the webhook's registration, the Gadget API's call
// count, the status node's derivation memory) go to a persistent context store when one is
// configured, and nowhere otherwise.
import { isObject } from '../../client/values';
import { stringSetting } from './settings';
import type { Node, NodeAPI } from './types';

/**
 * The context store our records go to: the one settings.js `octoeverywhereContextStore` names (a
 * store of `contextStorage`, e.g. the one shared by several instances), else `default` when it is
 * persistent, else the first persistent one configured; undefined when every store is in memory.
 */
export function persistentStore(RED: NodeAPI): string | undefined {
  const stores: unknown = (RED.settings as unknown as Record<string, unknown>).contextStorage;
  if (!isObject(stores)) return undefined;
  const chosen = stringSetting(RED, 'octoeverywhereContextStore');
  // A named store is the user's choice even when we cannot tell it persists (a plugin module).
  if (chosen !== undefined) return chosen in stores ? chosen : undefined;
  const persistent = (name: string, hops = 0): boolean => {
    const entry = stores[name];
    if (typeof entry === 'string') return hops < 3 && persistent(entry, hops + 1);
    return isObject(entry) && entry.module !== undefined && entry.module !== 'memory';
  };
  if (persistent('default')) return 'default';
  return Object.keys(stores).find((name) => name !== 'default' && persistent(name));
}

export interface RecordStore<T> {
  load(): Promise<T | undefined>;
  save(record: T): Promise<void>;
}

/**
 * `key` in the persistent store, or undefined without one. A record that fails `valid` loads as
 * absent. Scope `node`: this node's own context (deleted with the node); `global`: shared by every
 * node of the runtime, and of every instance that uses the same shared store.
 */
export function persistentRecord<T>(
  RED: NodeAPI,
  node: Node,
  key: string,
  valid: (value: unknown) => value is T,
  scope: 'node' | 'global' = 'node',
): RecordStore<T> | undefined {
  const store = persistentStore(RED);
  if (!store) return undefined;
  const context = scope === 'global' ? node.context().global : node.context();
  return {
    load: () =>
      new Promise((resolve) => {
        context.get(key, store, (err: Error | undefined, value: unknown) => {
          resolve(!err && valid(value) ? value : undefined);
        });
      }),
    save: (record) =>
      new Promise((resolve, reject) => {
        context.set(key, record, store, (err?: Error) => (err ? reject(err) : resolve()));
      }),
  };
}
