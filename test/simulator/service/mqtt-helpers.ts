// Reaching the simulator's MQTT proxy from outside: MQTT.js as real clients use it, and a raw
// WebSocket speaking mqtt-packet for the rules MQTT.js would not let a test break.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket, { type Packet } from 'mqtt-packet';
import WebSocket from 'ws';
import { type CompletionKeys, localhostLookup, MQTT_PROXY_PATH } from '../../../src/simulator/index';
import { bearer, tick } from './helpers';

export const proxyUrl = (conn: CompletionKeys, query = ''): string => `${conn.url.replace(/^http/, 'ws')}${MQTT_PROXY_PATH}${query}`;

export const authOf = (conn: CompletionKeys): Record<string, string> => ({ authorization: bearer(conn.authBearerToken) });

/** An MQTT.js client that never reconnects and runs no keepalive of its own unless asked. */
export function mqttConnect(url: string, headers: Record<string, string>, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    reconnectPeriod: 0,
    keepalive: 0,
    connectTimeout: 10_000,
    ...opts,
    wsOptions: { headers, lookup: localhostLookup },
  } as IClientOptions);
  // MQTT.js emits no 'error' for a refused upgrade (its stream error handler swallows all but socket
  // errors), only 'close'; the status is on the stream's error: "Unexpected server response: 601".
  let streamError: Error | undefined;
  client.stream.on('error', (err: Error) => {
    streamError = err;
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('close', () => {
      client.end(true);
      reject(streamError ?? new Error('closed before CONNACK'));
    });
  });
}

/** Resolves with the next message on `topic` (parsed JSON) for which `accept` holds. */
export function nextJson<T = Record<string, unknown>>(client: MqttClient, topic: string, accept: (m: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (t: string, payload: Buffer): void => {
      if (t !== topic) return;
      const message = JSON.parse(payload.toString()) as T;
      if (!accept(message)) return;
      client.off('message', onMessage);
      resolve(message);
    };
    client.on('message', onMessage);
  });
}

export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected && client.disconnected) resolve();
    else client.once('close', () => resolve());
  });
}

/** Waits (without a clock) until the condition holds, letting I/O run in between. */
export async function until(condition: () => boolean, what: string, rounds = 2000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (condition()) return;
    await tick();
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A raw WebSocket to the proxy that sends and reads MQTT packets one by one. */
export class RawMqtt {
  readonly packets: Packet[] = [];
  readonly closing: Promise<{ code: number; reason: string }>;
  pongs = 0;
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    this.parser.on('packet', (packet: Packet) => {
      this.packets.push(packet);
      this.wake();
    });
    ws.on('message', (data: Buffer) => this.parser.parse(data));
    ws.on('pong', () => this.pongs++);
    this.closing = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
  }

  static open(url: string, headers: Record<string, string>, protocols: string[] = ['mqtt']): Promise<RawMqtt> {
    const ws = new WebSocket(url, protocols, { headers, lookup: localhostLookup } as WebSocket.ClientOptions);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawMqtt(ws)));
      ws.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(packet: Packet): void {
    this.ws.send(mqttPacket.generate(packet));
  }

  sendBytes(bytes: Buffer, binary = true): void {
    this.ws.send(bytes, { binary });
  }

  connect(clientId: string, extra: Partial<mqttPacket.IConnectPacket> = {}): Promise<Packet> {
    this.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId, ...extra });
    return this.next('connack');
  }

  /** The next received packet of that type (consumed). */
  async next(cmd: Packet['cmd']): Promise<Packet> {
    for (;;) {
      const index = this.packets.findIndex((p) => p.cmd === cmd);
      if (index >= 0) return this.packets.splice(index, 1)[0];
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed before ${cmd}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** The HTTP status of a refused upgrade. */
export function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  const ws = new WebSocket(url, ['mqtt'], { headers, lookup: localhostLookup } as WebSocket.ClientOptions);
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('handshake unexpectedly accepted'));
    });
    ws.once('error', () => undefined);
  });
}
