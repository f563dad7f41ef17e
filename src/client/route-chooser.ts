// Which way a printer request goes: the printer's LAN URL while it answers, else the relay. A LAN URL
// that did not answer is left alone for a minute; one TCP probe at a time decides for every request
// waiting. On the connection's Clock, so a test can step over the minute instead of waiting it out.
import net from 'node:net';
import { type Clock, realClock } from './clock';
import { InvalidArgumentError } from './errors';
import { loopbackAwareLookup } from './urls';

export type Route = 'relay' | 'local';

/** How long the LAN URL is left alone after it failed to answer. */
export const LOCAL_RETRY_AFTER_MS = 60_000;
/** A LAN printer that takes longer than this to accept a TCP connection counts as down. */
export const LOCAL_CONNECT_TIMEOUT_MS = 1_500;

/** Whether something accepts TCP connections at a base URL. */
export type LocalProbe = (baseUrl: string) => Promise<boolean>;

export class RouteChooser {
  readonly localUrl?: string;
  readonly #clock: Clock;
  readonly #probe: LocalProbe;
  #downUntil = 0;
  #probing?: Promise<boolean>;

  constructor(localUrl: string | undefined, clock: Clock = realClock, probe?: LocalProbe) {
    this.localUrl = localUrl;
    this.#clock = clock;
    this.#probe = probe ?? ((url) => probeTcp(url, clock));
  }

  /** The route when it is known without probing (no LAN URL, an explicit one, the LAN URL resting); else undefined. */
  known(via: 'auto' | Route): Route | undefined {
    if (via === 'relay') return via;
    if (via === 'auto' && (!this.localUrl || this.#clock.now() < this.#downUntil)) return 'relay';
    return undefined;
  }

  /** The route for a request asking for `via`; `auto` probes the LAN URL unless it failed lately. */
  async choose(via: 'auto' | Route): Promise<Route> {
    if (via !== 'auto') {
      if (via === 'local' && !this.localUrl) throw new InvalidArgumentError('No local URL is configured for this printer.');
      return via;
    }
    if (!this.localUrl || this.#clock.now() < this.#downUntil) return 'relay';
    // The probe's answer holds until a request fails.
    this.#probing ??= this.#probe(this.localUrl).finally(() => {
      this.#probing = undefined;
    });
    const up = await this.#probing;
    if (!up) this.localFailed();
    return up ? 'local' : 'relay';
  }

  /** The LAN URL did not answer a request: the relay for the next minute. */
  localFailed(): void {
    this.#downUntil = this.#clock.now() + LOCAL_RETRY_AFTER_MS;
  }
}

/** Whether something accepts TCP connections at the URL's host and port within `timeoutMs` on `clock`. */
export function probeTcp(baseUrl: string, clock: Clock = realClock, timeoutMs = LOCAL_CONNECT_TIMEOUT_MS): Promise<boolean> {
  const url = new URL(baseUrl);
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port, lookup: loopbackAwareLookup });
    const finish = (up: boolean): void => {
      clock.clearTimer(timer);
      socket.destroy();
      resolve(up);
    };
    const timer = clock.setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
