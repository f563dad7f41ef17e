// The behaviour of one webcam node, free of Node-RED wiring: the webcam a message asks for (from
// the printer's shared, cached list), one JPEG per message or a stream through the frame pump, and
// the printer's 609 cool-down (PrinterWebcams, owned by the config node) shown as a yellow ring.
import {
  CommandError,
  InvalidArgumentError,
  OctoEverywhereError,
  ServiceError,
  type Clock,
  type ClockTimer,
  type OctoEverywhereClient,
  type Webcam,
  type WebcamList,
  type WebcamTransform,
} from '../../client';
import { accountLimits } from '../../client/limits';
import { isObject } from '../../client/values';
import { COMMON, type InputContext } from './adapter';
import { Timers } from './clock';
import { FailureWithStatus } from './failure';
import { pumpFrames, type WebcamInfo } from './frame-pump';
import { optionalNumber, type Translate } from './settings';
import { status } from './status';
import type { NodeMessageInFlow, NodeStatus, Send } from './types';
import type { PrinterWebcams } from './webcam-state';

/** Editor look-ups must not hang the dialog for the full request timeout. */
export const LIST_TIMEOUT_MS = 10_000;
const MAX_FPS = 30;
const MAX_WEBCAM_INDEX = 64;
/**
 * Stream mode: by default no frame for a few frame intervals at Max fps, at least 10 s, ends the
 * stream: a connection that stays open but carries no picture must not look like a live stream forever.
 */
const MIN_STALL_MS = 10_000;
const STALL_INTERVALS = 5;

export type Selector = { index: number } | { name: string } | undefined;

export interface WebcamSettings {
  mode: 'snapshot' | 'stream';
  webcam: Selector;
  /** Stream mode: frames per second at most; 0 = every frame. */
  maxFps: number;
  /** Stream mode: stop after this many frames; 0 = no limit. */
  maxFrames: number;
}

export interface WebcamMessage extends NodeMessageInFlow {
  webcam?: unknown;
  stop?: unknown;
}

/** The node's settings from the editor's fields; throws OE_INVALID_CONFIG / OE_INVALID_ARGUMENT. */
export function webcamSettings(def: { webcam?: unknown; mode?: unknown; maxFps?: unknown; maxFrames?: unknown }, t: Translate): WebcamSettings {
  return {
    mode: def.mode === 'stream' ? 'stream' : 'snapshot',
    webcam: parseSelector(def.webcam, t('label.webcam'), t),
    maxFps: optionalNumber(def.maxFps, { what: t('label.maxFps'), min: 0, max: MAX_FPS }, t) ?? 1,
    maxFrames: optionalNumber(def.maxFrames, { what: t('label.maxFrames'), min: 0, max: 1_000_000, integer: true }, t) ?? 0,
  };
}

export interface WebcamControllerOptions {
  settings: WebcamSettings;
  webcams: PrinterWebcams;
  /** App API access: the account's stream limit is known only then. */
  hasAppApi: boolean;
  clock: Clock;
  /** After a 609, how long no webcam request of the printer is tried. */
  coolDownMs: number;
  /** settings `octoeverywhereStreamStallTimeout`, when set. */
  stallMs?: number;
  t: Translate;
  show: (status: NodeStatus) => void;
}

export class WebcamController {
  private readonly timers: Timers;
  /** The running stream (one per node): its stop. */
  private active?: { stop(): void };
  private coolDownTimer?: ClockTimer;

  constructor(private readonly o: WebcamControllerOptions) {
    this.timers = new Timers(o.clock);
  }

  async input(msg: WebcamMessage, send: Send, ctx: InputContext): Promise<void> {
    if (msg.stop === true) {
      // Ends the running stream (its start message completes); nothing is sent for the stop itself.
      this.active?.stop();
      return;
    }
    const { settings } = this.o;
    const selector = msg.webcam === undefined || msg.webcam === null || msg.webcam === '' ? settings.webcam : parseSelector(msg.webcam, 'msg.webcam', this.o.t);
    try {
      if (settings.mode === 'stream') await this.stream(msg, send, ctx, selector);
      else await this.snapshot(msg, send, ctx, selector);
    } catch (err) {
      // A cool-down while the printer's runs (this node's or another's) shows the cool-down, not a fault.
      const until = this.o.webcams.coolDownUntil;
      if (err instanceof OctoEverywhereError && err.behaviour === 'cool-down' && until > this.o.clock.now())
        throw new FailureWithStatus(err, this.coolDownStatus(until));
      throw err;
    }
  }

  close(): void {
    this.active?.stop();
    this.timers.cancelAll();
  }

  private async snapshot(msg: WebcamMessage, send: Send, ctx: InputContext, selector: Selector): Promise<void> {
    this.checkCoolDown();
    const webcam = await this.chooseWebcam(ctx.client, selector);
    const shot = await this.request(() => ctx.client.commands.snapshot(webcam.index, { signal: ctx.signal }));
    // The client's Buffer as it is: no copy on the way to the flow.
    msg.payload = shot.image;
    msg.webcam = { name: webcam.name, index: webcam.index, transform: shot.transform } satisfies WebcamInfo;
    (msg as WebcamMessage & { contentType: string }).contentType = shot.contentType || 'image/jpeg';
    this.o.show(status.working(this.o.t(`${COMMON}status.ok`)));
    send(msg);
  }

  private async stream(msg: WebcamMessage, send: Send, ctx: InputContext, selector: Selector): Promise<void> {
    const { t } = this.o;
    if (this.active) throw new OctoEverywhereError('OE_STREAM_RUNNING', t('errors.stream-running'));
    const { client, signal } = ctx;
    this.checkCoolDown();
    // Claimed before the first await, so a second start in the meantime is refused too.
    let stopRequested = false;
    const claim = {
      stop: () => {
        stopRequested = true;
      },
    };
    this.active = claim;
    try {
      const webcam = await this.chooseWebcam(client, selector);
      // The relay also ends a stream at the account's limit; knowing it lets the node end it cleanly.
      const maxSeconds = this.o.hasAppApi ? (await accountLimits(client.connection).get())?.maxSingleWebcamStreamLengthSeconds : undefined;
      if (stopRequested || signal.aborted) return;
      const response = await this.request(() => client.commands.stream(webcam.index, { signal }));
      const { payload: _payload, stop: _stop, webcam: _webcam, ...template } = msg;
      const { maxFps, maxFrames } = this.o.settings;
      await pumpFrames({
        source: response.stream,
        boundary: response.boundary,
        template,
        send,
        info: { name: webcam.name, index: webcam.index, transform: response.transform ?? listTransform(webcam) },
        maxFps,
        maxFrames,
        maxSeconds,
        stallAfterMs: this.o.stallMs ?? Math.max(MIN_STALL_MS, STALL_INTERVALS * (maxFps > 0 ? 1000 / maxFps : 0)),
        stopped: () => stopRequested,
        signal,
        onStop: (stop) => {
          claim.stop = stop;
        },
        onRate: (fps) => this.o.show(status.working(t('status.streaming', { fps: formatFps(fps) }))),
        clock: this.o.clock,
        timers: this.timers,
        words: { stalled: (seconds) => t('errors.stream-stalled', { seconds }), interrupted: t('errors.stream-interrupted') },
      });
    } finally {
      this.active = undefined;
      this.o.show(status.idle(t(`${COMMON}status.stopped`)));
    }
  }

  /**
   * The yellow cool-down status a 609 failure shows instead of the red ring (a waiting state, not a
   * fault), cleared when the printer's cool-down ends.
   */
  private coolDownStatus(until: number): NodeStatus {
    const now = this.o.clock.now();
    this.timers.cancel(this.coolDownTimer);
    this.coolDownTimer = this.timers.after(Math.max(0, until - now), () => {
      this.coolDownTimer = undefined;
      if (!this.active) this.o.show(status.idle());
    });
    const seconds = Math.max(1, Math.ceil((until - now) / 1000));
    return status.waiting(this.o.t(`${COMMON}status.cooldown`, { seconds }));
  }

  /** Throws OE_609 while the printer's webcam is cooling down, without asking the service. */
  private checkCoolDown(): void {
    const left = this.o.webcams.coolDownLeft();
    if (left > 0) throw this.coolDownError(Math.ceil(left / 1000));
  }

  /** Runs a webcam request; a cool-down answer starts the printer's cool-down, a 754 means there is no webcam. */
  private async request<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof OctoEverywhereError && err.behaviour === 'cool-down') {
        this.o.webcams.startCoolDown(this.o.coolDownMs);
        throw this.coolDownError(Math.ceil(this.o.coolDownMs / 1000));
      }
      // 754 is wording: for a webcam request it means "no webcam" (its behaviour, refused, stays).
      if (err instanceof OctoEverywhereError && err.code === 'OE_754') throw this.noWebcamError();
      throw err;
    }
  }

  private coolDownError(seconds: number): ServiceError {
    return new ServiceError('OE_609', this.o.t('errors.cooldown', { seconds }), { status: 609, kind: 'temporary' });
  }

  private noWebcamError(): CommandError {
    return new CommandError('OE_754', this.o.t('errors.no-webcam'), { status: 754, kind: 'permanent' });
  }

  private list(client: OctoEverywhereClient, fresh: boolean): Promise<WebcamList> {
    // Shared by every message and node of the printer, so no one message's signal may cancel it.
    return this.o.webcams.list(fresh, () => this.request(() => client.commands.webcamList({ timeoutMs: LIST_TIMEOUT_MS })));
  }

  /** The webcam a message asks for, from the (cached, and on a miss refreshed) list. */
  private async chooseWebcam(client: OctoEverywhereClient, selector: Selector): Promise<Webcam> {
    let list = await this.list(client, false);
    let webcam = pick(list, selector);
    if (!webcam && selector !== undefined) {
      list = await this.list(client, true);
      webcam = pick(list, selector);
    }
    if (list.webcams.length === 0) throw this.noWebcamError();
    if (!webcam) {
      const names = list.webcams.map((w) => `${w.index}: ${w.name}`).join(', ');
      const wanted = selector && 'name' in selector ? selector.name : String(selector?.index);
      throw new InvalidArgumentError(this.o.t('errors.unknown-webcam', { webcam: wanted, names }), 'OE_UNKNOWN_WEBCAM');
    }
    return webcam;
  }
}

/** The transform the webcam list states, for a stream that does not carry `x-oe-webcam-transform`. */
function listTransform(webcam: Webcam): WebcamTransform {
  const words = [webcam.flipH ? 'fliph' : '', webcam.flipV ? 'flipv' : '', webcam.rotation ? `rotate=${webcam.rotation}` : ''].filter(Boolean);
  return { flipH: webcam.flipH, flipV: webcam.flipV, rotation: webcam.rotation, raw: words.join(' ') || 'none' };
}

/** The webcam in the list for a selector; undefined selector = the printer's default webcam. */
function pick(list: WebcamList, selector: Selector): Webcam | undefined {
  if (selector === undefined) return list.webcams[list.defaultIndex] ?? list.webcams[0];
  if ('index' in selector) return list.webcams[selector.index];
  const wanted = selector.name.toLowerCase();
  return list.webcams.find((w) => w.name.trim().toLowerCase() === wanted);
}

/**
 * A webcam chosen by index (0, "1") or name ("Nozzle Cam"); a msg.webcam that came out of this
 * node ({ name, index, transform }) chooses the same webcam again. Empty = the default webcam.
 */
function parseSelector(value: unknown, what: string, t: Translate): Selector {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= MAX_WEBCAM_INDEX) return { index: value };
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') return undefined;
    if (/^\d+$/.test(text)) return parseSelector(Number(text), what, t);
    // eslint-disable-next-line no-control-regex -- a webcam name with a control character is refused
    if (text.length <= 128 && !/[\u0000-\u001f]/.test(text)) return { name: text };
  } else if (isObject(value)) {
    if (value.index !== undefined) return parseSelector(value.index, what, t);
    if (typeof value.name === 'string') return parseSelector(value.name, what, t);
  }
  throw new InvalidArgumentError(t('errors.selector', { what, max: MAX_WEBCAM_INDEX }));
}

function formatFps(fps: number): string {
  if (!(fps > 0)) return '–';
  return fps >= 10 ? String(Math.round(fps)) : String(Math.round(fps * 10) / 10);
}
