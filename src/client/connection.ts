// One App Connection (or Shared Connection): where to send requests, how to authenticate them, and the
// keep-alive sockets they share. Everything that talks to the printer or the service goes through here.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { finished, Readable } from 'node:stream';
import axios, { AxiosError, type AxiosResponse, type Method, type RawAxiosRequestHeaders } from 'axios';
import WebSocket from 'ws';
import { type Clock, realClock } from './clock';
import { Deadline } from './deadline';
import {
  AppConnectionRequiredError,
  InvalidArgumentError,
  NetworkError,
  OctoEverywhereError,
  serviceError,
} from './errors';
import { baseUrlString, loopbackAwareLookup, parseBaseUrl, parseLocalUrl } from './urls';
import { checkPrinterPath, checkHeaders } from './validate';
import { positiveOr } from './values';

export const DEFAULT_SERVICE_URL = 'https://octoeverywhere.com';
export const DEFAULT_APP_ID = 'devtest';
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Bound on a response read into memory when the caller sets none: above the largest account limit seen (500 MiB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024 * 1024;
/** How long the LAN URL is left alone after it failed to answer. */
const LOCAL_RETRY_AFTER_MS = 60_000;
const LOCAL_CONNECT_TIMEOUT_MS = 1_500;

/**
 * The one axios instance of every connection (each request brings its connection's agent): an
 * instance per connection weighed on a 1,000-connection farm and bought nothing.
 * Every status is an answer to interpret, not an exception; redirects are not followed so that the
 * auth header can never be replayed to another host.
 */
const httpClient = axios.create({
  validateStatus: () => true,
  maxRedirects: 0,
  proxy: false,
  maxBodyLength: Infinity,
});
const AGENT_OPTIONS = { keepAlive: true, scheduling: 'lifo' as const, lookup: loopbackAwareLookup };

export type AuthType = 'bearer' | 'basic';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';
export type ResponseType = 'auto' | 'json' | 'text' | 'buffer' | 'stream';
export type Route = 'relay' | 'local';

/** The values an App Connection (portal completion) or a Shared Connection (website) provides. */
export interface AppConnectionOptions {
  /** App Connection URL `https://app-….octoeverywhere.com` or Shared Connection URL `https://shared-…`. */
  url: string;
  authBasicHttpUser?: string;
  authBasicHttpPassword?: string;
  authBearerToken?: string;
  /** Which credential to send when both are present; default bearer. */
  authType?: AuthType;
  /** App API token; absent on a Shared Connection. */
  appApiToken?: string;
  octoPrintApiKey?: string;
  /** The OctoEverywhere service; default https://octoeverywhere.com. */
  serviceUrl?: string;
  appId?: string;
  /** The printer's LAN URL: used first while it answers, the App Connection is the fallback. */
  localUrl?: string;
  /** The deadline of every request (ms, default 30 s): the whole request, answer included. */
  timeoutMs?: number;
  /**
   * The time source of request deadlines; default the real clock. A deadline bounds real network
   * time, so the nodes keep the real clock even when a test drives their other timers by hand.
   */
  clock?: Clock;
}

/** Per-call options of every request through a connection (relay, command API, App APIs). */
export interface CallOptions {
  /** Cancels the request (e.g. when the Node-RED node using it closes). */
  signal?: AbortSignal;
  /**
   * Overrides the connection's request timeout: a deadline from the start of the request to the end of
   * its answer (a streamed answer: to its head), however slowly the far side sends.
   */
  timeoutMs?: number;
}

export interface PrinterRequest extends CallOptions {
  method?: HttpMethod;
  /** Path on the printer, from its root: `/api/job`, `/printer/objects/query?print_stats`. */
  path: string;
  headers?: Record<string, string | number | boolean | undefined>;
  /** Object → JSON, Buffer/Uint8Array → raw, string → text, Readable → streamed. */
  body?: unknown;
  /** Length of a Readable body when known: sent as Content-Length instead of chunking, so the relay can refuse an oversized upload (608) before reading it. */
  bodyLength?: number;
  responseType?: ResponseType;
  /** `auto` (default): the LAN URL when configured and answering, else the relay. */
  via?: 'auto' | Route;
  maxResponseBytes?: number;
  /**
   * Called with the answer's status and headers before its body is read (not for a relay 6xx, which
   * throws anyway). Throwing or rejecting drops the answer unread, with its socket, and fails the
   * request with that error.
   */
  checkAnswer?: (head: AnswerHead) => void | Promise<void>;
  /**
   * A deadline the caller started and owns, used instead of `timeoutMs` and `signal` and not released
   * here: transfer() reads a streamed answer whole within the same deadline.
   */
  deadline?: Deadline;
}

/** An answer's status line and headers, before its body is read. */
export interface AnswerHead {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  via: Route;
}

export interface PrinterResponse<T = unknown> {
  statusCode: number;
  headers: Record<string, string>;
  body: T;
  /** The URL that was requested; it never carries a credential. */
  url: string;
  via: Route;
}

export class AppConnection {
  readonly baseUrl: string;
  readonly serviceUrl: string;
  readonly appId: string;
  readonly localUrl?: string;
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** Shared Connections have no App API token and so no App APIs. */
  readonly hasAppApi: boolean;

  // Secrets live in private fields so that neither logging the object nor JSON.stringify shows them.
  readonly #authorization: string;
  readonly #appApiToken?: string;
  readonly #octoPrintApiKey?: string;
  /** One keep-alive pool per connection, created on first use for the protocol actually used. */
  #agents: { http?: http.Agent; https?: https.Agent } = {};
  #localDownUntil = 0;
  #localProbe?: Promise<boolean>;
  #closed = false;

  constructor(options: AppConnectionOptions) {
    if (!options || typeof options !== 'object') {
      throw new InvalidArgumentError('App Connection options are missing.', 'OE_MISSING_CREDENTIALS');
    }
    this.baseUrl = baseUrlString(parseBaseUrl(options.url, 'App Connection URL'));
    this.serviceUrl = baseUrlString(parseBaseUrl(options.serviceUrl || DEFAULT_SERVICE_URL, 'OctoEverywhere service URL'));
    this.appId = options.appId?.trim() || DEFAULT_APP_ID;
    const local = parseLocalUrl(options.localUrl);
    this.localUrl = local ? baseUrlString(local) : undefined;
    this.timeoutMs = positiveOr(options.timeoutMs, DEFAULT_TIMEOUT_MS);
    this.clock = options.clock ?? realClock;
    this.#authorization = authorizationHeader(options);
    this.#appApiToken = nonEmpty(options.appApiToken);
    this.#octoPrintApiKey = nonEmpty(options.octoPrintApiKey);
    this.hasAppApi = this.#appApiToken !== undefined;
  }

  /** The headers a relay request (HTTP or WebSocket handshake) carries for authentication. */
  relayAuthHeaders(): Record<string, string> {
    const headers: Record<string, string> = { Authorization: this.#authorization };
    if (this.#octoPrintApiKey) headers['X-Api-Key'] = this.#octoPrintApiKey;
    return headers;
  }

  /** The App API token, or an error that says a Shared Connection has none. */
  appApiToken(feature: string): string {
    if (!this.#appApiToken) throw new AppConnectionRequiredError(feature);
    return this.#appApiToken;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A request to the printer's own API. Any HTTP status comes back as a response, except the
   * OctoEverywhere 6xx codes, which throw a ServiceError (they are about the connection, not the printer).
   */
  async request<T = unknown>(req: PrinterRequest): Promise<PrinterResponse<T>> {
    this.#assertOpen();
    const path = checkPrinterPath(req.path);
    const userHeaders = checkHeaders(req.headers);
    // One deadline from here to the end of the answer, over the LAN probe, the fallback and a resend.
    const deadline = req.deadline ?? this.deadline(req);
    let res: PrinterResponse<T> | undefined;
    try {
      const route = await this.#chooseRoute(req.via ?? 'auto');
      try {
        res = await this.#send<T>(route, path, userHeaders, req, deadline);
      } catch (err) {
        // A LAN address that stopped answering: leave it alone for a while and use the relay. Only
        // when the request cannot have reached the printer, so nothing is done twice.
        if (route === 'local' && req.via !== 'local' && isUnreachable(err) && !(req.body instanceof Readable)) {
          this.#localDownUntil = Date.now() + LOCAL_RETRY_AFTER_MS;
          res = await this.#send<T>('relay', path, userHeaders, req, deadline);
        } else throw err;
      }
      return res;
    } finally {
      if (!req.deadline) {
        const body: unknown = res?.body;
        // A stream answer came in time; whoever reads it bounds the rest (a webcam stream runs for
        // minutes), while the caller's signal can still cancel it until it ends.
        if (body instanceof Readable && !body.destroyed) {
          deadline.stopClock();
          finished(body, () => deadline.release());
        } else deadline.release();
      }
    }
  }

  /** A deadline started now for a request with these call options (on this connection's clock and timeout). */
  deadline(options: CallOptions = {}): Deadline {
    return new Deadline(positiveOr(options.timeoutMs, this.timeoutMs), options.signal, this.clock);
  }

  /** A request to one of OctoEverywhere's App APIs, with the App API token. Returns the parsed JSON body. */
  async appApi(feature: string, method: 'GET' | 'POST', path: string, body?: Record<string, unknown>, options: CallOptions = {}): Promise<unknown> {
    this.#assertOpen();
    const token = this.appApiToken(feature);
    let res: AxiosResponse<Buffer>;
    const deadline = this.deadline(options);
    try {
      const url = `${this.serviceUrl}${path}`;
      res = await httpClient.request<Buffer>({
        ...this.#agentFor(url),
        method,
        url,
        headers: { AppToken: token, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
        data: body ? JSON.stringify(body) : undefined,
        responseType: 'arraybuffer',
        signal: deadline.signal,
        maxContentLength: 4 * 1024 * 1024,
      });
    } catch (err) {
      throw networkError(err, feature, deadline);
    } finally {
      deadline.release();
    }
    if (res.status < 200 || res.status >= 300) throw serviceError(res.status, feature, this.appId);
    return parseJson(res.data, feature);
  }

  /** Opens a WebSocket to the printer through the relay (wss), authenticated in the handshake. */
  openWebSocket(path: string, options: { protocols?: string | string[]; headers?: Record<string, string> } = {}): WebSocket {
    this.#assertOpen();
    const checked = checkPrinterPath(path);
    const url = `${this.baseUrl.replace(/^http/, 'ws')}${checked}`;
    const secure = url.startsWith('wss:');
    return new WebSocket(url, options.protocols, {
      headers: { ...checkHeaders(options.headers), ...this.relayAuthHeaders() },
      agent: secure ? this.#httpsAgent() : this.#httpAgent(),
      lookup: loopbackAwareLookup,
      handshakeTimeout: this.timeoutMs,
      followRedirects: false,
    } as WebSocket.ClientOptions);
  }

  /** Open sockets of this connection's pool (for tests and diagnostics). */
  socketCount(): number {
    return this.#sockets().length;
  }

  /** Releases every pooled socket; resolves once they are closed. Later calls fail with OE_CLOSED. */
  async close(): Promise<void> {
    this.#closed = true;
    const sockets = this.#sockets().filter((s) => !s.destroyed);
    const closed = sockets.map((s) => new Promise((resolve) => s.once('close', resolve)));
    this.#agents.http?.destroy();
    this.#agents.https?.destroy();
    await Promise.all(closed);
  }

  #sockets(): net.Socket[] {
    const list = (agent: http.Agent | undefined): net.Socket[] =>
      agent ? [agent.sockets, agent.freeSockets].flatMap((group) => Object.values(group).flatMap((sockets) => sockets ?? [])) : [];
    return [...list(this.#agents.http), ...list(this.#agents.https)];
  }

  #httpAgent(): http.Agent {
    return (this.#agents.http ??= new http.Agent(AGENT_OPTIONS));
  }

  #httpsAgent(): https.Agent {
    return (this.#agents.https ??= new https.Agent(AGENT_OPTIONS));
  }

  /** The axios agent option for `url`: only the agent of its protocol, so the other is never created. */
  #agentFor(url: string): { httpAgent: http.Agent } | { httpsAgent: https.Agent } {
    return url.startsWith('https:') ? { httpsAgent: this.#httpsAgent() } : { httpAgent: this.#httpAgent() };
  }

  async #chooseRoute(via: 'auto' | Route): Promise<Route> {
    if (via !== 'auto') {
      if (via === 'local' && !this.localUrl) throw new InvalidArgumentError('No local URL is configured for this printer.');
      return via;
    }
    if (!this.localUrl || Date.now() < this.#localDownUntil) return 'relay';
    // One TCP probe at a time decides for everyone waiting; its answer holds until a request fails.
    this.#localProbe ??= probeTcp(this.localUrl).finally(() => {
      this.#localProbe = undefined;
    });
    const up = await this.#localProbe;
    if (!up) this.#localDownUntil = Date.now() + LOCAL_RETRY_AFTER_MS;
    return up ? 'local' : 'relay';
  }

  async #send<T>(route: Route, path: string, userHeaders: Record<string, string>, req: PrinterRequest, deadline: Deadline): Promise<PrinterResponse<T>> {
    const base = route === 'local' ? (this.localUrl as string) : this.baseUrl;
    const url = `${base}${path}`;
    const { data, contentType } = encodeBody(req.body);
    const headers: RawAxiosRequestHeaders = { ...userHeaders };
    if (contentType && !hasHeader(headers, 'content-type')) headers['Content-Type'] = contentType;
    if (data instanceof Readable && typeof req.bodyLength === 'number' && Number.isInteger(req.bodyLength) && req.bodyLength >= 0) {
      headers['Content-Length'] = String(req.bodyLength);
    }
    // The OctoEverywhere credentials go only to OctoEverywhere; the printer's own key goes to both.
    Object.assign(headers, route === 'relay' ? this.relayAuthHeaders() : this.#octoPrintApiKey ? { 'X-Api-Key': this.#octoPrintApiKey } : {});
    const responseType = req.responseType ?? 'auto';
    // An error thrown by checkAnswer reaches the caller as is, not as a network failure.
    let refused: { error: unknown } | undefined;
    let res: AxiosResponse;
    const method = req.method ?? 'GET';
    for (let attempt = 1; ; attempt++) {
      try {
        res = await httpClient.request({
          ...this.#agentFor(url),
          transport: req.checkAnswer ? checkedTransport(url, route, req.checkAnswer, (error) => (refused = { error })) : undefined,
          method: method as Method,
          url,
          headers,
          data,
          responseType: responseType === 'stream' ? 'stream' : 'arraybuffer',
          // No axios `timeout`: in Node it is a socket idle timeout, which a dribbling answer never trips.
          signal: deadline.signal,
          // A stream is bounded by whoever reads it (a webcam stream runs for minutes): only a cap the
          // caller asked for applies. A body read into memory is always bounded.
          maxContentLength: responseType === 'stream' && req.maxResponseBytes === undefined ? -1 : positiveOr(req.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES),
          decompress: true,
        });
        break;
      } catch (err) {
        if (refused) throw refused.error;
        // A kept-alive socket the far side closed just as it was reused: the request never reached
        // the printer, and an idempotent one is safely sent once more on a fresh socket.
        if (attempt === 1 && IDEMPOTENT.has(method) && !(data instanceof Readable) && !deadline.signal.aborted && isStaleSocket(err)) continue;
        throw networkError(err, route === 'local' ? 'The request to the printer\'s local URL' : 'The request through OctoEverywhere', deadline);
      }
    }
    if (route === 'relay' && res.status >= 600 && res.status <= 699) {
      if (responseType === 'stream') (res.data as Readable).destroy();
      throw serviceError(res.status, 'The printer request', this.appId);
    }
    const responseHeaders = flattenHeaders(res.headers);
    const body = responseType === 'stream' ? (res.data as Readable) : decodeBody(res.data as Buffer, responseHeaders['content-type'], responseType);
    return { statusCode: res.status, headers: responseHeaders, body: body as T, url, via: route };
  }

  #assertOpen(): void {
    if (this.#closed) throw new OctoEverywhereError('OE_CLOSED', 'This App Connection was closed (the node was redeployed or removed).');
  }
}

/**
 * The relay's auth header, in one place. Bearer when chosen or when it is the only credential;
 * Basic otherwise. Missing both is an error before anything is sent.
 */
export function authorizationHeader(options: Pick<AppConnectionOptions, 'authType' | 'authBasicHttpUser' | 'authBasicHttpPassword' | 'authBearerToken'>): string {
  const bearer = nonEmpty(options.authBearerToken);
  const user = nonEmpty(options.authBasicHttpUser);
  const password = options.authBasicHttpPassword ?? '';
  const basic = user !== undefined && password !== '' ? `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` : undefined;
  if (options.authType !== undefined && options.authType !== 'bearer' && options.authType !== 'basic') {
    throw new InvalidArgumentError('The auth type must be "bearer" or "basic".');
  }
  const preferBasic = options.authType === 'basic';
  const header = preferBasic ? basic ?? (bearer && `Bearer ${bearer}`) : (bearer && `Bearer ${bearer}`) ?? basic;
  if (!header) {
    throw new InvalidArgumentError(
      'The App Connection has no credentials: it needs a bearer token, or a Basic user name and password.',
      'OE_MISSING_CREDENTIALS',
    );
  }
  if (/[\r\n]/.test(header)) throw new InvalidArgumentError('The App Connection credentials contain a line break.', 'OE_MISSING_CREDENTIALS');
  return header;
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = typeof value === 'string' ? value.trim() : '';
  return v === '' ? undefined : v;
}

function hasHeader(headers: RawAxiosRequestHeaders, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** A request body as sent on the wire, with the content type it implies. */
export function encodeBody(body: unknown): { data: unknown; contentType?: string } {
  if (body === undefined || body === null) return { data: undefined };
  if (Buffer.isBuffer(body)) return { data: body, contentType: 'application/octet-stream' };
  if (body instanceof Uint8Array) return { data: Buffer.from(body.buffer, body.byteOffset, body.byteLength), contentType: 'application/octet-stream' };
  if (body instanceof Readable) return { data: body, contentType: 'application/octet-stream' };
  if (typeof body === 'string') return { data: body, contentType: 'text/plain; charset=utf-8' };
  if (typeof body === 'number' || typeof body === 'boolean' || typeof body === 'object') {
    return { data: JSON.stringify(body), contentType: 'application/json' };
  }
  throw new InvalidArgumentError(`A request body of type ${typeof body} cannot be sent; use an object, a string or a Buffer.`);
}

const JSON_TYPE = /^(application|text)\/([\w.+-]*\+)?json\b/i;

function decodeBody(data: Buffer, contentType: string | undefined, responseType: ResponseType): unknown {
  const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data ?? []);
  switch (responseType) {
    case 'buffer':
      return buffer;
    case 'text':
      return buffer.toString('utf8');
    case 'json':
      return buffer.length === 0 ? undefined : parseJson(buffer, 'The printer\'s answer');
    default:
      if (contentType && JSON_TYPE.test(contentType)) {
        if (buffer.length === 0) return undefined;
        try {
          return JSON.parse(buffer.toString('utf8'));
        } catch {
          return buffer.toString('utf8');
        }
      }
      if (!contentType || /^text\/|xml|javascript|x-www-form-urlencoded/i.test(contentType)) return buffer.toString('utf8');
      return buffer;
  }
}

export function parseJson(data: Buffer | string, what: string): unknown {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new OctoEverywhereError('OE_INVALID_RESPONSE', `${what} is not valid JSON.`, { kind: 'temporary' });
  }
}

function flattenHeaders(headers: AxiosResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

const IDEMPOTENT = new Set<string>(['GET', 'HEAD', 'OPTIONS']);

function isStaleSocket(err: unknown): boolean {
  const code = err instanceof AxiosError ? err.code : (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTDOWN']);

function isUnreachable(err: unknown): boolean {
  return err instanceof NetworkError && err.code === 'OE_UNREACHABLE';
}

/**
 * Maps a transport failure to our error, keeping nothing of the library error (it holds the headers).
 * With the request's deadline: a request cut short because its time was up is OE_TIMEOUT, whatever
 * the transport said about being aborted.
 */
export function networkError(err: unknown, what: string, deadline?: Deadline): OctoEverywhereError {
  if (deadline?.expired) return deadline.error(what);
  if (err instanceof OctoEverywhereError) return err;
  const code = err instanceof AxiosError ? err.code : (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ERR_CANCELED' || axios.isCancel(err)) {
    return new NetworkError('OE_ABORTED', `${what} was cancelled.`, { kind: 'temporary' });
  }
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return new NetworkError('OE_TIMEOUT', `${what} timed out. Check the printer is online; a longer timeout may help for large transfers.`, { kind: 'temporary' });
  }
  if (code === 'ERR_BAD_RESPONSE' && err instanceof AxiosError && /maxContentLength/.test(err.message)) {
    return new NetworkError('OE_RESPONSE_TOO_LARGE', `${what} returned more data than allowed; raise the size limit or stream the response.`, { kind: 'permanent' });
  }
  if (code && UNREACHABLE.has(code)) {
    return new NetworkError('OE_UNREACHABLE', `${what} could not connect (${code}).`, { kind: 'temporary' });
  }
  const known = typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : '';
  return new NetworkError('OE_NETWORK', `${what} failed on the network${known}.`, { kind: 'temporary' });
}

/**
 * An axios transport (Node's http or https `request`) that shows `check` each answer's head before
 * axios reads its body; an answer it refuses is dropped with its socket (destroying the request
 * fails axios's promise) and `refused` gets the reason. Axios's own hooks all run after the body.
 */
function checkedTransport(
  url: string,
  via: Route,
  check: (head: AnswerHead) => void | Promise<void>,
  refused: (error: unknown) => void,
): Pick<typeof http, 'request'> {
  const transport = url.startsWith('https:') ? https : http;
  return {
    request: ((options: http.RequestOptions, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest => {
      const request = transport.request(options, (res) => {
        const statusCode = res.statusCode ?? 0;
        if (via === 'relay' && statusCode >= 600 && statusCode <= 699) {
          onResponse(res);
          return;
        }
        const refuse = (error: unknown): void => {
          refused(error);
          request.destroy(error instanceof Error ? error : new Error(String(error)));
        };
        let pending: void | Promise<void>;
        try {
          pending = check({ statusCode, headers: res.headers, via });
        } catch (err) {
          refuse(err);
          return;
        }
        if (pending) pending.then(() => onResponse(res), refuse);
        else onResponse(res);
      });
      return request;
    }) as typeof http.request,
  };
}

/** Whether something accepts TCP connections at the URL's host and port, within a short time. */
function probeTcp(baseUrl: string): Promise<boolean> {
  const url = new URL(baseUrl);
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port, lookup: loopbackAwareLookup });
    const finish = (up: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(up);
    };
    const timer = setTimeout(() => finish(false), LOCAL_CONNECT_TIMEOUT_MS);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
