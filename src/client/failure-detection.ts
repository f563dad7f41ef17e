// The Gadget AI Failure Detection API (docs/octoeverywhere.md §10): scores any JPEG with a developer API key, one
// context per print. The two calls, where the key may go, and the pacing rules live here, in one place.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosResponse } from 'axios';
import { encodeBody, tryParseJson, withContentType } from './body-codec';
import type { CallOptions } from './connection';
import type { Clock } from './clock';
import { Deadline } from './deadline';
import { detectionCodeError, failureDetectionError, FailureDetectionError, InvalidArgumentError, OctoEverywhereError } from './errors';
import { networkError } from './network-errors';
import { baseUrlString, isLoopbackHost, loopbackAwareLookup, parseBaseUrl } from './urls';
import { isObject, positiveOr } from './values';

/** createcontext goes "always" to this primary host. */
export const FAILURE_DETECTION_URL = 'https://gadget-pv1-oeapi.octoeverywhere.com';
const CREATE_PATH = '/api/gadget/v1/createcontext';
export const DEFAULT_CONFIDENCE = 3;
/**
 * The service asks for at least this long between two calls of a context. There is no upper bound:
 * the SDK clamps to 1800 s, but the docs say to wait *at least* the interval asked for (up to 5000 s
 * under load), and a call sooner would be rate-limited and still count against the budget.
 */
export const MIN_INTERVAL_SEC = 20;
/** Before a context's first answer, calls are this far apart. */
export const FIRST_INTERVAL_SEC = 60;
/** A failed createcontext is tried again after this. */
export const CREATE_RETRY_SEC = 30;
export const CREATE_TIMEOUT_MS = 30_000;
export const PROCESS_TIMEOUT_MS = 120_000;
/** The free tier: calls a month before each call costs money. */
export const FREE_CALLS_PER_MONTH = 5_000;
/** An answer is a few hundred bytes; anything bigger is not the API. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Redirects are not followed, so the key can never be replayed to a host we did not choose. */
const httpClient = axios.create({ validateStatus: () => true, maxRedirects: 0, proxy: false, maxBodyLength: Infinity });
const AGENT_OPTIONS = { keepAlive: true, scheduling: 'lifo' as const, lookup: loopbackAwareLookup };

export interface FailureDetectionOptions {
  /** The developer API key (header X-API-Key). */
  apiKey: string;
  /** Default https://gadget-pv1-oeapi.octoeverywhere.com; the simulator's gadget host in tests. */
  serviceUrl?: string;
  /** 1 (warns sooner) … 5; default 3. */
  warningConfidence?: number;
  pauseConfidence?: number;
  createTimeoutMs?: number;
  processTimeoutMs?: number;
}

/** One print's context: the service's history of that print's frames. */
export class DetectionContext {
  /** After any failed process call the fallback URL is used for the rest of the context (§A "fallback"). */
  usingFallback = false;

  constructor(
    readonly id: string,
    readonly processUrl: string,
    readonly fallbackUrl: string,
  ) {}

  get url(): string {
    return this.usingFallback ? this.fallbackUrl : this.processUrl;
  }
}

/** A process answer, in our names; the interval is already at least 20 s. */
export interface DetectionResult {
  /** 1 failure … 10 perfect: for display only. */
  printQuality: number;
  warningSuggested: boolean;
  pauseSuggested: boolean;
  /** 0 perfect … 100 failure: raw, not for users. */
  score: number;
  nextIntervalSec: number;
}

export class FailureDetectionClient {
  readonly serviceUrl: string;
  readonly warningConfidence: number;
  readonly pauseConfidence: number;
  readonly #apiKey: string;
  readonly #service: URL;
  readonly #createTimeoutMs: number;
  readonly #processTimeoutMs: number;
  #agents: { http?: http.Agent; https?: https.Agent } = {};
  #closed = false;

  constructor(options: FailureDetectionOptions) {
    const key = typeof options?.apiKey === 'string' ? options.apiKey.trim() : '';
    if (key === '') throw detectionCodeError('OE_GADGET_NO_API_KEY');
    if (/[\r\n]/.test(key)) throw new InvalidArgumentError('The developer API key contains a line break.', 'OE_GADGET_NO_API_KEY');
    this.#apiKey = key;
    this.#service = parseBaseUrl(options.serviceUrl || FAILURE_DETECTION_URL, 'Failure Detection API URL');
    this.serviceUrl = baseUrlString(this.#service);
    this.warningConfidence = confidence(options.warningConfidence, 'warning');
    this.pauseConfidence = confidence(options.pauseConfidence, 'pause');
    this.#createTimeoutMs = positiveOr(options.createTimeoutMs, CREATE_TIMEOUT_MS);
    this.#processTimeoutMs = positiveOr(options.processTimeoutMs, PROCESS_TIMEOUT_MS);
  }

  /** A new context for a new print (free of charge). */
  async createContext(options: CallOptions = {}): Promise<DetectionContext> {
    const what = 'Creating a Failure Detection context';
    const body = encodeBody({ WarningConfidenceLevel: this.warningConfidence, PauseConfidenceLevel: this.pauseConfidence });
    const res = await this.#post(`${this.serviceUrl}${CREATE_PATH}`, body.data as string, withContentType({}, body), this.#createTimeoutMs, options, what);
    const answer = this.#answer(res, what);
    const id = answer.ContextId;
    const processUrl = answer.ProcessRequestUrl;
    const fallbackUrl = answer.FallbackProcessRequestUrl;
    if (typeof id !== 'string' || id === '' || typeof processUrl !== 'string' || typeof fallbackUrl !== 'string') {
      throw new FailureDetectionError('OE_INVALID_RESPONSE', `${what} failed: the answer lacks ContextId, ProcessRequestUrl or FallbackProcessRequestUrl.`, {
        kind: 'temporary',
        behaviour: 'retry',
      });
    }
    const context = new DetectionContext(id, processUrl, fallbackUrl);
    // Checked once here, so a context that could only leak the key is never used.
    const trusted = (u: string): boolean => {
      try {
        return this.keyMayGoTo(new URL(u));
      } catch {
        return false;
      }
    };
    if (!trusted(processUrl)) {
      if (!trusted(fallbackUrl)) throw detectionCodeError('OE_GADGET_UNTRUSTED_URL');
      context.usingFallback = true;
    }
    return context;
  }

  /**
   * Scores one JPEG in `context` (each call costs money beyond the free tier). Any failure switches
   * the context to its fallback URL for good, as the API asks.
   */
  async process(context: DetectionContext, jpeg: Buffer, options: CallOptions = {}): Promise<DetectionResult> {
    const what = 'Failure Detection';
    try {
      const form = new FormData();
      // Exactly one file part, as the SDK sends it (field `attachment`, file name `snapshot`).
      form.append('attachment', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'snapshot');
      const res = await this.#post(context.url, form, {}, this.#processTimeoutMs, options, what);
      return toResult(this.#answer(res, what), what);
    } catch (err) {
      context.usingFallback = true;
      throw err;
    }
  }

  /**
   * Which key, service and levels this client calls with, as a short digest (never the key): a
   * context kept from before a redeploy is only used again by a client with the same fingerprint.
   */
  get fingerprint(): string {
    return createHash('sha256')
      .update(JSON.stringify([this.#apiKey, this.serviceUrl, this.warningConfidence, this.pauseConfidence]))
      .digest('hex')
      .slice(0, 16);
  }

  /** Releases the keep-alive sockets; later calls fail with OE_CLOSED. */
  close(): Promise<void> {
    this.#closed = true;
    this.#agents.http?.destroy();
    this.#agents.https?.destroy();
    return Promise.resolve();
  }

  /**
   * Whether the key may be sent to `url`: the configured service host; a context URL on an
   * OctoEverywhere host over https; or, only when the configured service is this machine (the
   * simulator), this machine. A context URL is data from the network: if anything ever put another
   * host there, following it would hand the key (and the owner's money) to that host.
   */
  keyMayGoTo(url: URL): boolean {
    if (url.username || url.password) return false;
    if (url.origin === this.#service.origin) return true;
    const host = url.hostname.toLowerCase();
    if (url.protocol === 'https:' && (host === 'octoeverywhere.com' || host.endsWith('.octoeverywhere.com'))) return true;
    return isLoopbackHost(this.#service.hostname) && isLoopbackHost(host) && (url.protocol === 'http:' || url.protocol === 'https:');
  }

  async #post(
    target: string,
    data: string | FormData,
    headers: Record<string, string>,
    timeoutMs: number,
    options: CallOptions,
    what: string,
  ): Promise<AxiosResponse<Buffer>> {
    if (this.#closed) throw new OctoEverywhereError('OE_CLOSED', 'This Gadget API client was closed (the node was redeployed or removed).');
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw detectionCodeError('OE_GADGET_UNTRUSTED_URL');
    }
    if (!this.keyMayGoTo(url)) throw detectionCodeError('OE_GADGET_UNTRUSTED_URL');
    // A deadline, not axios's `timeout` (a socket idle timeout: an answer dribbling a byte at a time never ended).
    const deadline = new Deadline(positiveOr(options.timeoutMs, timeoutMs), options.signal);
    try {
      return await httpClient.request<Buffer>({
        ...this.#agentFor(url),
        method: 'POST',
        url: url.href,
        headers: { ...headers, 'X-API-Key': this.#apiKey, Accept: 'application/json' },
        data,
        responseType: 'arraybuffer',
        signal: deadline.signal,
        maxContentLength: MAX_ANSWER_BYTES,
      });
    } catch (err) {
      const e = deadline.expired ? deadline.error(what, 'The next frame is tried at the next interval.') : networkError(err, what);
      throw new FailureDetectionError(e.code, e.message, { kind: e.kind, behaviour: e.code === 'OE_ABORTED' ? 'refused' : 'retry' });
    } finally {
      deadline.release();
    }
  }

  /** The JSON object of a 2XX answer, or the error its ErrorType names. */
  #answer(res: AxiosResponse<Buffer>, what: string): Record<string, unknown> {
    const body = tryParseJson(Buffer.from(res.data ?? []));
    if (res.status < 200 || res.status >= 300) {
      const type = isObject(body) && typeof body.ErrorType === 'string' ? body.ErrorType : undefined;
      const detail = isObject(body) && typeof body.ErrorDetails === 'string' ? body.ErrorDetails.split(this.#apiKey).join('***') : undefined;
      throw failureDetectionError(res.status, type, what, detail);
    }
    if (!isObject(body))
      throw new FailureDetectionError('OE_INVALID_RESPONSE', `${what} failed: the answer is not a JSON object.`, { kind: 'temporary', behaviour: 'retry' });
    return body;
  }

  #agentFor(url: URL): { httpAgent: http.Agent } | { httpsAgent: https.Agent } {
    return url.protocol === 'https:'
      ? { httpsAgent: (this.#agents.https ??= new https.Agent(AGENT_OPTIONS)) }
      : { httpAgent: (this.#agents.http ??= new http.Agent(AGENT_OPTIONS)) };
  }
}

function toResult(body: Record<string, unknown>, what: string): DetectionResult {
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const quality = num(body.PrintQuality ?? body['PrintQuality ']);
  const score = num(body.Score);
  const interval = num(body.NextProcessIntervalSec);
  if (quality === undefined || score === undefined || typeof body.WarningSuggested !== 'boolean' || typeof body.PauseSuggested !== 'boolean') {
    throw new FailureDetectionError('OE_INVALID_RESPONSE', `${what} failed: the answer lacks PrintQuality, Score, WarningSuggested or PauseSuggested.`, {
      kind: 'temporary',
      behaviour: 'retry',
    });
  }
  return {
    printQuality: quality,
    warningSuggested: body.WarningSuggested,
    pauseSuggested: body.PauseSuggested,
    score,
    nextIntervalSec: clampInterval(interval),
  };
}

/** The wait the service asked for, in whole seconds and at least 20 s (never shorter than asked); 60 s when it gave none. */
export function clampInterval(sec: number | undefined): number {
  if (sec === undefined || !Number.isFinite(sec)) return FIRST_INTERVAL_SEC;
  return Math.max(MIN_INTERVAL_SEC, Math.ceil(sec));
}

/** True when the bytes start like a JPEG (SOI and a marker): checked before a paid call. */
export function looksLikeJpeg(value: unknown): value is Buffer {
  return Buffer.isBuffer(value) && value.length >= 4 && value[0] === 0xff && value[1] === 0xd8 && value[2] === 0xff;
}

function confidence(value: number | undefined, what: string): number {
  if (value === undefined) return DEFAULT_CONFIDENCE;
  if (!Number.isInteger(value) || value < 1 || value > 5)
    throw new InvalidArgumentError(`The ${what} confidence level must be a whole number from 1 to 5.`, 'OE_INVALID_ARGUMENT');
  return value;
}

/** A session's context and pacing, as plain data (kept in the node's context store across a redeploy). */
export interface SessionState {
  context?: { id: string; processUrl: string; fallbackUrl: string; usingFallback: boolean };
  intervalMs: number;
  /** Clock ms. */
  dueAt: number;
  lastProcessAt?: number;
}

/** Whether `value` is a SessionState (a record read back from a context store). */
export function isSessionState(value: unknown): value is SessionState {
  if (!isObject(value)) return false;
  const num = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
  if (!num(value.intervalMs) || !num(value.dueAt) || (value.lastProcessAt !== undefined && !num(value.lastProcessAt))) return false;
  const c = value.context;
  if (c === undefined) return true;
  return (
    isObject(c) &&
    typeof c.id === 'string' &&
    c.id !== '' &&
    typeof c.processUrl === 'string' &&
    typeof c.fallbackUrl === 'string' &&
    typeof c.usingFallback === 'boolean'
  );
}

/**
 * One node's calls over the prints it watches: a context per print and the pacing of section A —
 * never a call before `dueAt()`, whatever the input rate. The clock is injected so tests drive time.
 */
export class FailureDetectionSession {
  #context?: DetectionContext;
  #intervalMs = FIRST_INTERVAL_SEC * 1000;
  #dueAt = 0;
  #lastProcessAt: number | undefined;
  #busy = false;
  /** A paid process call is out and unanswered. */
  #processing = false;

  constructor(
    private readonly client: FailureDetectionClient,
    private readonly clock: Clock,
  ) {}

  get context(): DetectionContext | undefined {
    return this.#context;
  }

  /** What a later session needs to go on where this one stopped (a redeploy): the context and the pacing. */
  state(): SessionState {
    const c = this.#context;
    return {
      ...(c ? { context: { id: c.id, processUrl: c.processUrl, fallbackUrl: c.fallbackUrl, usingFallback: c.usingFallback } } : {}),
      intervalMs: this.#intervalMs,
      // With a call out, its answer would set the next due time an interval after it at the soonest:
      // a session going on from here (a redeploy that lost that answer) waits as long.
      dueAt: this.#processing && this.#lastProcessAt !== undefined ? Math.max(this.#dueAt, this.#lastProcessAt + this.#intervalMs) : this.#dueAt,
      ...(this.#lastProcessAt === undefined ? {} : { lastProcessAt: this.#lastProcessAt }),
    };
  }

  /**
   * Goes on from a state() of an earlier session with the same client fingerprint: the same context
   * and no call before the interval it was waiting for. A kept context whose URLs the key may not go
   * to is not used (the pacing still is).
   */
  restore(state: SessionState): void {
    const c = state.context;
    const trusted = (u: string): boolean => {
      try {
        return this.client.keyMayGoTo(new URL(u));
      } catch {
        return false;
      }
    };
    if (c && trusted(c.usingFallback ? c.fallbackUrl : c.processUrl)) {
      this.#context = new DetectionContext(c.id, c.processUrl, c.fallbackUrl);
      this.#context.usingFallback = c.usingFallback;
    }
    this.#intervalMs = Math.max(MIN_INTERVAL_SEC * 1000, state.intervalMs);
    this.#dueAt = Math.max(this.#dueAt, state.dueAt);
    if (state.lastProcessAt !== undefined) this.#lastProcessAt = state.lastProcessAt;
  }

  /** When the next call may go out (clock ms). */
  dueAt(): number {
    return this.#dueAt;
  }

  /**
   * A new print: the next frame gets a new context (contexts are never reused across prints). Its
   * first call still waits the shortest interval after the last one, so a flood of resets cannot
   * turn into a flood of paid calls.
   */
  newPrint(): void {
    this.#context = undefined;
    this.#intervalMs = FIRST_INTERVAL_SEC * 1000;
    this.#dueAt = this.#lastProcessAt === undefined ? 0 : this.#lastProcessAt + MIN_INTERVAL_SEC * 1000;
  }

  /**
   * Scores `jpeg` in this print's context, creating it first when needed. `beforeProcess` runs just
   * before the paid call goes out (the budget counts it there; throwing stops the call), `processing`
   * as it goes (state() from then on says when the next may go, should its answer be lost).
   */
  async process(jpeg: Buffer, options: CallOptions & { beforeProcess?: () => void; processing?: () => void } = {}): Promise<DetectionResult> {
    if (this.#busy || this.clock.now() < this.#dueAt) {
      throw new FailureDetectionError(
        'OE_GADGET_TOO_SOON',
        'A Failure Detection call was asked for before the interval the service asked for had passed; it was not sent.',
        { kind: 'temporary', behaviour: 'retry' },
      );
    }
    this.#busy = true;
    try {
      let context = this.#context;
      if (!context) {
        try {
          context = await this.client.createContext(options);
        } catch (err) {
          this.#dueAt = this.clock.now() + CREATE_RETRY_SEC * 1000;
          throw err;
        }
        this.#context = context;
      }
      options.beforeProcess?.();
      this.#lastProcessAt = this.clock.now();
      this.#processing = true;
      try {
        options.processing?.();
        const result = await this.client.process(context, jpeg, options);
        // A late answer of a print that has ended does not set the new print's interval.
        if (this.#context === context) this.#intervalMs = result.nextIntervalSec * 1000;
        this.#dueAt = this.clock.now() + (this.#context === context ? this.#intervalMs : MIN_INTERVAL_SEC * 1000);
        return result;
      } catch (err) {
        // The SDK waits the interval after errors too.
        this.#dueAt = this.clock.now() + this.#intervalMs;
        throw err;
      }
    } finally {
      this.#busy = false;
      this.#processing = false;
    }
  }
}
