// Node-RED's own `mqtt-broker` config node (core 10-mqtt.js) as the Home Assistant node's MQTT
// connection: the methods its mqtt in/out nodes use — register/deregister, subscribe/unsubscribe,
// publish — which are the same in Node-RED 4.1 and 5. The broker tells its users about its connection
// only through their status() (green dot connected, yellow ring connecting, red ring disconnected), so
// the node registers a stand-in user whose status() is that signal and keeps its own node status.
import type { BrokerPresence } from './discovery';

interface LwtMessage {
  topic?: string;
  payload?: unknown;
}

/** The parts of the core broker node this package relies on (checked at deploy). */
export interface CoreBrokerNode {
  readonly type: string;
  connected: boolean;
  birthMessage?: LwtMessage;
  options?: { will?: LwtMessage };
  register(user: { id: string; status(s: { fill?: string }): void }): void;
  deregister(user: { id: string }, done: () => void, autoDisconnect?: boolean): void;
  subscribe(topic: string, options: { qos: number }, callback: (topic: string, payload: Buffer) => void, ref: string): void;
  unsubscribe(topic: string, ref: string, removeClientSubscription?: boolean): void;
  publish(msg: { topic: string; payload: string | Buffer; qos: number; retain: boolean }, done?: (err?: Error) => void): void;
}

export function isCoreBroker(node: unknown): node is CoreBrokerNode {
  const b = node as Partial<CoreBrokerNode> | null;
  return (
    typeof b === 'object' &&
    b !== null &&
    b.type === 'mqtt-broker' &&
    typeof b.register === 'function' &&
    typeof b.deregister === 'function' &&
    typeof b.subscribe === 'function' &&
    typeof b.unsubscribe === 'function' &&
    typeof b.publish === 'function'
  );
}

/** What the bridge needs of an MQTT connection. */
export interface MqttPort {
  readonly connected: boolean;
  /** Resolves once sent (QoS 1: acknowledged); false at once when not connected (nothing is queued). */
  publish(topic: string, payload: string | Buffer, retain: boolean): Promise<boolean>;
  subscribe(topic: string, handler: (topic: string, payload: Buffer) => void): void;
  /** The broker's birth/will pair on one topic, when the user set them: Home Assistant's view of the connection. */
  presence(): BrokerPresence | undefined;
  close(removed: boolean): Promise<void>;
}

export type ConnectionSignal = 'connected' | 'connecting' | 'disconnected';

/** The core broker node as an MqttPort for user `id`; `signal` hears its connection changes. */
export function corePort(broker: CoreBrokerNode, id: string, signal: (state: ConnectionSignal) => void): MqttPort {
  const topics = new Set<string>();
  const user = {
    id,
    status(s: { fill?: string }): void {
      signal(s.fill === 'green' ? 'connected' : s.fill === 'yellow' ? 'connecting' : 'disconnected');
    },
  };
  broker.register(user);
  return {
    get connected() {
      return broker.connected;
    },
    publish(topic, payload, retain) {
      // The core broker drops a publish while disconnected without calling back.
      if (!broker.connected) return Promise.resolve(false);
      return new Promise((resolve) => broker.publish({ topic, payload, qos: 1, retain }, (err) => resolve(!err)));
    },
    subscribe(topic, handler) {
      topics.add(topic);
      broker.subscribe(topic, { qos: 1 }, handler, id);
    },
    presence() {
      const will = broker.options?.will;
      if (!will?.topic) return undefined;
      const birth = broker.birthMessage;
      return { topic: will.topic, offline: text(will.payload), online: birth?.topic === will.topic ? text(birth.payload) : 'online' };
    },
    close(removed) {
      for (const topic of topics) broker.unsubscribe(topic, id, true);
      topics.clear();
      // As the core mqtt nodes do: a removed last user lets the broker disconnect.
      return new Promise((resolve) => broker.deregister(user, resolve, removed));
    },
  };
}

function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'string' ? value : JSON.stringify(value ?? '');
}
