// The behaviour of the failure-detection node, free of Node-RED wiring: one context per print, the
// latest frame kept while the interval runs (the others dropped and counted), the budget checked
// before each paid call, the flags turned into events on their rising edge. Driven by the
// injectable clock, so tests run hours of frames without sleeping.
import {
  type Clock,
  type ClockTimer,
  DETECTION_EVENTS,
  EVENT_NAMES,
  type DetectionEvent,
  type DetectionResult,
  FailureDetectionError,
  FailureDetectionSession,
  isSessionState,
  looksLikeJpeg,
  type SessionState,
  type OctoEverywhereError,
} from '../../client';
import { isObject } from '../../client/values';
import { monthOf, nextMonthStart } from './call-budget';
import { Timers } from './clock';
import type { RecordStore } from './context-store';
import { asOctoEverywhereError } from './failure';
import type { GadgetApiAccount } from './gadget-api-account';
import type { Done, NodeMessage, Send } from './types';

/** The event that starts a new context when it arrives on the input (from the webhook or status-poll node). */
const DETECTION_START_TOPIC = EVENT_NAMES[1];

/** One input message with its own send and done: it ends exactly once, however it ends. */
export interface Frame {
  msg: NodeMessage & Record<string, unknown>;
  send: Send;
  done: Done;
}

/** What the node status shows; the adapter turns it into catalog text. */
export type DetectionView =
  | { state: 'ready'; used: number; limit: number }
  | { state: 'waiting'; nextInSec: number; used: number; limit: number }
  | { state: 'scored'; result: DetectionResult; nextInSec: number; used: number; limit: number }
  | { state: 'error'; code: string; used: number; limit: number };

export interface DetectionHooks {
  /** A scored frame: output 1 and the events for output 2 (maybe none). The hook ends the frame. */
  deliver(frame: Frame, result: NodeMessage, events: NodeMessage[]): void;
  /** A frame that ends with an error (the hook calls done(err) and shows it). */
  fail(frame: Frame, error: OctoEverywhereError, view: DetectionView): void;
  status(view: DetectionView): void;
}

/** The node's message catalog (RED._). */
export type Translate = (key: string, vars?: Record<string, string | number>) => string;

/**
 * What the node keeps across a redeploy (in its context): the print's context and pacing, the print
 * id and the flags' last state, for the client fingerprint they belong to. Without it a redeploy
 * would call again at once, in a second context for the same print, and announce the same warning
 * again.
 */
export interface DetectionRecord {
  fingerprint: string;
  session: SessionState;
  printId?: string;
  warned: boolean;
  pauseSuggested: boolean;
}

export function isDetectionRecord(value: unknown): value is DetectionRecord {
  if (!isObject(value)) return false;
  return (
    typeof value.fingerprint === 'string' &&
    isSessionState(value.session) &&
    (value.printId === undefined || typeof value.printId === 'string') &&
    typeof value.warned === 'boolean' &&
    typeof value.pauseSuggested === 'boolean'
  );
}

export interface ControllerOptions {
  account: GadgetApiAccount;
  /** Where the node's DetectionRecord is kept (its context); none: every deploy starts afresh. */
  memory?: RecordStore<DetectionRecord>;
  clock: Clock;
  hooks: DetectionHooks;
  /** The failure-detection node's catalog, for the errors the node itself raises. */
  t: Translate;
}

export class FailureDetectionController {
  /** Frames replaced by a later one before they could be sent, in all; and since the last call. */
  dropped = 0;
  private droppedSinceCall = 0;
  private readonly session: FailureDetectionSession;
  private readonly timers: Timers;
  private readonly abort = new AbortController();
  private pending?: Frame;
  private busy = false;
  private timer?: { at: number; handle: ClockTimer };
  private printId?: string;
  /** Bumped on every new print, so a late answer of the last print raises no events for this one. */
  private generation = 0;
  private warned = false;
  private pauseSuggested = false;
  private closed = false;
  /** Inputs that arrived while the kept record was being read, replayed in order once it is. */
  private early?: Frame[] = [];
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly options: ControllerOptions) {
    this.session = new FailureDetectionSession(options.account.client, options.clock);
    this.timers = new Timers(options.clock);
  }

  /** The current print's context id (for tests). */
  get contextId(): string | undefined {
    return this.session.context?.id;
  }

  start(): void {
    const { memory, account } = this.options;
    // Frames wait only for the kept record (an in-memory read); the budget is awaited before each call.
    const restored = memory ? memory.load().then((record) => this.restore(record)) : Promise.resolve();
    const startup = restored
      .catch(() => undefined)
      .then(() => {
        const early = this.early ?? [];
        this.early = undefined;
        if (this.closed) return;
        for (const frame of early) this.input(frame);
        this.pump();
      });
    // Tracked like a call, so settled() also waits for the frames that came in meanwhile.
    void account.track(startup);
    void Promise.all([account.budget.ready, startup]).then(() => {
      if (this.closed || this.busy || this.pending) return;
      const wait = this.session.dueAt() - this.options.clock.now();
      this.options.hooks.status(wait > 0 ? this.waiting(wait) : this.ready());
    });
  }

  input(frame: Frame): void {
    if (this.early) {
      this.early.push(frame);
      return;
    }
    const { msg } = frame;
    const printStarted = msg.topic === DETECTION_START_TOPIC;
    const printId = idOf(msg.printId) ?? (printStarted && isObject(msg.payload) ? idOf(msg.payload.printId) : undefined);
    let newPrint = Boolean(msg.reset) || printStarted;
    if (printId !== undefined) {
      if (this.printId !== undefined && printId !== this.printId) newPrint = true;
      this.printId = printId;
    }
    if (newPrint) this.newPrint();
    // A print-started event or a bare reset only marks the new print.
    if (printStarted || (msg.reset && !Buffer.isBuffer(msg.payload))) {
      frame.done();
      this.pump();
      return;
    }
    if (!looksLikeJpeg(msg.payload)) {
      const error = new FailureDetectionError('OE_GADGET_NOT_JPEG', this.options.t('errors.not-jpeg', { what: describe(msg.payload, this.options.t) }), {
        kind: 'permanent',
      });
      this.options.hooks.fail(frame, error, this.errorView(error.code));
      return;
    }
    const stopped = this.options.account.stopped;
    if (stopped) {
      this.options.hooks.fail(frame, stopped, this.errorView(stopped.code));
      return;
    }
    // Latest frame wins: the one waiting is dropped (ended without output), counted.
    if (this.pending) this.drop(this.pending);
    this.pending = frame;
    this.pump();
  }

  /** Stops timers and the call in flight; a frame still waiting ends quietly, as its flow is gone. */
  close(): void {
    this.closed = true;
    this.timers.cancelAll();
    this.timer = undefined;
    this.abort.abort();
    const pending = this.pending;
    this.pending = undefined;
    pending?.done();
    for (const frame of this.early ?? []) frame.done();
    this.early = undefined;
  }

  /** Goes on from the record a node of the same id kept before a redeploy, when it used the same key, service and levels. */
  private restore(record: DetectionRecord | undefined): void {
    if (!record || record.fingerprint !== this.options.account.client.fingerprint) return;
    this.session.restore(record.session);
    this.printId = record.printId;
    this.warned = record.warned;
    this.pauseSuggested = record.pauseSuggested;
  }

  /** Keeps the current record (writes in order, so an older one never overwrites a newer one). */
  private save(): void {
    const { memory, account } = this.options;
    if (!memory || this.closed) return;
    const record: DetectionRecord = {
      fingerprint: account.client.fingerprint,
      session: this.session.state(),
      ...(this.printId === undefined ? {} : { printId: this.printId }),
      warned: this.warned,
      pauseSuggested: this.pauseSuggested,
    };
    this.saving = this.saving.then(() => memory.save(record)).catch(() => undefined);
  }

  private newPrint(): void {
    this.session.newPrint();
    this.generation++;
    this.warned = false;
    this.pauseSuggested = false;
    // A frame of the last print is not scored in the new print's context.
    if (this.pending) this.drop(this.pending);
    this.pending = undefined;
    this.save();
  }

  private drop(frame: Frame): void {
    this.dropped++;
    this.droppedSinceCall++;
    frame.done();
  }

  /** Sends the waiting frame when the interval allows, else arms one timer for that moment. */
  private pump(): void {
    if (this.closed || this.busy || !this.pending) return;
    const due = this.session.dueAt();
    const wait = due - this.options.clock.now();
    if (wait > 0) {
      if (this.timer?.at !== due) {
        this.timers.cancel(this.timer?.handle);
        this.timer = {
          at: due,
          handle: this.timers.after(wait, () => {
            this.timer = undefined;
            this.pump();
          }),
        };
      }
      this.options.hooks.status(this.waiting(wait));
      return;
    }
    this.timers.cancel(this.timer?.handle);
    this.timer = undefined;
    const frame = this.pending;
    this.pending = undefined;
    this.busy = true;
    // send() never rejects (every outcome ends the frame through a hook), so nothing is left unhandled.
    void this.options.account.track(this.send(frame)).finally(() => {
      this.busy = false;
      this.save();
      this.pump();
    });
  }

  /** Never rejects: every outcome ends the frame through a hook. */
  private async send(frame: Frame): Promise<void> {
    const { account, hooks } = this.options;
    const { budget } = account;
    const jpeg = frame.msg.payload as Buffer;
    try {
      await budget.ready;
      if (account.stopped) throw account.stopped;
      this.checkBudget();
      const generation = this.generation;
      const result = await this.session.process(jpeg, {
        signal: this.abort.signal,
        beforeProcess: () => {
          this.checkBudget();
          budget.count();
        },
        // Kept while the call is out: a redeploy before its answer still waits the interval from it.
        processing: () => this.save(),
      });
      if (this.closed) {
        frame.done();
        return;
      }
      const events = generation === this.generation ? this.edges(result) : [];
      const { payload: _image, ...rest } = frame.msg;
      const out: NodeMessage = { ...rest, payload: { ...result }, image: jpeg, framesDropped: this.droppedSinceCall };
      this.droppedSinceCall = 0;
      const eventMsgs = events.map((event) => ({ ...rest, topic: event.event, payload: event, image: jpeg }));
      hooks.deliver(frame, out, eventMsgs);
      hooks.status({ state: 'scored', result, nextInSec: this.secondsLeft(), used: budget.used, limit: budget.limit });
    } catch (err) {
      if (this.closed) {
        frame.done();
        return;
      }
      const error = asOctoEverywhereError(err);
      if (stopsTheKey(error)) account.stop(error);
      hooks.fail(frame, error, this.errorView(error.code));
    }
  }

  private checkBudget(): void {
    const { budget } = this.options.account;
    if (!budget.exhausted) return;
    const now = this.options.clock.now();
    const resumes = new Date(nextMonthStart(now)).toISOString().slice(0, 10);
    const message = this.options.t('errors.budget-reached', { limit: budget.limit, used: budget.used, month: monthOf(now), resumes });
    throw new FailureDetectionError('OE_GADGET_BUDGET_REACHED', message, { kind: 'temporary' });
  }

  /** The events of this answer: each flag once when it turns on, again only after it was off. */
  private edges(result: DetectionResult): DetectionEvent[] {
    const base = {
      printQuality: result.printQuality,
      score: result.score,
      source: 'failure-detection' as const,
      ...(this.printId === undefined ? {} : { printId: this.printId }),
    };
    const events: DetectionEvent[] = [];
    if (result.warningSuggested && !this.warned) events.push({ event: DETECTION_EVENTS.warning, eventType: 7, ...base });
    if (result.pauseSuggested && !this.pauseSuggested) events.push({ event: DETECTION_EVENTS.pause, ...base });
    this.warned = result.warningSuggested;
    this.pauseSuggested = result.pauseSuggested;
    return events;
  }

  private secondsLeft(): number {
    return Math.max(0, Math.ceil((this.session.dueAt() - this.options.clock.now()) / 1000));
  }

  private ready(): DetectionView {
    const { budget } = this.options.account;
    return { state: 'ready', used: budget.used, limit: budget.limit };
  }

  private waiting(waitMs: number): DetectionView {
    const { budget } = this.options.account;
    return { state: 'waiting', nextInSec: Math.ceil(waitMs / 1000), used: budget.used, limit: budget.limit };
  }

  private errorView(code: string): DetectionView {
    const { budget } = this.options.account;
    return { state: 'error', code, used: budget.used, limit: budget.limit };
  }
}

/**
 * A key error (disabled, blocked, invalid) stops every user of the key; the budget's own stop is per
 * month and lifts itself. The one read of the Failure Detection error's `action`.
 */
function stopsTheKey(error: OctoEverywhereError): error is FailureDetectionError {
  // A dead developer key; the monthly budget is a cool-down, not a stop.
  return error instanceof FailureDetectionError && error.behaviour === 'stop';
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** What a payload was, in a few words and never its content (it may hold anything). */
function describe(value: unknown, t: Translate): string {
  if (Buffer.isBuffer(value)) return t('payload.buffer', { bytes: value.length });
  if (value === null) return t('payload.null');
  if (Array.isArray(value)) return t('payload.array');
  return typeof value === 'object' ? t('payload.object') : t('payload.type', { type: typeof value });
}
