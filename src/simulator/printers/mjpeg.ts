// MJPEG over multipart/x-mixed-replace, for the command API's webcam/stream (boundary
// `oestreamboundary`, first frame sent twice) and the printers' own mjpg-streamer
// (`boundarydonotcross`). Frames are paced by the SimClock, and a stream ends once its camera
// has delivered no new frame for the no-frame timeout.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimClock } from '../contract';
import type { SimWebcam } from './webcam';

export interface MjpegOptions {
  boundary: string;
  /** The OctoEverywhere plugin sends the first frame twice so viewers paint at once. */
  firstFrameTwice: boolean;
  /** Adds mjpg-streamer's X-Timestamp part header. */
  timestampHeader: boolean;
  /** Simulated ms without a new frame after which the stream ends. Default 60 s. */
  noFrameTimeoutMs?: number;
  headers?: Record<string, string>;
  /** Holds the stream's ender while it is open, so the printer can end it on close(). */
  registry?: Set<() => void>;
}

export const NO_FRAME_TIMEOUT_MS = 60_000;

/** Serves the stream; returns a function that ends it (also called when the client goes away). */
export function serveMjpeg(req: IncomingMessage, res: ServerResponse, webcam: SimWebcam, clock: SimClock, options: MjpegOptions): () => void {
  const timeoutMs = options.noFrameTimeoutMs ?? NO_FRAME_TIMEOUT_MS;
  res.writeHead(200, {
    ...options.headers,
    'Content-Type': `multipart/x-mixed-replace; boundary=${options.boundary}`,
    'Cache-Control': 'no-store, no-cache, must-revalidate',
    Connection: 'close',
  });
  let congested = false;
  const writeFrame = (jpeg: Buffer): void => {
    const head = [`--${options.boundary}`, 'Content-Type: image/jpeg', `Content-Length: ${jpeg.length}`];
    if (options.timestampHeader) head.push(`X-Timestamp: ${(clock.now() / 1000).toFixed(6)}`);
    // One write per part: a slow reader skips frames instead of queueing them in memory.
    congested = !res.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), jpeg, Buffer.from('\r\n')]));
  };
  res.on('drain', () => {
    congested = false;
  });

  let lastFrame = webcam.frameNo();
  let lastFrameAt = clock.now();
  const first = webcam.jpeg();
  writeFrame(first);
  if (options.firstFrameTwice) writeFrame(first);

  const timer = clock.setInterval(() => {
    const frame = webcam.frameNo();
    if (frame !== lastFrame) {
      lastFrame = frame;
      lastFrameAt = clock.now();
      if (!congested) writeFrame(webcam.jpeg());
    } else if (clock.now() - lastFrameAt >= timeoutMs) {
      stop();
    }
  }, webcam.frameIntervalMs);

  let stopped = false;
  function stop(): void {
    if (stopped) return;
    stopped = true;
    options.registry?.delete(stop);
    clock.clearTimer(timer);
    if (!res.writableEnded) res.end();
  }
  options.registry?.add(stop);
  req.on('close', stop);
  res.on('close', stop);
  return stop;
}
