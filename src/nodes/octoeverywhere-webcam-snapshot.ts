// Node: the printer's webcam through the App Connection — one JPEG per message (snapshot mode), or the
// MJPEG stream sent on as JPEG messages at most N per second (stream mode). The webcam is chosen by
// index or name; a 609 ("viewed too often") starts a cool-down shared by every webcam node of the
// printer, so nothing hammers the service while it refuses.
import type { Request, Response } from 'express';
import type { Readable } from 'node:stream';
import {
  CommandError,
  InvalidArgumentError,
  MjpegParser,
  NetworkError,
  OctoEverywhereError,
  ServiceError,
  accountLimits,
  type Clock,
  type ClockTimer,
  isObject,
  type MjpegFrame,
  type OctoEverywhereClient,
  type Webcam,
  type WebcamList,
  type WebcamTransform,
} from '../client';
import { ADMIN_ROUTES, COMMON, onInput, useConnection, type InputContext } from './shared/adapter';
import { clockFor, Timers } from './shared/clock';
import { asOctoEverywhereError, errorStatus, FailureWithStatus } from './shared/failure';
import { migrate } from './shared/migrations';
import type { AppConnectionNode, Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus, Send } from './shared/types';

const TYPE = 'octoeverywhere-webcam-snapshot';
const CONFIG_TYPE = 'octoeverywhere-app-connection';
/** After a 609, how long webcam requests to that printer are not even tried (settings `octoeverywhereWebcamCooldown`, ms). */
const DEFAULT_COOLDOWN_MS = 60_000;
/** The webcam list changes only when the user edits the printer's cameras; an unknown name or index refreshes it at once. */
const WEBCAM_LIST_TTL_MS = 5 * 60_000;
/** Editor look-ups must not hang the dialog for the full request timeout. */
const LIST_TIMEOUT_MS = 10_000;
const MAX_FPS = 30;
/**
 * Stream mode: no frame for this long ends the stream with OE_STREAM_STALLED (settings
 * `octoeverywhereStreamStallTimeout`, ms). By default a few frame intervals at Max fps, at least 10 s:
 * a connection that stays open but carries no picture must not look like a live stream forever.
 */
const MIN_STALL_MS = 10_000;
const STALL_INTERVALS = 5;
const MAX_WEBCAM_INDEX = 64;

interface WebcamSnapshotDef extends NodeDef {
  connection?: string;
  /** Index or name; empty for the printer's default webcam. */
  webcam?: string;
  mode?: 'snapshot' | 'stream';
  /** Stream mode: frames per second at most; 0 = every frame. */
  maxFps?: number | string;
  /** Stream mode: stop after this many frames; 0 = no limit. */
  maxFrames?: number | string;
}

/** msg.webcam on the way out. */
interface WebcamInfo {
  name: string;
  index: number;
  transform: WebcamTransform;
}

type Selector = { index: number } | { name: string } | undefined;

interface WebcamMessage extends NodeMessageInFlow {
  webcam?: unknown;
  stop?: unknown;
}

/** What every webcam node of one printer shares: the webcam list and the 609 cool-down. */
interface PrinterWebcams {
  list?: Promise<WebcamList>;
  listAt: number;
  coolDownUntil: number;
}

const byClient = new WeakMap<OctoEverywhereClient, PrinterWebcams>();

function printerWebcams(client: OctoEverywhereClient): PrinterWebcams {
  let state = byClient.get(client);
  if (!state) byClient.set(client, (state = { listAt: 0, coolDownUntil: 0 }));
  return state;
}

/** The node's message catalog (RED._). */
type Translate = (key: string, vars?: Record<string, string | number>) => string;

/** A running stream: one per node. */
interface ActiveStream {
  stop(): void;
}

export = function register(RED: NodeAPI): void {
  const clock = (): Clock => clockFor(RED);
  const t: Translate = (key, vars) => RED._(key, vars);

  function coolDownMs(): number {
    const value: unknown = (RED.settings as unknown as Record<string, unknown>).octoeverywhereWebcamCooldown;
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : DEFAULT_COOLDOWN_MS;
  }

  /** How long a stream may go without a frame; `frameIntervalMs` is Max fps as an interval (0: every frame). */
  function stallMs(frameIntervalMs: number): number {
    const value: unknown = (RED.settings as unknown as Record<string, unknown>).octoeverywhereStreamStallTimeout;
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
    return Math.max(MIN_STALL_MS, STALL_INTERVALS * frameIntervalMs);
  }

  function WebcamSnapshot(this: Node, def: WebcamSnapshotDef): void {
    RED.nodes.createNode(this, def);
    def = migrate(TYPE, def); // saved configs in the current shape (shared/migrations.ts)
    const node = this;
    const timers = new Timers(clock());
    const connection = useConnection(RED, node, def.connection);
    let active: ActiveStream | undefined;
    let coolDownTimer: ClockTimer | undefined;

    let settings: { mode: 'snapshot' | 'stream'; webcam: Selector; maxFps: number; maxFrames: number } | undefined;
    let configError: OctoEverywhereError | undefined;
    try {
      settings = {
        mode: def.mode === 'stream' ? 'stream' : 'snapshot',
        webcam: parseSelector(def.webcam, RED._('label.webcam'), t),
        maxFps: optionalNumber(def.maxFps, RED._('label.maxFps'), 0, MAX_FPS, false, t) ?? 1,
        maxFrames: optionalNumber(def.maxFrames, RED._('label.maxFrames'), 0, 1_000_000, true, t) ?? 0,
      };
    } catch (err) {
      configError = asOctoEverywhereError(err);
      errorStatus(node, configError);
    }

    /**
     * The yellow cool-down status a 609 failure shows instead of the red ring (a waiting state, not a
     * fault), cleared when the printer's cool-down ends.
     */
    function coolDownStatus(until: number): NodeStatus {
      timers.cancel(coolDownTimer);
      coolDownTimer = timers.after(Math.max(0, until - clock().now()), () => {
        coolDownTimer = undefined;
        if (!active) node.status({});
      });
      const seconds = Math.max(1, Math.ceil((until - clock().now()) / 1000));
      return { fill: 'yellow', shape: 'ring', text: RED._(`${COMMON}status.cooldown`, { seconds }) };
    }

    /** Throws OE_609 while the printer's webcam is cooling down, without asking the service. */
    function checkCoolDown(state: PrinterWebcams): void {
      const left = state.coolDownUntil - clock().now();
      if (left <= 0) return;
      throw coolDownError(Math.ceil(left / 1000));
    }

    /** Runs a webcam request; a 609 starts the cool-down, a 754 means there is no webcam. */
    async function webcamRequest<T>(state: PrinterWebcams, request: () => Promise<T>): Promise<T> {
      try {
        return await request();
      } catch (err) {
        if (err instanceof OctoEverywhereError && err.code === 'OE_609') {
          const ms = coolDownMs();
          state.coolDownUntil = clock().now() + ms;
          throw coolDownError(Math.ceil(ms / 1000));
        }
        if (err instanceof OctoEverywhereError && err.code === 'OE_754') throw noWebcamError();
        throw err;
      }
    }

    function coolDownError(seconds: number): ServiceError {
      return new ServiceError('OE_609', RED._('errors.cooldown', { seconds }), { status: 609, kind: 'temporary' });
    }

    function noWebcamError(): CommandError {
      return new CommandError('OE_754', RED._('errors.no-webcam'), { status: 754, kind: 'permanent' });
    }

    /** The webcam list, cached per printer; `fresh` asks the printer again. */
    async function webcamList(client: OctoEverywhereClient, state: PrinterWebcams, fresh: boolean): Promise<WebcamList> {
      const now = clock().now();
      if (fresh || !state.list || now - state.listAt > WEBCAM_LIST_TTL_MS) {
        // Shared by every message and node of the printer, so no one message's signal may cancel it.
        const list = webcamRequest(state, () => client.commands.webcamList({ timeoutMs: LIST_TIMEOUT_MS }));
        state.list = list;
        state.listAt = now;
        // A failed look-up is not kept: the next message asks again.
        list.catch(() => {
          if (state.list === list) state.list = undefined;
        });
      }
      return state.list;
    }

    /** The webcam a message asks for, from the (cached, and on a miss refreshed) list. */
    async function chooseWebcam(client: OctoEverywhereClient, state: PrinterWebcams, selector: Selector): Promise<Webcam> {
      let list = await webcamList(client, state, false);
      let webcam = pick(list, selector);
      if (!webcam && selector !== undefined) {
        list = await webcamList(client, state, true);
        webcam = pick(list, selector);
      }
      if (list.webcams.length === 0) throw noWebcamError();
      if (!webcam) {
        const names = list.webcams.map((w) => `${w.index}: ${w.name}`).join(', ');
        const wanted = selector && 'name' in selector ? selector.name : String(selector?.index);
        throw new InvalidArgumentError(RED._('errors.unknown-webcam', { webcam: wanted, names }), 'OE_UNKNOWN_WEBCAM');
      }
      return webcam;
    }

    async function snapshot(msg: WebcamMessage, send: Send, ctx: InputContext, selector: Selector): Promise<void> {
      const state = printerWebcams(ctx.client);
      checkCoolDown(state);
      const webcam = await chooseWebcam(ctx.client, state, selector);
      const shot = await webcamRequest(state, () => ctx.client.commands.snapshot(webcam.index, { signal: ctx.signal }));
      // The client's Buffer as it is: no copy on the way to the flow.
      msg.payload = shot.image;
      msg.webcam = { name: webcam.name, index: webcam.index, transform: shot.transform } satisfies WebcamInfo;
      (msg as WebcamMessage & { contentType: string }).contentType = shot.contentType || 'image/jpeg';
      node.status({ fill: 'green', shape: 'dot', text: RED._(`${COMMON}status.ok`) });
      send(msg);
    }

    async function stream(msg: WebcamMessage, send: Send, ctx: InputContext, selector: Selector, limits: { maxFps: number; maxFrames: number }): Promise<void> {
      if (active) throw new OctoEverywhereError('OE_STREAM_RUNNING', RED._('errors.stream-running'));
      const { client, signal } = ctx;
      const state = printerWebcams(client);
      checkCoolDown(state);
      // Claimed before the first await, so a second start in the meantime is refused too.
      let stopRequested = false;
      const claim: ActiveStream = {
        stop: () => {
          stopRequested = true;
        },
      };
      active = claim;
      try {
        const webcam = await chooseWebcam(client, state, selector);
        // The relay also ends a stream at the account's limit; knowing it lets the node end it cleanly.
        const maxSeconds = connection?.hasAppApi() ? (await accountLimits(client.connection).get())?.maxSingleWebcamStreamLengthSeconds : undefined;
        if (stopRequested || signal.aborted) return;
        const response = await webcamRequest(state, () => client.commands.stream(webcam.index, { signal }));
        const info: WebcamInfo = { name: webcam.name, index: webcam.index, transform: response.transform ?? listTransform(webcam) };
        const run = { ...limits, maxSeconds, stopped: () => stopRequested };
        await pump(response.stream, response.boundary, msg, send, info, run, signal, (stop) => {
          claim.stop = stop;
        });
      } finally {
        active = undefined;
        node.status({ fill: 'grey', shape: 'ring', text: RED._(`${COMMON}status.stopped`) });
      }
    }

    /** Reads the MJPEG stream until it ends, is stopped, reaches its frame count or its time limit. */
    function pump(
      source: Readable,
      boundary: string | undefined,
      msg: WebcamMessage,
      send: Send,
      info: WebcamInfo,
      limits: { maxFps: number; maxFrames: number; maxSeconds?: number; stopped: () => boolean },
      signal: AbortSignal,
      onStop: (stop: () => void) => void,
    ): Promise<void> {
      const { payload: _payload, stop: _stop, webcam: _webcam, ...template } = msg;
      const parser = new MjpegParser({ boundary });
      const c = clock();
      const interval = limits.maxFps > 0 ? 1000 / limits.maxFps : 0;
      let sent = 0;
      let lastSentAt = 0;
      let previous: Buffer | undefined;
      let windowStart = c.now();
      let windowFrames = 0;
      const stallAfterMs = stallMs(interval);
      let lastFrameAt = c.now();
      node.status({ fill: 'green', shape: 'dot', text: RED._('status.streaming', { fps: formatFps(limits.maxFps) }) });

      return new Promise<void>((resolve, reject) => {
        let finished = false;
        let limitTimer: ClockTimer | undefined;
        let stallTimer: ClockTimer | undefined;
        const finish = (err?: OctoEverywhereError): void => {
          if (finished) return;
          finished = true;
          timers.cancel(limitTimer);
          timers.cancel(stallTimer);
          signal.removeEventListener('abort', onAbort);
          source.off('data', onData);
          // Ends the HTTP response and its socket: a stream is never left open.
          source.destroy();
          if (err) reject(err);
          else resolve();
        };
        const onAbort = (): void => finish();
        // One timer per stream, moved on lazily: a frame only notes its time.
        const watchStall = (): void => {
          const left = lastFrameAt + stallAfterMs - c.now();
          if (left > 0) {
            stallTimer = timers.after(left, watchStall);
            return;
          }
          const seconds = Math.round(stallAfterMs / 100) / 10;
          finish(new NetworkError('OE_STREAM_STALLED', RED._('errors.stream-stalled', { seconds }), { kind: 'temporary' }));
        };
        const onFrame = (frame: MjpegFrame): void => {
          if (finished) return;
          // Any frame, repeated or dropped, shows the camera is alive.
          lastFrameAt = c.now();
          const data = frame.data;
          // The plugin sends the first frame twice (and a still camera may repeat itself): send a picture once.
          const repeat = previous !== undefined && previous.length === data.length && previous.equals(data);
          previous = data;
          if (repeat) return;
          const now = c.now();
          // At most maxFps: frames in between are dropped, never queued.
          if (interval > 0 && sent > 0 && now - lastSentAt < interval) return;
          lastSentAt = now;
          sent += 1;
          windowFrames += 1;
          send({
            ...template,
            payload: data,
            webcam: { name: info.name, index: info.index, transform: { ...info.transform } },
            contentType: frame.headers['content-type'] || 'image/jpeg',
            frame: sent,
          } as NodeMessage);
          if (now - windowStart >= 1000) {
            node.status({ fill: 'green', shape: 'dot', text: RED._('status.streaming', { fps: formatFps((windowFrames * 1000) / (now - windowStart)) }) });
            windowStart = now;
            windowFrames = 0;
          }
          if (limits.maxFrames > 0 && sent >= limits.maxFrames) finish();
        };
        const onData = (chunk: Buffer): void => {
          try {
            parser.push(chunk, onFrame);
          } catch (err) {
            finish(asOctoEverywhereError(err));
          }
        };
        source.on('data', onData);
        source.once('end', () => finish());
        source.once('close', () => finish());
        source.on('error', () => finish(limits.stopped() ? undefined : new NetworkError('OE_STREAM_INTERRUPTED', RED._('errors.stream-interrupted'), { kind: 'temporary' })));
        signal.addEventListener('abort', onAbort, { once: true });
        onStop(() => finish());
        if (limits.maxSeconds !== undefined && limits.maxSeconds > 0) limitTimer = timers.after(limits.maxSeconds * 1000, () => finish());
        stallTimer = timers.after(stallAfterMs, watchStall);
        if (limits.stopped() || signal.aborted) finish();
      });
    }

    onInput<WebcamMessage>(RED, node, connection, async (msg, send, ctx) => {
      if (msg.stop === true) {
        // Ends the running stream (its start message completes); nothing is sent for the stop itself.
        active?.stop();
        return;
      }
      if (configError || !settings) throw configError ?? new OctoEverywhereError('OE_INTERNAL', RED._('errors.invalid-config'));
      const selector = msg.webcam === undefined || msg.webcam === null || msg.webcam === '' ? settings.webcam : parseSelector(msg.webcam, 'msg.webcam', t);
      try {
        if (settings.mode === 'stream') await stream(msg, send, ctx, selector, settings);
        else await snapshot(msg, send, ctx, selector);
      } catch (err) {
        // A 609 while the printer's cool-down runs (this node's or another's) shows the cool-down.
        const until = printerWebcams(ctx.client).coolDownUntil;
        if (err instanceof OctoEverywhereError && err.code === 'OE_609' && until > clock().now()) throw new FailureWithStatus(err, coolDownStatus(until));
        throw err;
      }
    });

    node.on('close', () => {
      active?.stop();
      timers.cancelAll();
    });
  }

  RED.nodes.registerType(TYPE, WebcamSnapshot as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  // The editor's webcam picker. The config node may not be deployed yet: then there is nothing to ask.
  // Write permission: it asks the printer through the relay on the owner's connection, which a read-only user must not trigger.
  RED.httpAdmin.get(`${ADMIN_ROUTES}/webcams/:connectionId`, RED.auth.needsPermission(`${TYPE}.write`), (req: Request, res: Response) => {
    void answerWebcams(RED, req, res);
  });

  /** Used by tests and the editor: the list the admin route answers with. */
  async function answerWebcams(api: NodeAPI, req: Request, res: Response): Promise<void> {
    const connection = api.nodes.getNode(String(req.params.connectionId)) as AppConnectionNode | null;
    if (!connection || connection.type !== CONFIG_TYPE || typeof connection.client !== 'function') {
      res.status(404).json({ code: 'OE_NOT_DEPLOYED', message: RED._('errors.not-deployed') });
      return;
    }
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    try {
      const client = connection.client();
      const list = await client.commands.webcamList({ signal: controller.signal, timeoutMs: LIST_TIMEOUT_MS });
      const state = printerWebcams(client);
      state.list = Promise.resolve(list);
      state.listAt = clock().now();
      res.json({
        defaultIndex: list.defaultIndex,
        webcams: list.webcams.map((w) => ({ index: w.index, name: w.name, enabled: w.enabled })),
      });
    } catch (err) {
      // Only the code and our own message, which never carries a credential.
      const e = asOctoEverywhereError(err);
      if (!res.headersSent && !controller.signal.aborted) res.status(e.code === 'OE_CLOSED' ? 409 : 502).json({ code: e.code, message: e.message });
    }
  }
};

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
    if (text.length <= 128 && !/[\u0000-\u001f]/.test(text)) return { name: text };
  } else if (isObject(value)) {
    if (value.index !== undefined) return parseSelector(value.index, what, t);
    if (typeof value.name === 'string') return parseSelector(value.name, what, t);
  }
  throw new InvalidArgumentError(t('errors.selector', { what, max: MAX_WEBCAM_INDEX }));
}

function optionalNumber(value: unknown, what: string, min: number, max: number, integer: boolean, t: Translate): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new InvalidArgumentError(t(integer ? 'errors.whole-number-range' : 'errors.number-range', { what, min, max }), 'OE_INVALID_CONFIG');
  }
  return n;
}

function formatFps(fps: number): string {
  if (!(fps > 0)) return '–';
  return fps >= 10 ? String(Math.round(fps)) : String(Math.round(fps * 10) / 10);
}
