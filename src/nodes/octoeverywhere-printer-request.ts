// printer-request: any of the printer's own API calls through the App Connection (or the LAN URL while
// it answers), like the core http request node but with the base URL and auth header supplied.
import { type ClockTimer, type HttpMethod, InvalidArgumentError, type TransferRequest, transfer } from '../client';
import { configured, onInput, useConnection } from './shared/adapter';
import { clockFor, Timers } from './shared/clock';
import { numberOf, stringSetting, type Translate } from './shared/settings';
import { status } from './shared/status';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from './shared/types';

const TYPE = 'octoeverywhere-printer-request';
const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'];
/** A day: longer is certainly a unit mistake (msg.timeout is in milliseconds). */
const MAX_TIMEOUT_MS = 24 * 60 * 60_000;
/** The in-flight count on the status is refreshed at most this often; starting and ending show at once. */
const STATUS_REFRESH_MS = 250;

type ReturnType = 'obj' | 'txt' | 'bin';

interface PrinterRequestDef extends NodeDef {
  connection?: string;
  /** One of METHODS, or 'use' for msg.method. */
  method?: string;
  path?: string;
  ret?: ReturnType;
  /** Seconds; empty for the connection's default (settings `octoeverywhereRequestTimeout`, else 30 s). */
  timeout?: string | number;
}

interface RequestMessage extends NodeMessageInFlow {
  method?: unknown;
  path?: unknown;
  headers?: unknown;
  timeout?: unknown;
  filename?: unknown;
  statusCode?: number;
  responseUrl?: string;
  via?: string;
}

export = function register(RED: NodeAPI): void {
  function PrinterRequestNode(this: Node, def: PrinterRequestDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const connection = useConnection(RED, node, def.connection);
    const t: Translate = (key, vars) => RED._(key, vars);
    // A method the node cannot use is a configuration error: red ring at deploy, every message fails with it.
    const fixedMethod = def.method === 'use' ? undefined : configured(node, () => methodOf(def.method ?? 'GET', t, t('errors.what-method')));
    const ret: ReturnType = def.ret === 'txt' || def.ret === 'bin' ? def.ret : 'obj';
    const timeoutMs = secondsToMs(def.timeout);
    const fileRoot = stringSetting(RED, 'octoeverywhereFileRoot');
    let inFlight = 0;
    /** The count the status shows (0: cleared). */
    let shown = 0;
    const timers = new Timers(clockFor(RED));
    let refresh: ClockTimer | undefined;
    node.on('close', () => timers.cancelAll());

    const show = (): void => {
      shown = inFlight;
      node.status(status.busy(RED._('status.sending', { count: inFlight })));
    };
    // A status per message costs more than the request at high rates: busy and idle show at once,
    // the count in between at most every STATUS_REFRESH_MS.
    const showInFlight = (): void => {
      if (inFlight === 0) {
        timers.cancel(refresh);
        refresh = undefined;
        shown = 0;
        node.status(status.idle());
      } else if (shown === 0) {
        show();
      } else {
        refresh ??= timers.after(STATUS_REFRESH_MS, () => {
          refresh = undefined;
          if (inFlight > 0 && inFlight !== shown) show();
        });
      }
    };

    onInput<RequestMessage>(RED, node, connection, async (msg, send, { client, signal }) => {
      if (fixedMethod instanceof Error) throw fixedMethod;
      const req = requestOf(msg, { method: fixedMethod, path: def.path, timeoutMs, fileRoot }, signal, t);
      inFlight += 1;
      showInFlight();
      try {
        const res = await transfer(client.connection, req);
        msg.payload = decode(res.body, ret, req.method === 'HEAD', () => node.warn(RED._('errors.not-json')));
        msg.statusCode = res.statusCode;
        msg.headers = res.headers;
        msg.responseUrl = res.url;
        msg.via = res.via;
        send(msg);
      } finally {
        inFlight -= 1;
        showInFlight();
      }
    });
  }

  RED.nodes.registerType(TYPE, PrinterRequestNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

interface Fixed {
  method?: HttpMethod;
  path?: string;
  timeoutMs?: number;
  /** settings.js `octoeverywhereFileRoot`: the one directory msg.filename may name a file in. */
  fileRoot?: string;
}

/** The request a message asks for, or an error with a specific code before anything is sent. */
function requestOf(msg: RequestMessage, fixed: Fixed, signal: AbortSignal, t: Translate): TransferRequest {
  const method = fixed.method ?? methodOf(msg.method, t, 'msg.method');
  const path = fixed.path && fixed.path.trim() !== '' ? fixed.path : msg.path;
  if (path === undefined || path === null || path === '') {
    throw new InvalidArgumentError(t('errors.no-path'), 'OE_INVALID_PATH');
  }
  if (typeof path !== 'string') throw new InvalidArgumentError(t('errors.path-type'), 'OE_INVALID_PATH');
  if (msg.headers !== undefined && msg.headers !== null && (typeof msg.headers !== 'object' || Array.isArray(msg.headers) || Buffer.isBuffer(msg.headers))) {
    throw new InvalidArgumentError(t('errors.headers-type'), 'OE_INVALID_HEADER');
  }
  const headers: Record<string, unknown> = { ...((msg.headers ?? {}) as Record<string, unknown>) };
  const req: TransferRequest = {
    method,
    path,
    headers: headers as TransferRequest['headers'],
    timeoutMs: msg.timeout === undefined || msg.timeout === null ? fixed.timeoutMs : timeoutOf(msg.timeout, t),
    signal,
  };
  const hasBody = method !== 'GET' && method !== 'HEAD';
  if (msg.filename !== undefined && msg.filename !== null && msg.filename !== '') {
    if (typeof msg.filename !== 'string') throw new InvalidArgumentError(t('errors.filename-type'), 'OE_INVALID_FILENAME');
    if (!hasBody) throw new InvalidArgumentError(t('errors.no-body', { method }), 'OE_INVALID_FILENAME');
    req.file = msg.filename;
    req.fileRoot = fixed.fileRoot;
  } else if (hasBody) {
    const { body, json } = bodyOf(msg.payload, t);
    req.body = body;
    if (json && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  return req;
}

function methodOf(value: unknown, t: Translate, what: string): HttpMethod {
  const upper = typeof value === 'string' ? value.trim().toUpperCase() : undefined;
  const method = METHODS.find((m) => m === upper);
  if (!method) throw new InvalidArgumentError(t('errors.method', { what, methods: METHODS.join(', ') }), 'OE_INVALID_METHOD');
  return method;
}

function timeoutOf(value: unknown, t: Translate): number {
  // Its own message (in milliseconds, up to a day), so it is not the shared range text.
  const n = numberOf(value);
  if (n === undefined || n <= 0 || n > MAX_TIMEOUT_MS) throw new InvalidArgumentError(t('errors.timeout', { max: MAX_TIMEOUT_MS }), 'OE_INVALID_TIMEOUT');
  return n;
}

function secondsToMs(value: unknown): number | undefined {
  const n = numberOf(value);
  return n !== undefined && n > 0 ? Math.min(n * 1000, MAX_TIMEOUT_MS) : undefined;
}

/** msg.payload as a body: nothing, a string, a Buffer, or JSON text for anything else JSON can hold. */
function bodyOf(payload: unknown, t: Translate): { body?: string | Buffer; json?: boolean } {
  if (payload === undefined || payload === null) return {};
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return { body: payload };
  if (payload instanceof Uint8Array) return { body: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength) };
  if (typeof payload === 'number' || typeof payload === 'boolean' || typeof payload === 'object') {
    let json: string | undefined;
    try {
      json = JSON.stringify(payload);
    } catch {
      json = undefined;
    }
    if (json === undefined || (typeof payload === 'number' && !Number.isFinite(payload))) {
      throw new InvalidArgumentError(t('errors.payload-json'), 'OE_INVALID_PAYLOAD');
    }
    // Serialised once here, so its size is known for the upload limit check.
    return { body: json, json: true };
  }
  throw new InvalidArgumentError(t('errors.payload-type', { type: typeof payload }), 'OE_INVALID_PAYLOAD');
}

/** The answer as the node's "return" option asks; JSON that does not parse stays text, as in the core node. */
function decode(body: Buffer, ret: ReturnType, head: boolean, notJson: () => void): unknown {
  if (ret === 'bin') return body;
  const text = head ? '' : body.toString('utf8');
  if (ret === 'txt' || text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    notJson();
    return text;
  }
}
