// What a printer request message asks for, checked before anything is sent: the method, path,
// headers, timeout, body (or a file from the one allowed directory), and the answer decoded as the
// node's "return" option asks. Every refusal has its own code (OE_INVALID_METHOD, OE_INVALID_PATH …).
import { type HttpMethod, InvalidArgumentError, type TransferRequest } from '../../client';
import { type EncodedBody, encodeBody } from '../../client/body-codec';
import { numberOf, type Translate } from './settings';
import type { NodeMessageInFlow } from './types';

const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'];
/** A day: longer is certainly a unit mistake (msg.timeout is in milliseconds). */
const MAX_TIMEOUT_MS = 24 * 60 * 60_000;

export type ReturnType = 'obj' | 'txt' | 'bin';

export interface RequestMessage extends NodeMessageInFlow {
  method?: unknown;
  path?: unknown;
  headers?: unknown;
  timeout?: unknown;
  filename?: unknown;
  statusCode?: number;
  responseUrl?: string;
  via?: string;
}

export interface Fixed {
  method?: HttpMethod;
  path?: string;
  timeoutMs?: number;
  /** settings.js `octoeverywhereFileRoot`: the one directory msg.filename may name a file in. */
  fileRoot?: string;
}

/** The request a message asks for, or an error with a specific code before anything is sent. */
export function requestOf(msg: RequestMessage, fixed: Fixed, signal: AbortSignal, t: Translate): TransferRequest {
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
    // The client's one body codec gives it its Content-Type (JSON: application/json) unless msg.headers set one.
    req.body = bodyOf(msg.payload, t);
  }
  return req;
}

export function methodOf(value: unknown, t: Translate, what: string): HttpMethod {
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

export function secondsToMs(value: unknown): number | undefined {
  const n = numberOf(value);
  return n !== undefined && n > 0 ? Math.min(n * 1000, MAX_TIMEOUT_MS) : undefined;
}

/**
 * msg.payload as a body: nothing, a string, a Buffer, or anything else JSON can hold, encoded once
 * here by the client's codec (so its size is known for the upload limit check) with this node's words
 * for what JSON cannot hold.
 */
function bodyOf(payload: unknown, t: Translate): string | Buffer | EncodedBody | undefined {
  if (payload === undefined || payload === null) return undefined;
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (typeof payload === 'number' || typeof payload === 'boolean' || typeof payload === 'object') {
    // JSON would turn NaN and Infinity into null: refuse rather than send another value.
    if (typeof payload === 'number' && !Number.isFinite(payload)) throw new InvalidArgumentError(t('errors.payload-json'), 'OE_INVALID_PAYLOAD');
    try {
      return encodeBody(payload);
    } catch {
      throw new InvalidArgumentError(t('errors.payload-json'), 'OE_INVALID_PAYLOAD');
    }
  }
  throw new InvalidArgumentError(t('errors.payload-type', { type: typeof payload }), 'OE_INVALID_PAYLOAD');
}

/** The answer as the node's "return" option asks; JSON that does not parse stays text, as in the core node. */
export function decode(body: Buffer, ret: ReturnType, head: boolean, notJson: () => void): unknown {
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
