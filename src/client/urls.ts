// Which URLs the client will talk to. OctoEverywhere is always https; plain http is allowed only to
// this machine (the local simulator, a reverse proxy), so credentials never cross a network in clear.
import dns from 'node:dns';
import net from 'node:net';
import { InvalidArgumentError } from './errors';

/** True for hosts that are this machine: 127.0.0.0/8, ::1, localhost and *.localhost (RFC 6761). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * Parses and checks a base URL (App Connection, Shared Connection or service URL): http(s) only,
 * https unless the host is loopback, no credentials, query or fragment. Returns the origin, lower
 * case, with any path kept (without a trailing slash) for services mounted under a prefix.
 */
export function parseBaseUrl(value: unknown, what: string): URL {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidArgumentError(`The ${what} is missing.`, 'OE_MISSING_URL');
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InvalidArgumentError(`The ${what} is not a valid URL.`, 'OE_INVALID_URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidArgumentError(`The ${what} must be an https:// URL.`, 'OE_INVALID_URL');
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new InvalidArgumentError(
      `The ${what} must use https://; plain http:// is only allowed for this machine (localhost, 127.0.0.0/8, ::1).`,
      'OE_INSECURE_URL',
    );
  }
  if (url.username || url.password) {
    throw new InvalidArgumentError(`The ${what} must not contain a user name or password; use the credential fields.`, 'OE_INVALID_URL');
  }
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** `new URL()` lower-cases the host already; this drops the trailing slash of an origin-only URL. */
export function baseUrlString(url: URL): string {
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/**
 * A LAN URL (the printer's own address) may be plain http on any host: it never carries the
 * OctoEverywhere credentials, only the printer's own API key, as the printer's web UI would.
 */
export function parseLocalUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InvalidArgumentError("The printer's local URL is not a valid URL.", 'OE_INVALID_URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidArgumentError("The printer's local URL must be http:// or https://.", 'OE_INVALID_URL');
  }
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * dns.lookup that resolves *.localhost to loopback as RFC 6761 asks; Node's resolver does not, and
 * the simulator gives every App Connection its own `app-….localhost` host.
 */
export function loopbackAwareLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) {
    const family = options.family === 6 ? 6 : 4;
    const address = family === 6 ? '::1' : '127.0.0.1';
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
    return;
  }
  dns.lookup(
    hostname,
    { ...options, all: options.all === true },
    callback as (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family: number) => void,
  );
}

/** What kind of host a Connection URL points at; undefined for a host that is none of them. */
export type ConnectionHostKind = 'app' | 'shared' | 'loopback';

const APP_HOST = /^app-[a-z0-9]{32}\.octoeverywhere\.com$/;
// The Shared Connection id's length is not documented (the simulator makes 24): one DNS label.
const SHARED_HOST = /^shared-[a-z0-9]{1,56}\.octoeverywhere\.com$/;

/**
 * Whether `url` is an OctoEverywhere App or Shared Connection host (https, the default port), or this
 * machine (the simulator's `app-….localhost`, a local proxy). A completion that names any other host
 * would send the printer's requests, with their credentials, somewhere else: callers ask the user first.
 */
export function connectionHostKind(url: string): ConnectionHostKind | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  if (isLoopbackHost(parsed.hostname)) return 'loopback';
  if (parsed.protocol !== 'https:' || parsed.port !== '') return undefined;
  const host = parsed.hostname.toLowerCase();
  if (APP_HOST.test(host)) return 'app';
  if (SHARED_HOST.test(host)) return 'shared';
  return undefined;
}
