// One App Connection (or Shared Connection): where to send requests, how to authenticate them, and the
// keep-alive sockets they share. Everything that talks to the printer or the service goes through here.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { finished, Readable } from 'node:stream';
import WebSocket from 'ws';
import { decodeBody, type EncodedBody, encodeBody, parseJson, type ResponseType, withContentType } from './body-codec';
import { type Clock, realClock } from './clock';
import { Deadline } from './deadline';
import { AppConnectionRequiredError, InvalidArgumentError, OctoEverywhereError, serviceError } from './errors';
import { isStaleSocket, isUnreachable, networkError } from './network-errors';
import { Refused, send as sendOnWire, type WireRequest, type WireResponse } from './http-transport';
import { type Route, RouteChooser } from './route-chooser';
import { baseUrlString, loopbackAwareLookup, parseBaseUrl, parseLocalUrl } from './urls';
import { checkHeaders, checkPrinterPath, PrinterTarget } from './validate';
import { positiveOr } from './values';

export type { ResponseType } from './body-codec';
export type { Route } from './route-chooser';

export const DEFAULT_SERVICE_URL = 'https://octoeverywhere.com';
export const DEFAULT_APP_ID = 'devtest';
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Bound on a response read into memory when the caller sets none: above the largest account limit seen (500 MiB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024 * 1024;

/** An App API answer is a small JSON document: anything past this is not one. */
const APP_API_MAX_BYTES = 4 * 1024 * 1024;
const AGENT_OPTIONS = { keepAlive: true, scheduling: 'lifo' as const, lookup: loopbackAwareLookup };

export type AuthType = 'bearer' | 'basic';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';

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
   * The time source of request deadlines and of the LAN route's retry minute; default the real clock.
   * Both bound real network time, so the nodes keep the real clock even when a test drives their
   * other timers by hand.
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
  /** Object → JSON, Buffer/Uint8Array → raw, string → text, Readable → streamed (see body-codec.ts). */
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
  /** The auth headers of each route, made once: the relay's, and the LAN's (the printer's own key only). */
  readonly #relayAuth: Record<string, string>;
  readonly #localAuth: Record<string, string>;
  /** One keep-alive pool per connection, created on first use for the protocol actually used. */
  #agents: { http?: http.Agent; https?: https.Agent } = {};
  readonly #routes: RouteChooser;
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
    this.#routes = new RouteChooser(this.localUrl, this.clock);
    this.#authorization = authorizationHeader(options);
    this.#appApiToken = nonEmpty(options.appApiToken);
    this.#octoPrintApiKey = nonEmpty(options.octoPrintApiKey);
    this.hasAppApi = this.#appApiToken !== undefined;
    this.#relayAuth = this.relayAuthHeaders();
    this.#localAuth = this.#octoPrintApiKey ? { 'X-Api-Key': this.#octoPrintApiKey } : {};
  }

  /** The headers a relay request (HTTP or WebSocket handshake) carries for authentication. */
  relayAuthHeaders(): Record<string, string> {
    const headers: Record<string, string> = { Authorization: this.#authorization };
    if (this.#octoPrintApiKey) headers['X-Api-Key'] = this.#octoPrintApiKey;
    return headers;
  }

  /** The headers a request or socket handshake to the LAN URL carries: the printer's own key only, never OctoEverywhere's credentials. */
  localAuthHeaders(): Record<string, string> {
    return { ...this.#localAuth };
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
   * `target` is the path and headers already checked (transfer() checks them before it opens a file);
   * without it they are checked here, so every request passes the checks exactly once.
   */
  async request<T = unknown>(req: PrinterRequest, target: PrinterTarget = new PrinterTarget(req.path, req.headers)): Promise<PrinterResponse<T>> {
    this.#assertOpen();
    const body = encodeBody(req.body, req.bodyLength);
    const headers: Record<string, string> = withContentType({ ...target.headers }, body);
    if (body.data instanceof Readable && body.length !== undefined) headers['Content-Length'] = String(body.length);
    // One deadline from here to the end of the answer, over the LAN probe, the fallback and a resend.
    const deadline = req.deadline ?? this.deadline(req);
    const send = (route: Route): Promise<PrinterResponse<T>> => this.#send<T>(route, target.path, headers, body, req, deadline);
    let res: PrinterResponse<T> | undefined;
    try {
      const via = req.via ?? 'auto';
      const route = this.#routes.known(via) ?? (await this.#routes.choose(via));
      try {
        res = await send(route);
      } catch (err) {
        // A LAN address that stopped answering: leave it alone for a while and use the relay. Only
        // when the request cannot have reached the printer, so nothing is done twice.
        if (route === 'local' && req.via !== 'local' && isUnreachable(err) && !(body.data instanceof Readable)) {
          this.#routes.localFailed();
          res = await send('relay');
        } else throw err;
      }
      return res;
    } finally {
      if (!req.deadline) {
        const answer: unknown = res?.body;
        // A stream answer came in time; whoever reads it bounds the rest (a webcam stream runs for
        // minutes), while the caller's signal can still cancel it until it ends.
        if (answer instanceof Readable && !answer.destroyed) {
          deadline.stopClock();
          finished(answer, () => deadline.release());
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
    let res: WireResponse;
    const encoded = encodeBody(body);
    const deadline = this.deadline(options);
    try {
      const url = `${this.serviceUrl}${path}`;
      res = await sendOnWire({
        url,
        method,
        headers: withContentType({ AppToken: token, Accept: 'application/json' }, encoded),
        data: encoded.data,
        encodedAs: encoded.contentType,
        agent: url.startsWith('https:') ? this.#httpsAgent() : this.#httpAgent(),
        deadline,
        stream: false,
        maxContentLength: APP_API_MAX_BYTES,
      });
    } catch (err) {
      throw networkError(err, feature, deadline);
    } finally {
      deadline.release();
    }
    if (res.status < 200 || res.status >= 300) throw serviceError(res.status, feature, this.appId);
    // Not a stream: the answer was read whole into a Buffer.
    return parseJson(res.data as Buffer, feature);
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
    });
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

  async #send<T>(
    route: Route,
    path: string,
    requestHeaders: Record<string, string>,
    body: EncodedBody,
    req: PrinterRequest,
    deadline: Deadline,
  ): Promise<PrinterResponse<T>> {
    const base = route === 'local' ? (this.localUrl as string) : this.baseUrl;
    const url = `${base}${path}`;
    // The OctoEverywhere credentials go only to OctoEverywhere; the printer's own key goes to both.
    const headers: Record<string, string> = { ...requestHeaders, ...(route === 'relay' ? this.#relayAuth : this.#localAuth) };
    const responseType = req.responseType ?? 'auto';
    const method = req.method ?? 'GET';
    const data = body.data;
    const check = req.checkAnswer;
    const wire: WireRequest = {
      url,
      method,
      headers,
      data,
      encodedAs: body.contentType,
      agent: url.startsWith('https:') ? this.#httpsAgent() : this.#httpAgent(),
      deadline,
      stream: responseType === 'stream',
      // A stream is bounded by whoever reads it (a webcam stream runs for minutes): only a cap the
      // caller asked for applies. A body read into memory is always bounded.
      maxContentLength: responseType === 'stream' && req.maxResponseBytes === undefined ? -1 : positiveOr(req.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES),
      // A relay 6xx throws below whatever its head says.
      checkHead: check
        ? (res) => {
            const statusCode = res.statusCode ?? 0;
            if (route === 'relay' && statusCode >= 600 && statusCode <= 699) return;
            return check({ statusCode, headers: res.headers, via: route });
          }
        : undefined,
    };
    let res: WireResponse;
    for (let attempt = 1; ; attempt++) {
      try {
        res = await sendOnWire(wire);
        break;
      } catch (err) {
        // An error thrown by checkAnswer reaches the caller as is, not as a network failure.
        if (err instanceof Refused) throw err.error;
        // A stale kept-alive socket: an idempotent request is safely sent once more on a fresh one.
        if (attempt === 1 && IDEMPOTENT.has(method) && !(data instanceof Readable) && !deadline.aborted && isStaleSocket(err)) continue;
        throw networkError(err, route === 'local' ? "The request to the printer's local URL" : 'The request through OctoEverywhere', deadline);
      }
    }
    if (route === 'relay' && res.status >= 600 && res.status <= 699) {
      if (res.data instanceof Readable) res.data.destroy();
      throw serviceError(res.status, 'The printer request', this.appId);
    }
    const answer = res.data instanceof Readable ? res.data : decodeBody(res.data, res.headers['content-type'], responseType);
    return { statusCode: res.status, headers: res.headers, body: answer as T, url, via: route };
  }

  #assertOpen(): void {
    if (this.#closed) throw new OctoEverywhereError('OE_CLOSED', 'This App Connection was closed (the node was redeployed or removed).');
  }
}

/**
 * The relay's auth header, in one place. Bearer when chosen or when it is the only credential;
 * Basic otherwise. Missing both is an error before anything is sent.
 */
export function authorizationHeader(
  options: Pick<AppConnectionOptions, 'authType' | 'authBasicHttpUser' | 'authBasicHttpPassword' | 'authBearerToken'>,
): string {
  const bearer = nonEmpty(options.authBearerToken);
  const user = nonEmpty(options.authBasicHttpUser);
  const password = options.authBasicHttpPassword ?? '';
  const basic = user !== undefined && password !== '' ? `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` : undefined;
  if (options.authType !== undefined && options.authType !== 'bearer' && options.authType !== 'basic') {
    throw new InvalidArgumentError('The auth type must be "bearer" or "basic".');
  }
  const preferBasic = options.authType === 'basic';
  const header = preferBasic ? (basic ?? (bearer && `Bearer ${bearer}`)) : ((bearer && `Bearer ${bearer}`) ?? basic);
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

const IDEMPOTENT = new Set<string>(['GET', 'HEAD', 'OPTIONS']);
