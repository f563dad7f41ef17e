// One MQTT.js connection through the App Connection's MQTT proxy (docs/octoeverywhere.md §9.1), shared by the
// platform sessions and the raw printer MQTT client: MQTT 3.1.1 in binary WebSocket frames, clean
// session, the relay's auth header on the upgrade (never `oe_api_key` in a URL that could be logged),
// keepalive on our clock, no reconnect of MQTT.js's own (reconnecting is the supervisor's), and the
// ending mapped to our errors: the upgrade's 6xx, CONNACK codes, a keepalive timeout.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock, ClockTimer } from '../clock';
import type { AppConnection } from '../connection';
import { NetworkError, OctoEverywhereError } from '../errors';
import { loopbackAwareLookup } from '../urls';
import { statusOfUpgradeMessage, upgradeError } from './printer-socket';

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
export function connackError(code: number): OctoEverywhereError {
  if (code === 3) {
    return new OctoEverywhereError('OE_MQTT_PRINTER_UNAVAILABLE', "The MQTT proxy has no link to the printer's broker right now (CONNACK 3); retrying.", {
      kind: 'temporary',
      behaviour: 'offline',
    });
  }
  return new OctoEverywhereError('OE_MQTT_REFUSED', `The MQTT proxy refused the session (CONNACK ${code}).`, { kind: 'permanent' });
}

/** The ending of a session that closed without saying why (the proxy closes every session when the printer link drops). */
export function proxyClosedError(): NetworkError {
  return new NetworkError('OE_SOCKET_CLOSED', 'The MQTT proxy closed the session (the printer link may have dropped); reconnecting.', { kind: 'temporary' });
}

export interface MqttProxyOptions {
  connection: AppConnection;
  clock: Clock;
  clientId: string;
  /** MQTT keepalive (s, ≥ 1); the proxy enforces 1.5 × it, MQTT.js ends the session after 1.5 × it without PINGRESP. */
  keepaliveSec: number;
}

/**
 * Opens the session. `closed` is called once when it ends — whether or not CONNACK came — with the
 * cause when one is known (the upgrade's 6xx, a CONNACK refusal, a keepalive timeout), else undefined.
 */
export function connectMqttProxy(options: MqttProxyOptions, closed: (cause: OctoEverywhereError | undefined) => void): MqttClient {
  const { connection } = options;
  const url = `${connection.baseUrl.replace(/^http/, 'ws')}${MQTT_PROXY_PATH}`;
  const client = mqtt.connect(url, {
    protocolVersion: 4,
    clean: true,
    clientId: options.clientId,
    keepalive: Math.max(1, Math.round(options.keepaliveSec)),
    reconnectPeriod: 0,
    connectTimeout: connection.timeoutMs,
    timerVariant: clockIntervalTimer(options.clock),
    wsOptions: { headers: connection.relayAuthHeaders(), lookup: loopbackAwareLookup, followRedirects: false },
  } as IClientOptions);
  // MQTT.js emits no 'error' for a refused upgrade, only 'close'; the status is on its stream's error.
  let streamError: OctoEverywhereError | undefined;
  client.stream.on('error', (err: Error) => {
    const status = statusOfUpgradeMessage(err.message);
    streamError = status !== undefined ? upgradeError(status, 'relay', 'The MQTT proxy socket', connection.appId) : undefined;
  });
  let failure: OctoEverywhereError | undefined;
  client.on('error', (err: Error & { code?: number | string }) => {
    if (typeof err.code === 'number') failure = connackError(err.code);
    else if (/keepalive/i.test(err.message))
      failure = new NetworkError('OE_SOCKET_STALLED', 'The MQTT proxy stopped answering keepalives; reconnecting.', { kind: 'temporary' });
  });
  client.once('close', () => {
    client.end(true);
    closed(streamError ?? failure);
  });
  return client;
}
