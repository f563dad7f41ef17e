// Raw MQTT through the App Connection's MQTT proxy (Bambu Lab, Elegoo CC2; docs/octoeverywhere.md §9.1):
// a supervised session that subscribes to the filters it was given and publishes what it is asked.
// The proxy closes every session when the printer's link drops (and answers CONNACK 3 until it is
// back), so the session reconnects with the shared jittered back-off and subscribes again; it stops
// with one error on the codes that need the user (603/604/606) and on a Bambu serial-number hazard.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { type Clock, type ClockTimer, realClock } from '../clock';
import type { AppConnection } from '../connection';
import { InvalidArgumentError, OctoEverywhereError } from '../errors';
import { type BackoffOptions, reconnectDelayMs } from './backoff';
import { connectMqttProxy, proxyClosedError } from './mqtt-proxy-link';

/** QoS the proxy grants (it answers a QoS 2 request with 1). */
export type MqttQos = 0 | 1;

/** Keepalive of the session (the proxy enforces 1.5 × it); the same period as the live sockets' heartbeat. */
export const PRINTER_MQTT_KEEPALIVE_MS = 15_000;
/** Publishes that wait for the session while it (re)connects; more are refused at once. */
export const PRINTER_MQTT_QUEUE_LIMIT = 16;
/** How long a waiting publish may wait: a printer command must not go out minutes after it was meant. */
export const PRINTER_MQTT_QUEUE_TIMEOUT_MS = 30_000;
/** How long a clean close waits for the proxy before the socket is cut (real ms). */
const CLOSE_WAIT_MS = 2_000;

export interface PrinterMqttMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
}

export type PrinterMqttState =
  | { status: 'connecting'; attempt: number; retryInMs?: number; error?: OctoEverywhereError }
  | { status: 'connected' }
  | { status: 'stopped'; error?: OctoEverywhereError };

export interface PrinterMqttOptions {
  connection: AppConnection;
  /** Subscription filters (checked with filterProblem); may be empty for a publish-only client. */
  topics?: readonly string[];
  /** QoS asked for every subscription. Default 0. */
  qos?: MqttQos;
  /** Timers of the keepalive, back-off and waiting publishes; default the real clock. */
  clock?: Clock;
  /** How the session names itself (its client id is `<clientName>-<random>`, kept across reconnects). */
  clientName?: string;
  keepaliveMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
}

export interface PrinterMqttEvents {
  state: [PrinterMqttState];
  message: [PrinterMqttMessage];
  /** A filter the proxy answered with SUBACK 0x80: it is not subscribed again until the next start. */
  refused: [OctoEverywhereError & { topic?: string }];
}

export interface PublishOptions {
  qos?: MqttQos;
  retain?: boolean;
}

/** Why a subscription filter is not valid MQTT 3.1.1 (§4.7), else undefined. */
export function filterProblem(filter: string): 'empty' | 'nul' | 'wildcard' | undefined {
  if (filter.length === 0) return 'empty';
  if (filter.includes('\u0000')) return 'nul';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return 'wildcard';
    if (level.includes('+') && level !== '+') return 'wildcard';
  }
  return undefined;
}

/** Why a topic cannot be published to (empty, a wildcard, NUL), else undefined. */
export function topicProblem(topic: string): 'empty' | 'nul' | 'wildcard' | undefined {
  if (topic.length === 0) return 'empty';
  if (topic.includes('\u0000')) return 'nul';
  return /[+#]/.test(topic) ? 'wildcard' : undefined;
}

/** The error of a filter the proxy refused (SUBACK 0x80); the topic rides along for the node's message. */
export function subscribeRefused(topic: string, why: string): OctoEverywhereError & { topic: string } {
  const error = new OctoEverywhereError(
    'OE_MQTT_SUBSCRIBE_REFUSED',
    `${why} For a Bambu Lab printer check the serial number in the topic: the printer drops its connection (every client's) on a subscription naming another serial number.`,
    { kind: 'permanent' },
  );
  return Object.assign(error, { topic });
}

/** A printer without a broker behind the proxy (Klipper, OctoPrint): its upgrade is answered 754 (the simulator's answer; production's is unverified). */
function noBroker(cause: OctoEverywhereError | undefined): OctoEverywhereError | undefined {
  if (cause?.status !== 754) return undefined;
  return new OctoEverywhereError(
    'OE_MQTT_NO_BROKER',
    "This printer has no MQTT broker behind OctoEverywhere's MQTT proxy: only Bambu Lab and Elegoo Centauri Carbon 2 printers have one.",
    { kind: 'permanent', status: 754 },
  );
}

interface Waiting {
  topic: string;
  payload: Buffer | string;
  options: PublishOptions;
  resolve: () => void;
  reject: (err: OctoEverywhereError) => void;
  timer: ClockTimer;
}

export class PrinterMqttClient extends EventEmitter<PrinterMqttEvents> {
  private readonly clock: Clock;
  private readonly clientId: string;
  private readonly filters: Set<string>;
  private readonly qos: MqttQos;
  private client: MqttClient | undefined;
  private connected = false;
  private running = false;
  private failures = 0;
  /** Sessions in a row that ended while their SUBSCRIBE was unanswered (the Bambu wrong-serial drop). */
  private dropsWhileSubscribing = 0;
  private retryTimer: ClockTimer | undefined;
  private readonly waiting: Waiting[] = [];
  /** SUBSCRIBEs of the current session not yet answered. */
  private subscribesInFlight = 0;
  /** Publishes handed to MQTT.js and not yet done (a QoS 1 one waits for its PUBACK). */
  private readonly inFlight = new Set<() => void>();
  private current: PrinterMqttState = { status: 'stopped' };

  constructor(private readonly options: PrinterMqttOptions) {
    super();
    this.clock = options.clock ?? realClock;
    this.qos = options.qos === 1 ? 1 : 0;
    const topics = options.topics ?? [];
    for (const topic of topics) {
      const problem = filterProblem(topic);
      if (problem) throw new InvalidArgumentError(`The subscription topic "${topic}" is not a valid MQTT filter (${problem}).`, 'OE_MQTT_INVALID_TOPIC');
    }
    this.filters = new Set(topics);
    // One id for the client's life: a reconnect's CONNECT takes over a half-dead older session at the proxy.
    this.clientId = `${options.clientName ?? 'node-red-octoeverywhere'}-${randomBytes(6).toString('hex')}`;
  }

  get state(): PrinterMqttState {
    return this.current;
  }

  /** The filters subscribed on each (re)connect: the given ones minus any the proxy refused. */
  get subscriptions(): string[] {
    return [...this.filters];
  }

  /** Timers held now (retry, waiting publishes): lets tests check nothing is left behind. */
  get pendingTimers(): number {
    return (this.retryTimer ? 1 : 0) + this.waiting.length;
  }

  /** Publishes waiting for the session. */
  get queued(): number {
    return this.waiting.length;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.dropsWhileSubscribing = 0;
    this.connect();
  }

  /**
   * Ends the session cleanly (DISCONNECT, so no will is published) and releases every timer; waiting
   * publishes fail with OE_CLOSED. Resolves once the socket is closed (at most CLOSE_WAIT_MS).
   */
  stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
    this.rejectWaiting(new OctoEverywhereError('OE_CLOSED', 'The MQTT session was closed before the message could be published.', { kind: 'permanent' }));
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    this.failInFlight();
    if (this.current.status !== 'stopped') this.setState({ status: 'stopped' });
    if (!client) return Promise.resolve();
    return new Promise((resolve) => {
      // A stalled proxy never acks an in-flight publish nor answers the close: cut the socket after a
      // short wait (a second end() would not, as MQTT.js ignores it while disconnecting).
      const cut = setTimeout(() => {
        client.stream.destroy();
        resolve();
      }, CLOSE_WAIT_MS);
      client.end(false, {}, () => {
        clearTimeout(cut);
        resolve();
      });
    });
  }

  /**
   * Publishes `payload` to `topic`. While the session (re)connects the publish waits (at most
   * PRINTER_MQTT_QUEUE_LIMIT of them, each PRINTER_MQTT_QUEUE_TIMEOUT_MS) and goes out once the
   * subscriptions are in place, so the answer to a request is not missed. Rejects when stopped.
   */
  publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): Promise<void> {
    const problem = topicProblem(topic);
    if (problem)
      return Promise.reject(new InvalidArgumentError(`Cannot publish to "${topic}": not a valid MQTT topic name (${problem}).`, 'OE_MQTT_INVALID_TOPIC'));
    if (this.connected && this.client) return this.send(this.client, topic, payload, options);
    if (!this.running) return Promise.reject(this.notConnected());
    if (this.waiting.length >= PRINTER_MQTT_QUEUE_LIMIT) {
      return Promise.reject(
        new OctoEverywhereError(
          'OE_MQTT_QUEUE_FULL',
          `Not connected to the printer's MQTT proxy, and ${PRINTER_MQTT_QUEUE_LIMIT} messages already wait; this one is dropped.`,
          {
            kind: 'temporary',
          },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const entry: Waiting = {
        topic,
        payload,
        options,
        resolve,
        reject,
        timer: this.clock.setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(entry), 1);
          reject(this.notConnected());
        }, PRINTER_MQTT_QUEUE_TIMEOUT_MS),
      };
      this.waiting.push(entry);
    });
  }

  /**
   * Adds filters (kept for every reconnect). Connected: resolves on the SUBACK, and rejects with
   * OE_MQTT_SUBSCRIBE_REFUSED when the proxy refuses one (which is then dropped); else they are
   * subscribed on connecting. Rejects when stopped.
   */
  subscribe(topics: readonly string[]): Promise<void> {
    for (const topic of topics) {
      const problem = filterProblem(topic);
      if (problem)
        return Promise.reject(new InvalidArgumentError(`The subscription topic "${topic}" is not a valid MQTT filter (${problem}).`, 'OE_MQTT_INVALID_TOPIC'));
    }
    if (!this.running) return Promise.reject(this.notConnected());
    const added = [...new Set(topics)].filter((t) => !this.filters.has(t));
    for (const topic of added) this.filters.add(topic);
    const client = this.client;
    if (added.length === 0 || !this.connected || !client) return Promise.resolve();
    this.subscribesInFlight++;
    return new Promise((resolve, reject) => {
      client.subscribe(added, { qos: this.qos }, (err, _granted, suback) => {
        const codes = (suback ?? (err as { packet?: { granted?: unknown } } | null)?.packet)?.granted;
        // No SUBACK: the session ended; the filters are subscribed on the next one.
        if (this.client !== client || !Array.isArray(codes)) {
          resolve();
          return;
        }
        this.subscribesInFlight--;
        this.dropsWhileSubscribing = 0;
        const refused = added.filter((_t, i) => codes[i] === 0x80);
        for (const topic of refused) this.filters.delete(topic);
        if (refused.length === 0) resolve();
        else reject(subscribeRefused(refused.join(', '), `The MQTT proxy refused the subscription to "${refused.join(', ')}" (SUBACK 0x80).`));
      });
    });
  }

  /** Removes filters (all of them without `topics`); connected, resolves on the UNSUBACK. */
  unsubscribe(topics?: readonly string[]): Promise<void> {
    const removed = (topics ?? [...this.filters]).filter((t) => this.filters.delete(t));
    const client = this.client;
    if (removed.length === 0 || !this.connected || !client) return Promise.resolve();
    return new Promise((resolve) => client.unsubscribe(removed, () => resolve()));
  }

  private notConnected(): OctoEverywhereError {
    const state = this.current;
    const why = state.status !== 'connected' && state.error ? ` (${state.error.code})` : '';
    return new OctoEverywhereError('OE_MQTT_NOT_CONNECTED', `Not connected to the printer's MQTT proxy${why}; the message was not published.`, {
      kind: 'temporary',
    });
  }

  private send(client: MqttClient, topic: string, payload: Buffer | string, options: PublishOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (): void => {
        this.inFlight.delete(fail);
        reject(new OctoEverywhereError('OE_MQTT_PUBLISH_FAILED', 'The MQTT session ended before the publish was acknowledged.', { kind: 'temporary' }));
      };
      // MQTT.js keeps a QoS 1 publish's callback when the socket dies under it: the session's end settles it.
      this.inFlight.add(fail);
      client.publish(topic, payload, { qos: options.qos === 1 ? 1 : 0, retain: options.retain === true }, (err) => {
        if (!this.inFlight.has(fail)) return;
        if (err) fail();
        else {
          this.inFlight.delete(fail);
          resolve();
        }
      });
    });
  }

  private failInFlight(): void {
    for (const fail of [...this.inFlight]) fail();
  }

  private connect(): void {
    if (!this.running) return;
    this.setState({ status: 'connecting', attempt: this.failures + 1 });
    this.subscribesInFlight = 0;
    const client = connectMqttProxy(
      {
        connection: this.options.connection,
        clock: this.clock,
        clientId: this.clientId,
        keepaliveSec: (this.options.keepaliveMs ?? PRINTER_MQTT_KEEPALIVE_MS) / 1000,
      },
      (cause) => {
        if (this.client !== client) return; // our own stop
        this.client = undefined;
        this.connected = false;
        this.failInFlight();
        this.failed(noBroker(cause) ?? cause ?? (this.subscribesInFlight > 0 ? this.droppedWhileSubscribing() : undefined) ?? proxyClosedError());
      },
    );
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      if (this.client === client) this.emit('message', { topic, payload, qos: packet.qos, retain: packet.retain });
    });
    client.once('connect', () => {
      if (this.client !== client) return;
      const filters = [...this.filters];
      if (filters.length === 0) {
        this.ready(client);
        return;
      }
      this.subscribesInFlight++;
      client.subscribe(filters, { qos: this.qos }, (err, _granted, suback) => {
        if (this.client !== client) return;
        const codes = (suback ?? (err as { packet?: { granted?: unknown } } | null)?.packet)?.granted;
        // No SUBACK: the session is ending, and its close says why.
        if (!Array.isArray(codes)) return;
        this.subscribesInFlight--;
        this.dropsWhileSubscribing = 0;
        filters.forEach((filter, i) => {
          if (codes[i] !== 0x80) return;
          this.filters.delete(filter);
          this.emit('refused', subscribeRefused(filter, `The MQTT proxy refused the subscription to "${filter}" (SUBACK 0x80).`));
        });
        this.ready(client);
      });
    });
  }

  private ready(client: MqttClient): void {
    this.connected = true;
    // A session that got this far is healthy: the next drop starts the back-off afresh.
    this.failures = 0;
    this.setState({ status: 'connected' });
    for (const entry of this.waiting.splice(0)) {
      this.clock.clearTimer(entry.timer);
      this.send(client, entry.topic, entry.payload, entry.options).then(entry.resolve, entry.reject);
    }
  }

  /**
   * A Bambu printer drops its MQTT connection on a SUBSCRIBE naming another serial number, and through
   * the proxy's shared upstream that ends every client's session (docs/octoeverywhere.md §9.1). A session
   * that ends with its SUBSCRIBE unanswered twice in a row (once may be a network drop) is taken for
   * that: one error and no retry, which would knock every other client of the printer off again and again.
   */
  private droppedWhileSubscribing(): OctoEverywhereError | undefined {
    this.dropsWhileSubscribing++;
    if (this.dropsWhileSubscribing < 2) return undefined;
    const topics = [...this.filters].join(', ');
    return subscribeRefused(topics, `The MQTT proxy ended the session twice while subscribing to "${topics}".`);
  }

  private failed(error: OctoEverywhereError): void {
    if (!this.running) return;
    if (error.behaviour === 'reconnect' || error.kind === 'permanent') {
      // One error and no more attempts: the user must act (reconnect through the portal, fix a topic).
      this.running = false;
      this.setState({ status: 'stopped', error });
      this.rejectWaiting(this.notConnected());
      return;
    }
    const retryInMs = reconnectDelayMs(this.failures, this.options.random, this.options.backoff);
    this.failures++;
    this.setState({ status: 'connecting', attempt: this.failures + 1, retryInMs, error });
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, retryInMs);
  }

  private rejectWaiting(error: OctoEverywhereError): void {
    for (const entry of this.waiting.splice(0)) {
      this.clock.clearTimer(entry.timer);
      entry.reject(error);
    }
  }

  private setState(state: PrinterMqttState): void {
    this.current = state;
    this.emit('state', state);
  }
}
