// Records that must survive a Node-RED restart (the webhook's registration, the Gadget API's call
// count) go to a persistent context store when one is configured, and nowhere otherwise.
import { isObject } from '../../client/values';
import type { Node, NodeAPI } from './types';

/**
 * The context store that survives a restart: `default` when it is persistent, else the first
 * persistent one configured; undefined when every store is in memory.
 */
export function persistentStore(RED: NodeAPI): string | undefined {
  const stores: unknown = (RED.settings as unknown as Record<string, unknown>).contextStorage;
  if (!isObject(stores)) return undefined;
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

/** `key` in the node's own context of the persistent store, or undefined without one. A record that fails `valid` loads as absent. */
export function persistentRecord<T>(RED: NodeAPI, node: Node, key: string, valid: (value: unknown) => value is T): RecordStore<T> | undefined {
  const store = persistentStore(RED);
  if (!store) return undefined;
  const context = node.context();
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
