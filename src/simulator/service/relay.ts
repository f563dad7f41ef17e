// The HTTP side of the relay (docs/octoeverywhere.md §3): an App or Shared Connection host forwards to the printer's
// LAN server with production's header rewriting, streaming both ways and the account limits.
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { SimClock, SimTimer } from '../contract';
import type { Account, Connection } from './account';
import { isWebcamView, type WebcamViewCounter } from './limits';
import { NOT_A_WEBSOCKET } from './mqtt-proxy';
import { admission, ClockDelays, isMqttProxyPath, PLUGIN_TIMEOUT_MS, type PrinterTarget, PrinterTargets } from './relay-gate';
import { sendStatus } from './status';

export interface RelayContext {
  account: Account;
  clock: SimClock;
  webcamViews: WebcamViewCounter;
  targets: PrinterTargets;
  delays: ClockDelays;
}

/** Replaces the origin (scheme://host[:port]) at the start of an absolute URL. */
export function replaceOrigin(value: string, origin: string): string {
  const scheme = value.indexOf('://');
  if (scheme < 0) return value;
  const path = value.indexOf('/', scheme + 3);
  return path < 0 ? origin : origin + value.slice(path);
}

/** Request headers as the plugin hands them to the printer (docs/octoeverywhere.md §3). */
function requestHeadersFor(req: IncomingMessage, target: PrinterTarget): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const incoming = req.headers;
  for (const name in incoming) {
    switch (name) {
      case 'accept-encoding':
      case 'transfer-encoding':
      case 'x-forwarded-for':
      case 'x-real-ip':
      // falls through: the OctoEverywhere credentials are the relay's, never the printer's.
      case 'authorization':
      // falls through: hop-by-hop, the relay's own connection to the printer decides these.
      case 'connection':
      case 'keep-alive':
      case 'proxy-connection':
      case 'upgrade':
      case 'te':
      case 'trailer':
      case 'host':
        break;
      case 'referer':
      case 'origin': {
        const value = incoming[name];
        if (value !== undefined) out[name] = replaceOrigin(value, target.origin);
        break;
      }
      default:
        out[name] = incoming[name];
    }
  }
  out.host = target.host;
  out['x-forwarded-host'] = incoming.host;
  out['x-forwarded-proto'] = 'https';
  return out;
}

/** Response headers for the client: hop-by-hop dropped, a redirect to the printer pointed back at the public host. */
function responseHeadersFor(res: IncomingMessage, target: PrinterTarget, conn: Connection): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const incoming = res.headers;
  for (const name in incoming) {
    if (name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding') continue;
    out[name] = incoming[name];
  }
  const location = incoming.location;
  if (location !== undefined && location.toLowerCase().startsWith(target.origin)) {
    out.location = conn.origin + location.slice(target.origin.length);
  }
  return out;
}

export class HttpRelay {
  /** Keep-alive to the printers: the relay's throughput depends on not reconnecting per request. */
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
  private readonly streamTimers = new Map<SimTimer, ServerResponse>();

  constructor(private readonly ctx: RelayContext) {}

  handle(req: IncomingMessage, res: ServerResponse, conn: Connection): void {
    const url = req.url ?? '/';
    const refusal = admission(this.ctx.account, conn, req.headers.authorization, url);
    if (refusal === 602) {
      this.ctx.delays.after(
        PLUGIN_TIMEOUT_MS,
        () => sendStatus(res, 602),
        () => res.destroy(),
      );
      return;
    }
    if (refusal !== 0) {
      sendStatus(res, refusal);
      return;
    }
    if (isMqttProxyPath(url)) {
      // The proxy speaks only WebSocket; plain HTTP gets the command API's envelope (docs/octoeverywhere.md §9.1).
      const body = JSON.stringify(NOT_A_WEBSOCKET);
      res.writeHead(200, { 'content-type': 'text/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const limits = this.ctx.account.limits;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limits.MaxUploadFileSizeBytes) {
      // The body is not read, so the connection cannot be reused.
      sendStatus(res, 608, true);
      return;
    }
    const query = url.indexOf('?');
    const path = (query < 0 ? url : url.slice(0, query)).toLowerCase();
    if (isWebcamView(path) && !this.ctx.webcamViews.tryView(conn.printer.printerId)) {
      sendStatus(res, 609);
      return;
    }
    this.forward(req, res, conn, url, declared === undefined && req.headers['transfer-encoding'] !== undefined, true);
  }

  close(): void {
    for (const [timer, res] of this.streamTimers) {
      this.ctx.clock.clearTimer(timer);
      res.destroy();
    }
    this.streamTimers.clear();
    this.agent.destroy();
  }

  private forward(req: IncomingMessage, res: ServerResponse, conn: Connection, url: string, countUpload: boolean, mayRetry: boolean): void {
    const target = this.ctx.targets.of(conn.printer);
    const upstream = http.request({
      agent: this.agent,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: url,
      headers: requestHeadersFor(req, target),
    });
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';

    upstream.on('response', (printerRes) => this.respond(printerRes, res, conn, target));
    upstream.on('error', () => {
      // A pooled keep-alive socket the printer closed meanwhile: safe to try once more for a body-less request.
      if (mayRetry && upstream.reusedSocket && !hasBody && !res.headersSent) {
        this.forward(req, res, conn, url, countUpload, false);
        return;
      }
      if (res.headersSent) res.destroy();
      else sendStatus(res, 502);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });

    if (!hasBody) {
      upstream.end();
      return;
    }
    if (countUpload) {
      // A chunked upload announces no size: count it as it streams and stop it at the limit.
      const max = this.ctx.account.limits.MaxUploadFileSizeBytes;
      let bytes = 0;
      const count = (chunk: Buffer): void => {
        bytes += chunk.length;
        if (bytes > max) {
          req.off('data', count);
          req.unpipe(upstream);
          upstream.destroy();
          sendStatus(res, 608, true);
        }
      };
      req.on('data', count);
    }
    req.pipe(upstream);
  }

  private respond(printerRes: IncomingMessage, res: ServerResponse, conn: Connection, target: PrinterTarget): void {
    if (res.headersSent || res.destroyed) {
      printerRes.destroy();
      return;
    }
    const limits = this.ctx.account.limits;
    const declared = printerRes.headers['content-length'];
    if (declared !== undefined && Number(declared) > limits.MaxDownloadFileSizeBytes) {
      printerRes.destroy();
      sendStatus(res, 607);
      return;
    }
    const contentType = printerRes.headers['content-type'];
    const isStream = contentType !== undefined && contentType.startsWith('multipart/x-mixed-replace');
    res.writeHead(printerRes.statusCode ?? 502, printerRes.statusMessage, responseHeadersFor(printerRes, target, conn));
    if (isStream) this.limitStreamLength(printerRes, res);
    else if (declared === undefined) this.limitDownload(printerRes, res, limits.MaxDownloadFileSizeBytes);
    printerRes.pipe(res);
    printerRes.on('error', () => res.destroy());
  }

  /** A webcam stream ends after the account's single-stream limit (ending it cleanly is the simulator's choice). */
  private limitStreamLength(printerRes: IncomingMessage, res: ServerResponse): void {
    const timer = this.ctx.clock.setTimeout(() => {
      this.streamTimers.delete(timer);
      printerRes.unpipe(res);
      printerRes.destroy();
      res.end();
    }, this.ctx.account.limits.MaxSingleWebcamStreamLengthSeconds * 1000);
    this.streamTimers.set(timer, res);
    res.on('close', () => {
      this.ctx.clock.clearTimer(timer);
      this.streamTimers.delete(timer);
    });
  }

  /** A download of unannounced size is cut off once it passes the limit (the status line is already sent). */
  private limitDownload(printerRes: IncomingMessage, res: ServerResponse, max: number): void {
    let bytes = 0;
    printerRes.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > max) {
        printerRes.destroy();
        res.destroy();
      }
    });
  }
}
