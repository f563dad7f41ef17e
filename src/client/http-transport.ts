// The fast path: printer requests, command API calls and the App APIs (Info, Gadget status every
// 10 s of a print, Live Links, webhooks) on Node's own http/https and the connection's keep-alive
// agent, without an HTTP client library. It does what axios did for them, the same on the wire and in
// the errors (headers, body encoding, decompression, size cap, abort), at about a third of its CPU
// per request (docs/benchmarks.md). The rare calls (the Failure Detection API once an interval, the
// local plugin probe) keep axios.
import http from 'node:http';
import https from 'node:https';
import { finished, pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import axios from 'axios';
import type { Deadline } from './deadline';
import { TransportError } from './network-errors';

/** The headers every request carried under axios, kept so that a printer sees the same request. */
const DEFAULT_ACCEPT = 'application/json, text/plain, */*';
const USER_AGENT = `axios/${axios.VERSION}`;
const canZstd = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
const ACCEPT_ENCODING = 'gzip, compress, deflate, br';
const ZLIB_OPTIONS = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BROTLI_OPTIONS = { flush: zlib.constants.BROTLI_OPERATION_FLUSH, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH };

export interface WireRequest {
  url: string;
  method: string;
  /** Caller headers, in order; later names win over earlier ones in any case, the first spelling stays. */
  headers: Record<string, string | number | undefined>;
  data: Buffer | string | Readable | undefined;
  /** The content type the body codec gave `data` (a JSON body it encoded itself needs no second look). */
  encodedAs?: string;
  agent: http.Agent;
  /** Ends the request (its time, the caller's signal): the request and its socket are destroyed. */
  deadline: Deadline;
  stream: boolean;
  /** Bytes the answer may have; -1 for no bound. */
  maxContentLength: number;
  /** Sees the answer's head before its body is read; throwing (or rejecting) drops the answer and its socket. */
  checkHead?: (res: http.IncomingMessage) => void | Promise<void>;
}

export interface WireResponse {
  status: number;
  /** Lower-case names, one string each (repeated headers joined with ", "). */
  headers: Record<string, string>;
  data: Buffer | Readable;
}

/** A head check that refused the answer: the caller gets its error as it is. */
export class Refused {
  constructor(readonly error: unknown) {}
}

/** Sends one request and reads its answer: a Buffer, or (stream) the body for the caller to read. */
export function send(req: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const { deadline } = req;
    if (deadline.aborted) {
      reject(canceled());
      return;
    }
    let settled = false;
    let body: Readable | undefined;
    let request: http.ClientRequest | undefined;
    const onAbort = (): void => {
      const err = canceled();
      fail(err);
      request?.destroy(err);
      // A body being read sees the cancellation at once, as its error.
      if (body && !body.destroyed) {
        body.emit('error', err);
        body.destroy();
      }
    };
    const release = (): void => deadline.onCancel(undefined);
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      release();
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- transport errors and Refused, mapped by the caller
      reject(err);
    };
    const succeed = (res: WireResponse): void => {
      if (settled) return;
      settled = true;
      // A streamed body can still be cancelled until it ends.
      if (res.data instanceof Readable) finished(res.data, release);
      else release();
      resolve(res);
    };
    deadline.onCancel(onAbort);

    let data = req.data;
    const headers = requestHeaders(req.headers);
    if (typeof data === 'string') {
      const text = req.encodedAs === 'application/json' ? data : jsonQuirk(data, headers);
      // An empty string is no body (no Content-Length); an empty Buffer is one of 0 bytes.
      data = text === '' ? undefined : Buffer.from(text, 'utf8');
    }
    if (Buffer.isBuffer(data)) headers.setDefault('content-length', 'Content-Length', String(data.length));
    headers.setDefault('accept-encoding', 'Accept-Encoding', ACCEPT_ENCODING);

    let target: URL;
    try {
      target = new URL(req.url);
    } catch (err) {
      fail(err);
      return;
    }
    const secure = target.protocol === 'https:';
    try {
      request = (secure ? https : http).request(
        {
          protocol: target.protocol,
          hostname: target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: req.method,
          headers: headers.values,
          agent: req.agent,
          insecureHTTPParser: false,
        },
        (res) => onResponse(res),
      );
    } catch (err) {
      fail(err);
      return;
    }
    const sent = request;
    sent.on('error', fail);

    const onResponse = (res: http.IncomingMessage): void => {
      if (settled || sent.destroyed) return;
      let pending: void | Promise<void>;
      const refuse = (err: unknown): void => {
        fail(new Refused(err));
        sent.destroy(err instanceof Error ? err : new Error(String(err)));
      };
      try {
        pending = req.checkHead?.(res);
      } catch (err) {
        refuse(err);
        return;
      }
      if (pending) {
        pending.then(() => {
          if (!settled && !sent.destroyed) read(res);
        }, refuse);
      } else read(res);
    };

    const read = (res: http.IncomingMessage): void => {
      const status = res.statusCode ?? 0;
      const { stream, encoding } = decompressed(res, req.method, status);
      body = stream;
      const out = flattenHeaders(res.headers, encoding);
      if (req.stream) {
        if (req.maxContentLength > -1) body = capped(stream, req.maxContentLength);
        succeed({ status, headers: out, data: body });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (req.maxContentLength > -1 && size > req.maxContentLength && !over) {
          over = true;
          stream.destroy();
          const err = tooLarge(req.maxContentLength);
          fail(err);
          sent.destroy(err);
        }
      });
      stream.on('aborted', () => {
        if (over) return;
        const err = new TransportError('stream has been aborted', 'ERR_BAD_RESPONSE');
        stream.destroy(err);
        fail(err);
      });
      stream.on('error', (err) => {
        if (!over) fail(err);
      });
      stream.on('end', () => succeed({ status, headers: out, data: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
    };

    if (data instanceof Readable) {
      const upload = data;
      let ended = false;
      let errored = false;
      upload.on('end', () => {
        ended = true;
      });
      upload.once('error', (err) => {
        errored = true;
        sent.destroy(err);
      });
      upload.on('close', () => {
        if (!ended && !errored) {
          const err = new TransportError('Request stream has been aborted', 'ERR_CANCELED');
          fail(err);
          sent.destroy(err);
        }
      });
      upload.pipe(sent);
    } else if (data) {
      sent.end(data);
    } else sent.end();
  });
}

function canceled(): TransportError {
  return new TransportError('canceled', 'ERR_CANCELED');
}

function tooLarge(max: number): TransportError {
  return new TransportError(`maxContentLength size of ${max} exceeded`, 'ERR_BAD_RESPONSE');
}

/** The request's headers: a default Accept first, the caller's (merged by name in any case), then a User-Agent unless given. */
function requestHeaders(given: WireRequest['headers']): HeaderSet {
  const set = new HeaderSet();
  set.values.Accept = DEFAULT_ACCEPT;
  set.index.accept = 'Accept';
  // axios's defaults held a Content-Type slot right after Accept: a caller's Content-Type, in any
  // case, went there, spelled so.
  set.index['content-type'] = 'Content-Type';
  set.values['Content-Type'] = undefined as unknown as string;
  for (const name in given) {
    const value = given[name];
    if (value !== undefined) set.set(name, String(value));
  }
  set.setDefault('user-agent', 'User-Agent', USER_AGENT);
  if (set.values['Content-Type'] === undefined) delete set.values['Content-Type'];
  return set;
}

/** Header names to values, one entry per name in any case: the first spelling, the last value. */
class HeaderSet {
  // No prototype: a header named `constructor` or `__proto__` is only a header.
  readonly values: Record<string, string> = Object.create(null) as Record<string, string>;
  /** Lower-case name → the spelling in `values`. */
  readonly index: Record<string, string> = Object.create(null) as Record<string, string>;

  set(name: string, value: string): void {
    const lower = name.toLowerCase();
    const key = (this.index[lower] ??= name);
    this.values[key] = headerValue(value);
  }

  /** Our own header (`lower` its lower-case name, `value` already clean), unless the caller set it. */
  setDefault(lower: string, name: string, value: string): void {
    if (lower in this.index) return;
    this.index[lower] = name;
    this.values[name] = value;
  }

  get(lower: string): string | undefined {
    const key = this.index[lower];
    return key === undefined ? undefined : this.values[key];
  }
}

const NOT_HEADER_BYTE = /[^\t\x20-\x7e\x80-\xff]/;
const NOT_HEADER_BYTES = /[^\t\x20-\x7e\x80-\xff]+/g;

/** A value as sent: characters a header cannot carry dropped, spaces and tabs trimmed (as axios did). */
function headerValue(value: string): string {
  const clean = NOT_HEADER_BYTE.test(value) ? value.replace(NOT_HEADER_BYTES, '') : value;
  return trimSpaceTab(clean);
}

function trimSpaceTab(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isSpaceOrTab(text.charCodeAt(start))) start++;
  while (end > start && isSpaceOrTab(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

const isSpaceOrTab = (code: number): boolean => code === 0x20 || code === 0x09;

/**
 * A text body sent with a JSON Content-Type, as axios sent it: valid JSON trimmed, anything else sent
 * as a JSON string. Kept so that a flow's upload does not change with the transport.
 */
function jsonQuirk(text: string, headers: HeaderSet): string {
  if (!(headers.get('content-type') ?? '').includes('application/json')) return text;
  try {
    JSON.parse(text);
    return text.trim();
  } catch {
    return JSON.stringify(text);
  }
}

/** The body, decoded when the answer is compressed; `encoding` is the Content-Encoding header it removed. */
function decompressed(res: http.IncomingMessage, method: string, status: number): { stream: Readable; encoding: boolean } {
  const declared = res.headers['content-encoding'];
  if (!declared) return { stream: res, encoding: false };
  // No body, though the header says encoded: the header goes, nothing to decode.
  if (method === 'HEAD' || status === 204) return { stream: res, encoding: true };
  let decoders: Transform[];
  switch (declared.toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
    case 'compress':
    case 'x-compress':
      decoders = [zlib.createUnzip(ZLIB_OPTIONS)];
      break;
    case 'deflate':
      decoders = [new ZlibHeader(), zlib.createUnzip(ZLIB_OPTIONS)];
      break;
    case 'br':
      decoders = [zlib.createBrotliDecompress(BROTLI_OPTIONS)];
      break;
    case 'zstd':
      if (!canZstd) return { stream: res, encoding: false };
      decoders = [zstdDecoder()];
      break;
    default:
      return { stream: res, encoding: false };
  }
  const streams: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [res, ...decoders];
  return { stream: pipeline(streams as [Readable, ...Transform[]], () => undefined) as unknown as Readable, encoding: true };
}

function zstdDecoder(): Transform {
  const z = zlib as unknown as { createZstdDecompress: (o: object) => Transform; constants: Record<string, number> };
  return z.createZstdDecompress({ flush: z.constants.ZSTD_e_flush, finishFlush: z.constants.ZSTD_e_flush });
}

/** A raw deflate body (no zlib header, as some servers send) gets the default one, so it inflates. */
class ZlibHeader extends Transform {
  #first = true;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#first && chunk.length !== 0) {
      this.#first = false;
      if (chunk[0] !== 0x78) this.push(Buffer.from([0x78, 0x9c]));
    }
    this.push(chunk);
    callback();
  }
}

/** A streamed body that fails once more than `max` bytes came. */
function capped(stream: Readable, max: number): Readable {
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > max) callback(tooLarge(max));
      else callback(null, chunk);
    },
  });
  return pipeline(stream, counter, () => undefined);
}

/** Node's answer headers as one string per lower-case name, without a Content-Encoding that was decoded. */
function flattenHeaders(headers: http.IncomingHttpHeaders, decoded: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    if (decoded && name === 'content-encoding') continue;
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(answerValue).join(', ') : answerValue(value);
  }
  return out;
}

// eslint-disable-next-line no-control-regex -- control characters other than tab
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]+/g;

// eslint-disable-next-line no-control-regex -- the same, any one
const HAS_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

function answerValue(value: string): string {
  return trimSpaceTab(HAS_CONTROL.test(value) ? value.replace(CONTROL, '') : value);
}
