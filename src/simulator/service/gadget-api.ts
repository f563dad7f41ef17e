// The Gadget AI Failure Detection API (docs/octoeverywhere.md §10) on the simulator's own loopback hosts:
// `gadget-pv1-oeapi.localhost` (createcontext, and the fallback process URL) and
// `gadget-regional.localhost` (the process URL a context names first). Same shapes and ErrorTypes as
// production; it scores deterministically from the rating the simulator's webcam frames carry.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimClock } from '../contract';
import { readMark } from '../printers/gadget-marker';
import { readBody } from '../printers/http';
import { parseMultipart } from '../printers/multipart';
import { sendJson } from './http-util';

export const GADGET_PRIMARY_LABEL = 'gadget-pv1-oeapi';
export const GADGET_REGIONAL_LABEL = 'gadget-regional';
export type GadgetHost = typeof GADGET_PRIMARY_LABEL | typeof GADGET_REGIONAL_LABEL;
const CREATE_PATH = '/api/gadget/v1/createcontext';
const PROCESS_PREFIX = '/api/gadget/v1/process/';
/** Production states no image limit; the simulator reads at most this much. */
const MAX_IMAGE_BYTES = 16 * 1024 * 1024;
/** A frame rated at or below this (1 failure … 10 perfect) looks like a failure. */
const BAD_RATING = 3;
/** What an unmarked JPEG (any other camera) scores: "Looking Great". */
const UNMARKED_RATING = 8;

/** The Gadget host a Host header names (`gadget-regional.localhost:port` → `gadget-regional`), or undefined. */
export function gadgetHostLabel(host: string | undefined): GadgetHost | undefined {
  if (!host || (host.charCodeAt(0) | 0x20) !== 0x67) return undefined; // 'g': cheap pre-check for the relay's hot path
  const label = host.slice(0, host.indexOf('.') < 0 ? 0 : host.indexOf('.')).toLowerCase();
  return label === GADGET_PRIMARY_LABEL || label === GADGET_REGIONAL_LABEL ? label : undefined;
}

export type GadgetKeyState = 'ok' | 'disabled' | 'blocked';

export interface GadgetApiKnobs {
  /** NextProcessIntervalSec of every answer (production: ≥ 20, ~40 typical). Default 40. */
  intervalSec: number;
  /** The regional host drops every connection unanswered, so clients must use the fallback URL. */
  regionalDown: boolean;
}

/** One request the simulated API received, as tests count them. */
export interface GadgetApiCall {
  kind: 'create' | 'process';
  host: GadgetHost;
  /** Simulated ms. */
  at: number;
  contextId?: string;
  /** 200, or the HTTP status of the ErrorType answer; 0 for a dropped connection. */
  status: number;
  errorType?: string;
  /** The key the call carried was a known one (never the key itself). */
  keyKnown: boolean;
}

interface ScriptedFailure {
  /** An ErrorType to answer with, or 'drop' to destroy the connection unanswered. */
  errorType: string;
  status: number;
  kind?: 'create' | 'process';
}

interface SimContext {
  id: string;
  key: string;
  warningLevel: number;
  pauseLevel: number;
  ratings: number[];
  /** No process call before this (simulated ms): the interval the last answer asked for. */
  notBefore: number;
}

class GadgetApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    readonly details: string,
  ) {
    super(details);
  }
}

/** HTTP status per ErrorType: production does not document them ("many different HTTP error codes"), these are plausible. */
const STATUS_OF: Readonly<Record<string, number>> = {
  OE_BAD_ARGS: 400,
  OE_ARGS_PARSE_FAILED: 400,
  OE_IMAGE_DECODE_FAILED: 400,
  OE_INVALID_API_KEY: 401,
  OE_API_KEY_BLOCKED_PAYMENT_FAILED: 402,
  OE_API_KEY_DISABLED: 403,
  OE_CONTEXT_RATE_LIMITED: 429,
  OE_INTERNAL_ERROR: 500,
  OE_BACKEND_THROTTLED: 503,
};

export class SimGadgetApi {
  readonly knobs: GadgetApiKnobs = { intervalSec: 40, regionalDown: false };
  readonly calls: GadgetApiCall[] = [];
  private readonly keys = new Map<string, GadgetKeyState>();
  private readonly contexts = new Map<string, SimContext>();
  private readonly scripted: ScriptedFailure[] = [];
  /** Answers held back until released (a call in flight for as long as a test needs). */
  private readonly held: Array<{ kind?: 'create' | 'process'; until: Promise<void> }> = [];

  constructor(
    private readonly clock: SimClock,
    /** `http://<label>.localhost:<port>` */
    private readonly origin: (label: GadgetHost) => string,
  ) {}

  /** The base URL clients configure instead of https://gadget-pv1-oeapi.octoeverywhere.com. */
  get url(): string {
    return this.origin(GADGET_PRIMARY_LABEL);
  }

  /** A developer API key that works (a new random one unless given). */
  addKey(key = `oe-sim-gadget-${randomBytes(18).toString('hex')}`): string {
    this.keys.set(key, 'ok');
    return key;
  }

  /** 'disabled' → OE_API_KEY_DISABLED, 'blocked' → OE_API_KEY_BLOCKED_PAYMENT_FAILED, on both calls. */
  setKeyState(key: string, state: GadgetKeyState): void {
    if (!this.keys.has(key)) throw new RangeError('unknown simulated Gadget API key');
    this.keys.set(key, state);
  }

  /**
   * The next `count` calls (of `kind`, or any) get `errorType` (with `status`, default the table's)
   * instead of their answer, after the key was checked; 'drop' destroys the connection unanswered.
   */
  failNext(errorType: string, options: { status?: number; count?: number; kind?: 'create' | 'process' } = {}): void {
    for (let i = 0; i < (options.count ?? 1); i++) {
      this.scripted.push({ errorType, status: options.status ?? STATUS_OF[errorType] ?? 500, kind: options.kind });
    }
  }

  /**
   * The next call (of `kind`, or any) is received and counted at once but answered only after
   * `release()`: a call in flight for as long as a test needs (a redeploy meanwhile, say).
   */
  holdNext(kind?: 'create' | 'process'): { release(): void } {
    let release = (): void => undefined;
    const until = new Promise<void>((resolve) => (release = resolve));
    this.held.push({ kind, until });
    return { release: () => release() };
  }

  processCalls(): GadgetApiCall[] {
    return this.calls.filter((c) => c.kind === 'process');
  }

  async handle(req: IncomingMessage, res: ServerResponse, host: GadgetHost): Promise<void> {
    const path = (req.url ?? '/').split('?')[0].toLowerCase();
    const kind = path === CREATE_PATH && host === GADGET_PRIMARY_LABEL ? 'create' : path.startsWith(PROCESS_PREFIX) ? 'process' : undefined;
    if (!kind || req.method !== 'POST') {
      sendJson(res, 404, { ErrorType: 'OE_BAD_ARGS', ErrorDetails: 'Not found.' });
      return;
    }
    const call: GadgetApiCall = { kind, host, at: this.clock.now(), status: 200, keyKnown: false };
    this.calls.push(call);
    if (host === GADGET_REGIONAL_LABEL && this.knobs.regionalDown) {
      call.status = 0;
      req.socket.destroy();
      return;
    }
    try {
      const body = await readBody(req, MAX_IMAGE_BYTES);
      const hold = this.held.findIndex((h) => h.kind === undefined || h.kind === kind);
      if (hold >= 0) await this.held.splice(hold, 1)[0].until;
      const key = this.authenticate(req, call);
      const scripted = this.takeScripted(kind);
      if (scripted?.errorType === 'drop') {
        call.status = 0;
        req.socket.destroy();
        return;
      }
      if (scripted) throw new GadgetApiError(scripted.status, scripted.errorType, 'Scripted failure.');
      const answer = kind === 'create' ? this.create(key, body) : this.process(key, path.slice(PROCESS_PREFIX.length), req.headers['content-type'], body, call);
      sendJson(res, 200, answer);
    } catch (err) {
      if (err instanceof GadgetApiError) {
        call.status = err.status;
        call.errorType = err.errorType;
        sendJson(res, err.status, { ErrorType: err.errorType, ErrorDetails: err.details });
      } else if (!res.headersSent && !res.destroyed) {
        call.status = 500;
        call.errorType = 'OE_INTERNAL_ERROR';
        sendJson(res, 500, { ErrorType: 'OE_INTERNAL_ERROR', ErrorDetails: 'Internal error.' });
      }
    }
  }

  private authenticate(req: IncomingMessage, call: GadgetApiCall): string {
    const header = req.headers['x-api-key'];
    const key = typeof header === 'string' ? header : '';
    const state = this.keys.get(key);
    call.keyKnown = state !== undefined;
    if (state === undefined) throw new GadgetApiError(401, 'OE_INVALID_API_KEY', 'The API key is not valid.');
    if (state === 'disabled') throw new GadgetApiError(403, 'OE_API_KEY_DISABLED', 'The API key is disabled.');
    if (state === 'blocked') throw new GadgetApiError(402, 'OE_API_KEY_BLOCKED_PAYMENT_FAILED', 'The API key is blocked: a payment failed.');
    return key;
  }

  private takeScripted(kind: 'create' | 'process'): ScriptedFailure | undefined {
    const i = this.scripted.findIndex((s) => s.kind === undefined || s.kind === kind);
    return i < 0 ? undefined : this.scripted.splice(i, 1)[0];
  }

  private create(key: string, body: Buffer): object {
    let args: unknown = {};
    if (body.toString('utf8').trim() !== '') {
      try {
        args = JSON.parse(body.toString('utf8'));
      } catch {
        throw new GadgetApiError(400, 'OE_ARGS_PARSE_FAILED', 'The body is not JSON.');
      }
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args))
      throw new GadgetApiError(400, 'OE_ARGS_PARSE_FAILED', 'The body is not a JSON object.');
    const level = (name: string): number => {
      const v = (args as Record<string, unknown>)[name];
      if (v === undefined || v === null) return 3;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 5) throw new GadgetApiError(400, 'OE_BAD_ARGS', `${name} must be 1 to 5.`);
      return v;
    };
    const id = randomBytes(25).toString('hex');
    this.contexts.set(id, { id, key, warningLevel: level('WarningConfidenceLevel'), pauseLevel: level('PauseConfidenceLevel'), ratings: [], notBefore: 0 });
    return {
      ContextId: id,
      ProcessRequestUrl: `${this.origin(GADGET_REGIONAL_LABEL)}${PROCESS_PREFIX}${id}`,
      FallbackProcessRequestUrl: `${this.origin(GADGET_PRIMARY_LABEL)}${PROCESS_PREFIX}${id}`,
    };
  }

  /**
   * The temporal model, deterministic: a frame's quality is its marked rating (8 when unmarked);
   * a warning is suggested while the last max(1, W − 1) frames were all rated ≤ 3, a pause while the
   * last P + 1 were (W, P: the context's confidence levels; by default 2 and 4 frames).
   */
  private process(key: string, id: string, contentType: string | undefined, body: Buffer, call: GadgetApiCall): object {
    const context = this.contexts.get(id);
    call.contextId = id;
    if (!context || context.key !== key) throw new GadgetApiError(404, 'OE_BAD_ARGS', 'No such context.');
    const now = this.clock.now();
    if (now < context.notBefore) throw new GadgetApiError(429, 'OE_CONTEXT_RATE_LIMITED', 'This context was called too often.');
    const files = (parseMultipart(contentType, body) ?? []).filter((p) => p.filename !== undefined);
    if (files.length !== 1) throw new GadgetApiError(400, 'OE_BAD_ARGS', 'Send exactly one file.');
    const jpeg = files[0].data;
    if (!isWholeJpeg(jpeg)) throw new GadgetApiError(400, 'OE_IMAGE_DECODE_FAILED', 'The image could not be decoded.');
    const quality = readMark(jpeg) ?? UNMARKED_RATING;
    context.ratings.push(quality);
    const badFor = (n: number): boolean => context.ratings.length >= n && context.ratings.slice(-n).every((r) => r <= BAD_RATING);
    const interval = this.knobs.intervalSec;
    context.notBefore = now + interval * 1000;
    return {
      NextProcessIntervalSec: interval,
      PrintQuality: quality,
      WarningSuggested: badFor(Math.max(1, context.warningLevel - 1)),
      PauseSuggested: badFor(context.pauseLevel + 1),
      Score: Math.round(((10 - quality) * 100) / 9),
    };
  }
}

/** SOI at the start and EOI at the end: enough for the simulator to tell a JPEG from other bytes. */
function isWholeJpeg(data: Buffer): boolean {
  const n = data.length;
  return n >= 4 && data[0] === 0xff && data[1] === 0xd8 && data[n - 2] === 0xff && data[n - 1] === 0xd9;
}
