// Request and answer bodies, each rule once: what a value becomes on the wire and the Content-Type it
// implies (user data is written as JSON only here, `jsonText`), the caller's own Content-Type winning
// over that default, and how an answer's bytes are read back (JSON by its media type, text, or bytes).
import { Readable } from 'node:stream';
import { InvalidArgumentError, OctoEverywhereError } from './errors';

export type ResponseType = 'auto' | 'json' | 'text' | 'buffer' | 'stream';

/** A body ready for the wire. Made by encodeBody(); encoding one again returns it as it is. */
export class EncodedBody {
  constructor(
    readonly data: Buffer | string | Readable | undefined,
    /** The type the value implies; a Content-Type the caller set wins (withContentType). */
    readonly contentType?: string,
    /** Bytes, when known before sending (a stream's only when the caller said). */
    readonly length?: number,
  ) {}
}

const NO_BODY = new EncodedBody(undefined);

/**
 * A request body as sent: object (or number, boolean) → JSON, Buffer/Uint8Array → bytes, string →
 * text, Readable → streamed (`streamLength` bytes when the caller knows it: then sent with a
 * Content-Length instead of chunked).
 */
export function encodeBody(body: unknown, streamLength?: number): EncodedBody {
  if (body instanceof EncodedBody) return body;
  if (body === undefined || body === null) return NO_BODY;
  if (Buffer.isBuffer(body)) return new EncodedBody(body, 'application/octet-stream', body.length);
  if (body instanceof Uint8Array) return encodeBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  if (body instanceof Readable) {
    const known = typeof streamLength === 'number' && Number.isInteger(streamLength) && streamLength >= 0;
    return new EncodedBody(body, 'application/octet-stream', known ? streamLength : undefined);
  }
  if (typeof body === 'string') return new EncodedBody(body, 'text/plain; charset=utf-8', Buffer.byteLength(body));
  if (typeof body === 'number' || typeof body === 'boolean' || typeof body === 'object') {
    const json = toJson(body);
    return new EncodedBody(json, 'application/json', Buffer.byteLength(json));
  }
  throw new InvalidArgumentError(`A request body of type ${typeof body} cannot be sent; use an object, a string or a Buffer.`);
}

/**
 * A value as JSON text, or undefined when JSON cannot hold it (a cycle or a BigInt, where
 * JSON.stringify throws; a function or a symbol, where it gives nothing). The package's one
 * JSON.stringify of user data: request bodies here, socket frames and MQTT payloads in the nodes,
 * each of which says in its own words (and code) what could not be sent.
 */
export function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value); // typed string, but undefined for a function or a symbol
  } catch {
    return undefined;
  }
}

/** A request body's JSON, with what JSON cannot hold as an argument error instead of a crash. */
function toJson(value: unknown): string {
  const json = jsonText(value);
  if (json === undefined) {
    throw new InvalidArgumentError(
      'The request body cannot be sent as JSON (it has a cycle or a BigInt); send an object of plain values.',
      'OE_INVALID_PAYLOAD',
    );
  }
  return json;
}

/** The request's headers with the body's Content-Type added, unless the caller set one (any case). */
export function withContentType<H extends Record<string, unknown>>(headers: H, body: EncodedBody): H {
  if (body.contentType && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
    (headers as Record<string, unknown>)['Content-Type'] = body.contentType;
  }
  return headers;
}

const JSON_TYPE = /^(application|text)\/([\w.+-]*\+)?json\b/i;

/** Whether a Content-Type names JSON (application/json, text/json, application/…+json). */
export function isJsonType(contentType: string | undefined): boolean {
  return contentType !== undefined && JSON_TYPE.test(contentType);
}

/** An answer read into memory, as `responseType` asks; `auto` goes by its Content-Type. */
export function decodeBody(data: Buffer, contentType: string | undefined, responseType: ResponseType): unknown {
  const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data ?? []);
  switch (responseType) {
    case 'buffer':
      return buffer;
    case 'text':
      return buffer.toString('utf8');
    case 'json':
      return buffer.length === 0 ? undefined : parseJson(buffer, "The printer's answer");
    default:
      if (isJsonType(contentType)) {
        if (buffer.length === 0) return undefined;
        return tryParseJson(buffer) ?? buffer.toString('utf8');
      }
      if (!contentType || /^text\/|xml|javascript|x-www-form-urlencoded/i.test(contentType)) return buffer.toString('utf8');
      return buffer;
  }
}

/** JSON bytes or text, or OE_INVALID_RESPONSE naming `what`. */
export function parseJson(data: Buffer | string, what: string): unknown {
  const value = tryParseJson(data);
  if (value === undefined) throw new OctoEverywhereError('OE_INVALID_RESPONSE', `${what} is not valid JSON.`, { kind: 'temporary' });
  return value;
}

/** JSON bytes or text, or undefined when they are not JSON (or empty). */
export function tryParseJson(data: Buffer | string): unknown {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
