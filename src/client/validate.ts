// Input checks shared by every request: a path can never steer a request off the printer's host, and
// no header can smuggle a line break or replace the connection's own authentication.
import { InvalidArgumentError } from './errors';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Headers the connection owns: set by it, or describing the connection rather than the request. */
const RESERVED = new Set([
  'host',
  'authorization',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'proxy-authorization',
  'te',
  'trailer',
]);

/**
 * A printer request's path and caller headers, as checked: made only by checking them, so whoever
 * holds one (AppConnection.request) sends them without checking again.
 */
export class PrinterTarget {
  readonly path: string;
  readonly headers: Record<string, string>;

  constructor(path: unknown, headers: unknown) {
    this.path = checkPrinterPath(path);
    this.headers = checkHeaders(headers);
  }
}

/**
 * A path relative to the printer's root, e.g. `/api/job?x=1`. Refuses anything that could name
 * another host or climb out of the root: absolute URLs, `//host`, backslashes, `..` segments (also
 * percent-encoded) and control characters. Spaces are encoded for convenience.
 */
export function checkPrinterPath(path: unknown): string {
  if (typeof path !== 'string' || path.trim() === '') {
    throw new InvalidArgumentError('The printer path is missing; give one such as /api/job.', 'OE_INVALID_PATH');
  }
  if (CONTROL.test(path)) throw new InvalidArgumentError('The printer path contains a control character or line break.', 'OE_INVALID_PATH');
  if (path.includes('\\')) throw new InvalidArgumentError('The printer path must not contain a backslash.', 'OE_INVALID_PATH');
  if (!path.startsWith('/')) {
    throw new InvalidArgumentError('The printer path must start with "/" and be relative to the printer (no http:// URL).', 'OE_INVALID_PATH');
  }
  if (path.startsWith('//')) throw new InvalidArgumentError('The printer path must not start with "//".', 'OE_INVALID_PATH');
  const end = path.search(/[?#]/);
  const pathname = end === -1 ? path : path.slice(0, end);
  for (const segment of pathname.split('/')) {
    // Only an encoded segment can hide a dot segment, a slash or a control character (the raw path
    // has none of the last two): the others need no decoding, which keeps the check cheap enough to
    // run on every request without a cache.
    const decoded = segment.includes('%') ? decodeSegment(segment) : segment;
    if (decoded === '..' || decoded === '.' || (decoded !== segment && (/[\\/]/.test(decoded) || CONTROL.test(decoded)))) {
      throw new InvalidArgumentError('The printer path must not contain "..", "." or encoded slashes.', 'OE_INVALID_PATH');
    }
  }
  return path.includes(' ') || path.includes('#') ? path.replace(/ /g, '%20').replace(/#.*$/, '') : path;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidArgumentError('The printer path has an invalid percent-encoding.', 'OE_INVALID_PATH');
  }
}

/**
 * Caller headers as strings. Names must be HTTP tokens and values must not break a line; the
 * headers the connection owns (Host, Authorization, Content-Length …) are dropped.
 */
export function checkHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  if (typeof headers !== 'object' || Array.isArray(headers)) {
    throw new InvalidArgumentError('The headers must be an object of header names to values.', 'OE_INVALID_HEADER');
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    if (!TOKEN.test(name)) throw new InvalidArgumentError('A header name contains a character HTTP does not allow.', 'OE_INVALID_HEADER');
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new InvalidArgumentError(`The header "${name}" must be a string or a number.`, 'OE_INVALID_HEADER');
    }
    const text = String(value);
    if (CONTROL.test(text.replace(/\t/g, ''))) {
      throw new InvalidArgumentError(`The header "${name}" contains a line break or control character.`, 'OE_INVALID_HEADER');
    }
    if (RESERVED.has(name.toLowerCase())) continue;
    out[name] = text;
  }
  return out;
}

/** A finite number within [min, max], or an InvalidArgumentError naming the argument. */
export function checkNumber(value: unknown, name: string, min: number, max: number, integer = false): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new InvalidArgumentError(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}.`);
  }
  if (n < min || n > max) throw new InvalidArgumentError(`${name} must be from ${min} to ${max}; got ${n}.`);
  return n;
}

export function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError(`${name} must be true or false.`);
}

export function checkString(value: unknown, name: string, maxLength = 1024): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidArgumentError(`${name} is missing.`);
  if (value.length > maxLength) throw new InvalidArgumentError(`${name} is longer than ${maxLength} characters.`);
  if (CONTROL.test(value)) throw new InvalidArgumentError(`${name} contains a control character.`);
  return value;
}

/**
 * WebSocket subprotocols as offered on a handshake: tokens (RFC 6455 §4.1), each once. Refused here
 * rather than by `ws` at connect time, where it would be a network failure retried for ever.
 */
export function checkSubprotocols(protocols: unknown): string[] {
  if (protocols === undefined) return [];
  if (!Array.isArray(protocols)) throw new InvalidArgumentError('The subprotocols must be a list of names.', 'OE_INVALID_SUBPROTOCOL');
  const seen = new Set<string>();
  for (const p of protocols) {
    if (typeof p !== 'string' || !TOKEN.test(p)) {
      throw new InvalidArgumentError(
        "A subprotocol name may hold only letters, digits and !#$%&'*+-.^_`|~ (no spaces, commas or quotes).",
        'OE_INVALID_SUBPROTOCOL',
      );
    }
    if (seen.has(p)) throw new InvalidArgumentError(`The subprotocol "${p}" is listed twice.`, 'OE_INVALID_SUBPROTOCOL');
    seen.add(p);
  }
  return protocols as string[];
}
