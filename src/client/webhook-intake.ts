// Receiving OctoEverywhere webhook deliveries (docs/octoeverywhere.md §5) without any web framework: the per-receiver
// token and SecretKey checks, bounded body reading, parsing into a PrinterEvent, and de-duplication.
// Deliveries carry no signature, so a secret in the URL (and, for user webhooks, the SecretKey) is
// all that tells a real delivery from anyone else's POST.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, OctoEverywhereError } from './errors';
import { eventFromWebhook, EVENT_TYPES, type PrinterEvent } from './events';
import { baseUrlString, parseBaseUrl } from './urls';
import { isObject } from './values';

/** Deliveries are a few hundred bytes; anything near this bound is not one. */
export const DEFAULT_WEBHOOK_MAX_BYTES = 64 * 1024;
/**
 * Deliveries are flat objects. Deeper nesting is refused before the answer: the de-duplication key
 * (JSON.stringify) and message cloning recurse, and would otherwise fail after the 200.
 */
export const MAX_DELIVERY_DEPTH = 32;
/** 256 bits of randomness; 22 base64url characters (128 bits) is the least a token may have. */
const TOKEN_BYTES = 32;
const STRONG_TOKEN = /^[A-Za-z0-9_-]{22,256}$/;
/** Path segments only, no Express route syntax (`:`, `*`, `(`), no dot segments. */
const WEBHOOK_PATH = /^(\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+$/;
/** What a delivery may be labelled as: JSON, or plain text holding JSON, or nothing at all. */
const JSON_MEDIA = /^(application\/(json|[a-z0-9.+-]+\+json)|text\/(json|plain))$/;
/** Parts of a delivery that may differ between two sends of the same event. */
const VOLATILE_FIELDS = new Set(['SecretKey', 'SnapshotUrl', 'QuickViewUrl']);

/** Why a delivery was refused: `httpStatus` is what the sender is answered. */
export class WebhookRejection extends OctoEverywhereError {
  override name = 'WebhookRejection';
  constructor(
    code: string,
    readonly httpStatus: number,
    message: string,
  ) {
    super(code, message, { kind: 'permanent', status: httpStatus });
  }
}

export function generateWebhookToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** A token good enough to guard a public endpoint (at least 128 bits of base64url). */
export function isStrongWebhookToken(value: unknown): value is string {
  return typeof value === 'string' && STRONG_TOKEN.test(value);
}

/**
 * Constant-time comparison of a configured secret with a presented one. Both are hashed first so
 * the comparison runs on equal-length digests and leaks neither content nor length.
 */
export function secretsEqual(expected: string, presented: unknown): boolean {
  const given = typeof presented === 'string' ? presented : '';
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(given, 'utf8').digest();
  // The digest comparison always runs; the other terms depend on configuration, not on the request.
  return timingSafeEqual(a, b) && expected !== '' && typeof presented === 'string';
}

/** The one `token` query parameter of a request URL; absent or repeated counts as missing. */
export function tokenFromUrl(requestUrl: string): string | undefined {
  const q = requestUrl.indexOf('?');
  if (q < 0) return undefined;
  const values = new URLSearchParams(requestUrl.slice(q + 1)).getAll('token');
  return values.length === 1 ? values[0] : undefined;
}

/** Checks the URL token; throws the 401 rejection (the same for missing and wrong). */
export function checkToken(expected: string, requestUrl: string): void {
  if (!secretsEqual(expected, tokenFromUrl(requestUrl))) {
    throw new WebhookRejection('OE_WEBHOOK_UNAUTHORIZED', 401, 'The webhook token is missing or wrong.');
  }
}

/** A user webhook's SecretKey, when one is configured: the body must carry the same. */
export function checkSecretKey(expected: string | undefined, body: Record<string, unknown>): void {
  if (!expected) return;
  if (!secretsEqual(expected, body.SecretKey)) {
    throw new WebhookRejection('OE_WEBHOOK_UNAUTHORIZED', 401, "The delivery's SecretKey is missing or wrong.");
  }
}

/** Refuses bodies labelled as something other than JSON (forms, multipart, binary). No label is accepted. */
export function checkContentType(headers: IncomingHttpHeaders): void {
  const header = headers['content-type'];
  if (header === undefined || header.trim() === '') return;
  const media = header.split(';')[0].trim().toLowerCase();
  if (!JSON_MEDIA.test(media)) {
    throw new WebhookRejection('OE_WEBHOOK_CONTENT_TYPE', 415, 'A webhook delivery must be JSON.');
  }
}

/** A delivery over the size bound, however it was read (here, or by a parser in front of the route). */
export function tooLarge(maxBytes: number): WebhookRejection {
  return new WebhookRejection('OE_WEBHOOK_TOO_LARGE', 413, `The delivery is larger than ${maxBytes} bytes.`);
}

/**
 * Reads a request body of at most `maxBytes`. A declared Content-Length over the bound is refused
 * before reading; a body that grows past it is refused as soon as it does. `signal` ends a slow
 * sender (408). The stream is left paused on refusal: the caller answers and closes the socket.
 */
export function readBoundedBody(req: Readable & { headers: IncomingHttpHeaders }, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | undefined): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) finish(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    const onError = (): void => finish(new WebhookRejection('OE_WEBHOOK_ABORTED', 400, 'The delivery was cut off.'));
    const onClose = (): void => {
      if (!req.readableEnded) onError();
    };
    const onAbort = (): void => finish(new WebhookRejection('OE_WEBHOOK_TIMEOUT', 408, 'The delivery took too long to arrive.'));
    if (signal?.aborted) {
      onAbort();
      return;
    }
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface Delivery {
  /** The body as sent (it may hold the SecretKey: never pass it on). */
  body: Record<string, unknown>;
  event: PrinterEvent;
}

/**
 * Refuses (400) a value nested deeper than `maxDepth` arrays and objects. Iterative, so a hostile
 * depth cannot overflow the stack here.
 */
export function checkDepth(value: unknown, maxDepth = MAX_DELIVERY_DEPTH): void {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const [v, depth] = item;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > maxDepth) {
      throw new WebhookRejection('OE_WEBHOOK_TOO_DEEP', 400, `The delivery is nested deeper than ${maxDepth} levels.`);
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
    }
  }
}

/**
 * A delivery body as a PrinterEvent; 400 when it is not JSON, nested too deep or not an event. Everything
 * that can refuse a delivery runs here or before, so what is answered 200 can be sent on.
 */
export function parseDelivery(raw: Buffer | string | Record<string, unknown>): Delivery {
  let body: unknown = raw;
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) {
    try {
      body = JSON.parse(raw.toString());
    } catch {
      throw new WebhookRejection('OE_WEBHOOK_BAD_JSON', 400, 'The delivery is not valid JSON.');
    }
  }
  checkDepth(body);
  const event = isObject(body) ? eventFromWebhook(body) : undefined;
  if (!isObject(body) || !event) {
    throw new WebhookRejection('OE_WEBHOOK_NOT_AN_EVENT', 400, 'The delivery is not an OctoEverywhere event (no EventType).');
  }
  return { body, event };
}

/** A webhook path under Node-RED's HTTP root: plain segments, so it is never read as an Express pattern. */
export function checkWebhookPath(value: unknown): string {
  const path = typeof value === 'string' ? value.trim().replace(/\/+$/, '') : '';
  if (!WEBHOOK_PATH.test(path) || path.split('/').some((s) => s === '.' || s === '..')) {
    throw new InvalidArgumentError(
      'The webhook path must start with "/" and contain only letters, digits and . _ ~ - between slashes.',
      'OE_INVALID_WEBHOOK_PATH',
    );
  }
  return path;
}

/**
 * The URL OctoEverywhere calls: the public base of this Node-RED (https; http only for this machine,
 * for local tests), Node-RED's HTTP root, the node's path and the token.
 */
export function webhookUrl(publicUrl: string, httpRoot: string, path: string, token: string): string {
  const base = baseUrlString(parseBaseUrl(publicUrl, 'public URL of this Node-RED'));
  const root = httpRoot.replace(/\/+$/, '');
  return `${base}${root}${checkWebhookPath(path)}?token=${encodeURIComponent(token)}`;
}

/** Event names (the shared vocabulary) as EventType numbers; unknown names are returned apart. */
export function eventTypesFromNames(names: readonly string[]): { types: number[]; unknown: string[] } {
  const types: number[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const type = EVENT_TYPES[name];
    if (type === undefined) unknown.push(name);
    else if (!types.includes(type)) types.push(type);
  }
  return { types: types.sort((a, b) => a - b), unknown };
}

const TEST_NOTIFICATION = EVENT_TYPES.test;

/**
 * Drops a delivery identical to one seen within the window (a resend). Identity is a hash of the
 * body without its volatile fields; memory is bounded by `maxEntries`. Test notifications always
 * pass: the user asked for each one.
 */
export class DeliveryDeduper {
  /** Key → time it was seen; insertion order is time order, so expiry trims from the front. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly maxEntries = 1000,
  ) {}

  /** True when the delivery repeats one inside the window; otherwise remembers it. */
  isRepeat(delivery: Delivery): boolean {
    if (delivery.event.eventType === TEST_NOTIFICATION) return false;
    const now = this.now();
    for (const [key, at] of this.seen) {
      if (now - at < this.windowMs && this.seen.size <= this.maxEntries) break;
      this.seen.delete(key);
    }
    const key = deliveryKey(delivery.body);
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.windowMs) return true;
    this.seen.delete(key);
    this.seen.set(key, now);
    while (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value as string);
    return false;
  }

  get size(): number {
    return this.seen.size;
  }
}

function deliveryKey(body: Record<string, unknown>): string {
  const stable = Object.keys(body)
    .filter((k) => !VOLATILE_FIELDS.has(k))
    .sort()
    .map((k) => [k, body[k]]);
  return createHash('sha256').update(JSON.stringify(stable)).digest('base64url');
}
