// What the printer-mqtt node does with messages, free of Node-RED wiring: the node's `topics`
// property as a list of filters, msg.payload as the bytes to publish (as core's mqtt out does it),
// a received payload in the node's output format (as core's mqtt in `auto-detect` does it).
import { InvalidArgumentError, type MqttQos } from '../../client';
import { filterProblem, topicProblem } from '../../client/live/printer-mqtt';
import { jsonText } from '../../client/body-codec';
import type { Translate } from './settings';

/** How a received payload is given out: parsed JSON / text / Buffer as it looks (default), text, JSON, or the bytes. */
export type MqttDatatype = 'auto-detect' | 'utf8' | 'json' | 'buffer';

export const DATATYPES: readonly MqttDatatype[] = ['auto-detect', 'utf8', 'json', 'buffer'];

/** The `topics` property (a string of one filter per line, or a list) as distinct trimmed filters. */
export function topicsOf(value: unknown): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/\r?\n/) : [];
  const filters = items.filter((t): t is string => typeof t === 'string').map((t) => t.trim());
  return [...new Set(filters.filter((t) => t !== ''))];
}

/** msg.payload as MQTT bytes: Buffer as is, string as UTF-8, object as JSON text (undefined when JSON cannot hold it), a number or boolean as its text, else empty. */
export function encodePayload(payload: unknown): Buffer | string | undefined {
  if (Buffer.isBuffer(payload) || typeof payload === 'string') return payload;
  if (typeof payload === 'number' || typeof payload === 'boolean' || typeof payload === 'bigint') return String(payload);
  if (typeof payload === 'object' && payload !== null) return jsonText(payload);
  return '';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A received payload in the node's format; `json` on bytes that are not JSON throws OE_MQTT_INVALID_JSON. */
export function decodePayload(bytes: Buffer, datatype: MqttDatatype, t: Translate): unknown {
  if (datatype === 'buffer') return bytes;
  if (datatype === 'utf8') return bytes.toString('utf8');
  const text = utf8(bytes);
  if (datatype === 'json') {
    try {
      if (text === undefined) throw new Error('not UTF-8');
      return JSON.parse(text) as unknown;
    } catch {
      throw new InvalidArgumentError(t('errors.invalid-json'), 'OE_MQTT_INVALID_JSON');
    }
  }
  if (text === undefined) return bytes;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export interface Publish {
  topic: string;
  payload: Buffer | string;
  qos: MqttQos;
  retain: boolean;
}

/** What an input message asks to publish; a topic that cannot be published to throws a coded error. */
export function publishOf(
  msg: { topic?: unknown; payload?: unknown; qos?: unknown; retain?: unknown },
  defaults: { qos: MqttQos; retain: boolean },
  t: Translate,
): Publish {
  const topic = msg.topic;
  if (typeof topic !== 'string' || topic.trim() === '') throw new InvalidArgumentError(t('errors.no-topic'), 'OE_MQTT_NO_TOPIC');
  const problem = topicProblem(topic);
  if (problem) throw new InvalidArgumentError(t(problem === 'wildcard' ? 'errors.wildcard-topic' : 'errors.invalid-topic', { topic }), 'OE_MQTT_INVALID_TOPIC');
  let qos = defaults.qos;
  if (msg.qos !== undefined) {
    const n = Number(msg.qos);
    if (n !== 0 && n !== 1) throw new InvalidArgumentError(t('errors.invalid-qos'), 'OE_MQTT_INVALID_QOS');
    qos = n;
  }
  let retain = defaults.retain;
  if (msg.retain !== undefined) {
    if (typeof msg.retain !== 'boolean') throw new InvalidArgumentError(t('errors.invalid-retain'), 'OE_MQTT_INVALID_RETAIN');
    retain = msg.retain;
  }
  const payload = encodePayload(msg.payload);
  if (payload === undefined) {
    // An object JSON cannot hold: a cycle or a BigInt inside it.
    throw new InvalidArgumentError(t('errors.invalid-payload'), 'OE_MQTT_INVALID_PAYLOAD');
  }
  return { topic, payload, qos, retain };
}

export type Action = { action: 'subscribe'; topics: string[] } | { action: 'unsubscribe'; topics?: string[] };

/**
 * msg.action `subscribe` / `unsubscribe` with msg.topic a filter or a list of them (`unsubscribe` with
 * msg.topic `true`: all), as core's mqtt in takes them.
 */
export function actionOf(action: unknown, topic: unknown, t: Translate): Action {
  if (action !== 'subscribe' && action !== 'unsubscribe') throw new InvalidArgumentError(t('errors.invalid-action'), 'OE_MQTT_INVALID_ACTION');
  if (action === 'unsubscribe' && topic === true) return { action };
  const topics = typeof topic === 'string' || Array.isArray(topic) ? topicsOf(typeof topic === 'string' ? [topic] : topic) : [];
  if (topics.length === 0) throw new InvalidArgumentError(t('errors.no-filter'), 'OE_MQTT_NO_TOPIC');
  for (const filter of topics) {
    if (filterProblem(filter)) throw new InvalidArgumentError(t('errors.invalid-filter', { topic: filter }), 'OE_MQTT_INVALID_TOPIC');
  }
  return { action, topics };
}
