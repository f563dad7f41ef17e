// The webcam node's stream mode: reads one MJPEG stream and sends its pictures on as messages, at
// most maxFps (frames in between are dropped, never queued), until the stream ends, is stopped,
// reaches its frame count or time limit, or stalls. Every timer is on the node's Timers and every
// exit destroys the stream, so nothing is left open.
import type { Readable } from 'node:stream';
import { type Clock, type ClockTimer, MjpegParser, type MjpegFrame, NetworkError, type OctoEverywhereError, type WebcamTransform } from '../../client';
import type { Timers } from './clock';
import { asOctoEverywhereError } from './failure';
import type { Send } from './types';

/** msg.webcam on the way out. */
export interface WebcamInfo {
  name: string;
  index: number;
  transform: WebcamTransform;
}

export interface PumpOptions {
  source: Readable;
  boundary?: string;
  /** The start message's other properties, copied onto every frame message. */
  template: Record<string, unknown>;
  send: Send;
  info: WebcamInfo;
  maxFps: number;
  maxFrames: number;
  /** The account's longest single stream, when known. */
  maxSeconds?: number;
  /** No frame for this long ends the stream with OE_STREAM_STALLED. */
  stallAfterMs: number;
  /** A stop asked for before the pump started. */
  stopped: () => boolean;
  signal: AbortSignal;
  /** Hands over the function that ends this stream (msg.stop, close). */
  onStop: (stop: () => void) => void;
  /** The frame rate actually sent, about once a second (at the start: Max fps). */
  onRate: (fps: number) => void;
  clock: Clock;
  timers: Timers;
  /** The node's catalog texts for the two ways a stream breaks. */
  words: { stalled: (seconds: number) => string; interrupted: string };
}

export function pumpFrames(o: PumpOptions): Promise<void> {
  const { source, clock: c, timers } = o;
  const parser = new MjpegParser({ boundary: o.boundary });
  const interval = o.maxFps > 0 ? 1000 / o.maxFps : 0;
  let sent = 0;
  let lastSentAt = 0;
  let previous: Buffer | undefined;
  let windowStart = c.now();
  let windowFrames = 0;
  let lastFrameAt = c.now();
  o.onRate(o.maxFps);

  return new Promise<void>((resolve, reject) => {
    let finished = false;
    let limitTimer: ClockTimer | undefined;
    let stallTimer: ClockTimer | undefined;
    const finish = (err?: OctoEverywhereError): void => {
      if (finished) return;
      finished = true;
      timers.cancel(limitTimer);
      timers.cancel(stallTimer);
      o.signal.removeEventListener('abort', onAbort);
      source.off('data', onData);
      // Ends the HTTP response and its socket: a stream is never left open.
      source.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = (): void => finish();
    // One timer per stream, moved on lazily: a frame only notes its time.
    const watchStall = (): void => {
      const left = lastFrameAt + o.stallAfterMs - c.now();
      if (left > 0) {
        stallTimer = timers.after(left, watchStall);
        return;
      }
      finish(new NetworkError('OE_STREAM_STALLED', o.words.stalled(Math.round(o.stallAfterMs / 100) / 10), { kind: 'temporary' }));
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
      o.send({
        ...o.template,
        payload: data,
        webcam: { name: o.info.name, index: o.info.index, transform: { ...o.info.transform } },
        contentType: frame.headers['content-type'] || 'image/jpeg',
        frame: sent,
      });
      if (now - windowStart >= 1000) {
        o.onRate((windowFrames * 1000) / (now - windowStart));
        windowStart = now;
        windowFrames = 0;
      }
      if (o.maxFrames > 0 && sent >= o.maxFrames) finish();
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
    source.on('error', () => finish(o.stopped() ? undefined : new NetworkError('OE_STREAM_INTERRUPTED', o.words.interrupted, { kind: 'temporary' })));
    o.signal.addEventListener('abort', onAbort, { once: true });
    o.onStop(() => finish());
    if (o.maxSeconds !== undefined && o.maxSeconds > 0) limitTimer = timers.after(o.maxSeconds * 1000, () => finish());
    stallTimer = timers.after(o.stallAfterMs, watchStall);
    if (o.stopped() || o.signal.aborted) finish();
  });
}
