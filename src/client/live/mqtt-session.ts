// A platform session over the App Connection's MQTT proxy (docs/octoeverywhere.md §9.1): the connection
// itself is mqtt-proxy-link.ts's (MQTT 3.1.1, clean session, auth header on the upgrade, keepalive on
// our clock, so a stalled path ends the session within 1.5 keepalives); reconnecting is the supervisor's.
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { OctoEverywhereError } from '../errors';
import { connectMqttProxy, proxyClosedError } from './mqtt-proxy-link';
import type { LiveSession, SessionContext, SessionSink } from './session';

export abstract class MqttSession implements LiveSession {
  protected client: MqttClient | undefined;
  protected sink: SessionSink | undefined;
  protected readonly clientId: string;
  private ended = false;

  constructor(
    protected readonly ctx: SessionContext,
    protected readonly serialNumber: string,
  ) {
    this.clientId = `${ctx.clientName}-${randomBytes(6).toString('hex')}`;
  }

  open(sink: SessionSink): Promise<{ via: 'relay' | 'local' }> {
    this.sink = sink;
    return new Promise((resolve, reject) => {
      let connected = false;
      const options = { connection: this.ctx.connection, clock: this.ctx.clock, clientId: this.clientId, keepaliveSec: this.ctx.heartbeatMs / 1000 };
      const client = connectMqttProxy(options, (cause) => {
        if (this.ended) return;
        this.ended = true;
        this.onEnded();
        const error = cause ?? this.endedError() ?? proxyClosedError();
        if (connected) sink.closed(error);
        else reject(error);
      });
      this.client = client;
      client.on('message', (topic: string, payload: Buffer) => {
        sink.alive();
        if (this.ended) return;
        let message: unknown;
        try {
          message = JSON.parse(payload.toString('utf8'));
        } catch {
          return;
        }
        this.onMessage(topic, message);
      });
      client.on('packetreceive', () => sink.alive());
      client.once('connect', () => {
        connected = true;
        resolve({ via: 'relay' });
        this.onConnect();
      });
    });
  }

  heartbeat(): boolean {
    if (!this.ended) this.keepalive();
    return true;
  }

  close(how: 'clean' | 'dead' = 'clean'): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnded();
    // Clean: DISCONNECT first (no will is published), then the socket goes.
    this.client?.end(how === 'dead');
  }

  protected publish(topic: string, message: unknown): void {
    if (!this.ended) this.client?.publish(topic, JSON.stringify(message), { qos: 0 });
  }

  /** Subscribes; a refused filter (SUBACK 0x80: a wrong serial number) ends the session with a clear error. */
  protected subscribe(topics: string[], then: () => void): void {
    this.client?.subscribe(topics, { qos: 0 }, (err, granted) => {
      if (this.ended) return;
      if (err || (granted ?? []).some((g) => g.qos === 128)) {
        this.fail(
          new OctoEverywhereError(
            'OE_MQTT_SUBSCRIBE_REFUSED',
            `The printer refused the subscription to ${topics.join(', ')}; check the printer's serial number.`,
            { kind: 'permanent' },
          ),
        );
        return;
      }
      then();
    });
  }

  /** Ends the session on our side with `error` (the supervisor decides what follows). */
  protected fail(error: OctoEverywhereError): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnded();
    this.client?.end(true);
    this.sink?.closed(error);
  }

  /** Why a session that ended on its own ended, when the platform can tell better than "closed". */
  protected endedError(): OctoEverywhereError | undefined {
    return undefined;
  }

  protected abstract onConnect(): void;
  protected abstract onMessage(topic: string, message: unknown): void;
  protected keepalive(): void {}
  protected onEnded(): void {}
}

/** Deep merge of a partial report (objects merge, arrays and values replace). */
export function deepMerge(into: Record<string, unknown>, update: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(update)) {
    const existing = into[key];
    if (isPlain(value) && isPlain(existing)) deepMerge(existing, value);
    else into[key] = isPlain(value) ? deepMerge({}, value) : value;
  }
  return into;
}

function isPlain(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
