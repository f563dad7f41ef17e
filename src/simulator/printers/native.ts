// The seam between the printer server and each kind's native API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { PrinterContext } from './context';
import { pickWebcam } from './command-api';
import { sendJson } from './http';
import { serveMjpeg } from './mjpeg';

export interface NativeApi {
  /** Serves every request outside the command API. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> | void;
  /** The path of the push socket, if the kind has one. */
  readonly socketPath?: string;
  onSocket?(socket: WebSocket, req: IncomingMessage): void;
  /** Whether a socket upgrade carries the credentials the kind requires (default: yes). */
  acceptsSocket?(req: IncomingMessage): boolean;
  /** The plugin's link to the printer host went down or came back (a test control). */
  hostChanged?(connected: boolean): void;
  /** Stops pushes and listeners (sockets themselves are closed by the server). */
  close(): void;
}

/**
 * mjpg-streamer as OctoPrint and Klipper hosts usually run it behind `/webcam/` (`/webcam2/` …
 * for further cameras): `?action=snapshot` and `?action=stream`. Returns false for other paths.
 */
export function serveNativeWebcam(ctx: PrinterContext, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const match = /^\/webcam(\d*)\/?$/.exec(url.pathname);
  if (!match) return false;
  const index = match[1] === '' ? 0 : Number(match[1]) - 1;
  const webcam = index < ctx.webcams.length ? pickWebcam(ctx.webcams, index) : undefined;
  const action = url.searchParams.get('action');
  if (!webcam || (action !== 'snapshot' && action !== 'stream')) {
    sendJson(res, 404, { error: 'Not found' });
    return true;
  }
  if (action === 'snapshot') {
    const jpeg = webcam.jpeg();
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length, 'Cache-Control': 'no-store' });
    res.end(jpeg);
    return true;
  }
  serveMjpeg(req, res, webcam, ctx.clock, {
    boundary: 'boundarydonotcross',
    firstFrameTwice: false,
    timestampHeader: true,
    noFrameTimeoutMs: ctx.realMs(60_000),
    registry: ctx.streams,
  });
  return true;
}
