// A session over the App Connection's MQTT proxy (docs/octoeverywhere.md §9.1) with MQTT.js: MQTT 3.1.1 in binary
// WebSocket frames, clean session, a client id of its own, the relay's auth header on the upgrade
// (never `oe_api_key` in a URL that could be logged). MQTT.js runs the keepalive on our clock, so a
// stalled path (no PINGRESP) ends the session within 1.5 keepalives; reconnecting is the supervisor's.
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock, ClockTimer } from '../clock';
import { NetworkError, OctoEverywhereError } from '../errors';
import { loopbackAwareLookup } from '../urls';
import { statusOfUpgradeMessage, upgradeError } from './printer-socket';
import type { LiveSession, SessionContext, SessionSink } from './session';

export const MQTT_PROXY_PATH = '/octoeverywhere-command-api/proxy/mqtt';

type MqttTimer = Exclude<NonNullable<IClientOptions['timerVariant']>, string>;

/** MQTT.js's interval timer on an injectable clock. */
export function clockIntervalTimer(clock: Clock): MqttTimer {
  const timers = new Map<number, ClockTimer>();
  let next = 1;
  const timer = {
    set(fn: () => void, ms: number): number {
      const id = next++;
      const arm = (): void => {
        timers.set(
          id,
          clock.setTimeout(() => {
            if (!timers.has(id)) return;
            arm();
            fn();
          }, ms),
        );
      };
      arm();
      return id;
    },
    clear(id: number): void {
      clock.clearTimer(timers.get(id));
      timers.delete(id);
    },
  };
  return timer;
}

/** CONNACK codes (MQTT 3.1.1) as our errors: 3 means the plugin has no link to the printer right now. */
function connackError(code: number): OctoEverywhereError {
  if (code === 3) {
    return new OctoEverywhereError('OE_MQTT_PRINTER_UNAVAILABLE', "The MQTT proxy has no link to the printer's broker right now (CONNACK 3); retrying.", {
      kind: 'temporary',
      behaviour: 'offline',
    });
  }
  return new OctoEverywhereError('OE_MQTT_REFUSED', `The MQTT proxy refused the session (CONNACK ${code}).`, { kind: 'permanent' });
}

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
    const { connection } = this.ctx;
    const url = `${connection.baseUrl.replace(/^http/, 'ws')}${MQTT_PROXY_PATH}`;
    const client = mqtt.connect(url, {
      protocolVersion: 4,
      clean: true,
      clientId: this.clientId,
      keepalive: Math.max(1, Math.round(this.ctx.heartbeatMs / 1000)),
      reconnectPeriod: 0,
      connectTimeout: connection.timeoutMs,
      timerVariant: clockIntervalTimer(this.ctx.clock),
      wsOptions: { headers: connection.relayAuthHeaders(), lookup: loopbackAwareLookup, followRedirects: false },
    } as IClientOptions);
    this.client = client;
    // MQTT.js emits no 'error' for a refused upgrade, only 'close'; the status is on its stream's error.
    let streamError: OctoEverywhereError | undefined;
    client.stream.on('error', (err: Error) => {
      const status = statusOfUpgradeMessage(err.message);
      streamError = status !== undefined ? upgradeError(status, 'relay', 'The MQTT proxy socket', connection.appId) : undefined;
    });
    return new Promise((resolve, reject) => {
      let connected = false;
      let failure: OctoEverywhereError | undefined;
      client.on('error', (err: Error & { code?: number | string }) => {
        if (typeof err.code === 'number') failure = connackError(err.code);
        else if (/keepalive/i.test(err.message))
          failure = new NetworkError('OE_SOCKET_STALLED', 'The MQTT proxy stopped answering keepalives; reconnecting.', { kind: 'temporary' });
      });
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
      client.once('close', () => {
        client.end(true);
        if (this.ended) return;
        this.ended = true;
        this.onEnded();
        const error =
          streamError ??
          failure ??
          this.endedError() ??
          new NetworkError('OE_SOCKET_CLOSED', 'The MQTT proxy closed the session (the printer link may have dropped); reconnecting.', { kind: 'temporary' });
        if (connected) sink.closed(error);
        else reject(error);
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
