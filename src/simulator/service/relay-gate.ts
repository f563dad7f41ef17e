// Who may pass the relay, decided the same way for HTTP requests and WebSocket handshakes (docs/octoeverywhere.md §3, §8).
import type { SimClock, SimPrinter, SimTimer } from '../contract';
import { type Account, type Connection, authorizationMatches, oeApiKeyMatches } from './account';

/** How long the relay waits for a plugin that does not answer before giving up with 602 (simulated ms). */
export const PLUGIN_TIMEOUT_MS = 30_000;

/** The only path where credentials may come as the `oe_api_key` query parameter. */
export const MQTT_PROXY_PATH = '/octoeverywhere-command-api/proxy/mqtt';

/** The relay host label of a Host header (`app-….localhost:port` → `app-…`), or undefined for the service host. */
export function relayHostLabel(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const dot = host.indexOf('.');
  if (dot < 0) return undefined;
  const first = host.charCodeAt(0) | 0x20;
  // 'a' (app-) or 's' (shared-): cheap pre-check before lower-casing the label.
  if (first !== 0x61 && first !== 0x73) return undefined;
  const label = host.slice(0, dot).toLowerCase();
  return label.startsWith('app-') || label.startsWith('shared-') ? label : undefined;
}

export function isMqttProxyPath(url: string): boolean {
  return url.length >= MQTT_PROXY_PATH.length && url.slice(0, MQTT_PROXY_PATH.length).toLowerCase() === MQTT_PROXY_PATH;
}

function oeApiKeyOf(url: string): string | undefined {
  const query = url.indexOf('?');
  return query < 0 ? undefined : (new URLSearchParams(url.slice(query + 1)).get('oe_api_key') ?? undefined);
}

/**
 * The status a relay request is refused with, or 0 when it may pass. Credentials come first so an
 * unauthenticated caller learns nothing about the connection's state.
 */
export function admission(account: Account, conn: Connection, authorization: string | undefined, url: string): number {
  if (!authorizationMatches(conn, authorization)) {
    const key = isMqttProxyPath(url) ? oeApiKeyOf(url) : undefined;
    if (key === undefined || !oeApiKeyMatches(conn, key)) return 606;
  }
  if (conn.state === 'removed') return 603;
  if (conn.state === 'revoked') return 604;
  if (!account.supporter) return 605;
  if (!account.observe(conn.printer).online) return 601;
  if (conn.printer.pluginTimeout) return 602;
  return 0;
}

/** Where and how to reach a printer's LAN server, parsed once per printer. */
export interface PrinterTarget {
  hostname: string;
  port: number;
  /** The Host header value the printer expects. */
  host: string;
  /** `http://host:port`, what Referer/Origin/Location are rewritten from and to. */
  origin: string;
}

export class PrinterTargets {
  private readonly cache = new WeakMap<SimPrinter, PrinterTarget>();

  of(printer: SimPrinter): PrinterTarget {
    let target = this.cache.get(printer);
    if (!target) {
      const url = new URL(printer.url);
      target = { hostname: url.hostname, port: Number(url.port) || 80, host: url.host, origin: url.origin };
      this.cache.set(printer, target);
    }
    return target;
  }
}

/** Simulated-time delays (the 602 wait) that close() can cancel. */
export class ClockDelays {
  private readonly pending = new Map<SimTimer, () => void>();

  constructor(private readonly clock: SimClock) {}

  /** Runs `fn` after `ms` simulated ms, or `onCancel` if the delays are closed first. */
  after(ms: number, fn: () => void, onCancel: () => void): void {
    const timer = this.clock.setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.set(timer, onCancel);
  }

  close(): void {
    for (const [timer, onCancel] of this.pending) {
      this.clock.clearTimer(timer);
      onCancel();
    }
    this.pending.clear();
  }
}
