// A WebSocket to a path on the printer: through the App Connection (auth header on the handshake,
// `X-Api-Key` when set, subprotocols joined as the relay splits them), or the LAN URL while it answers
// (which never receives OctoEverywhere's credentials). A refused upgrade becomes the same coded error
// as the HTTP answer would; the base class below runs the heartbeat every platform session shares.
import WebSocket from 'ws';
import { networkError } from '../network-errors';
import { LOCAL_RETRY_AFTER_MS } from '../route-chooser';
import { NetworkError, OctoEverywhereError, serviceError } from '../errors';
import { loopbackAwareLookup } from '../urls';
import { checkHeaders, checkPrinterPath } from '../validate';
import type { LiveSession, SessionContext, SessionSink } from './session';

/** How long the LAN handshake may take before the relay is used instead. */
const LOCAL_HANDSHAKE_MS = 3_000;

export interface PrinterSocketOptions {
  /** Offered subprotocols; `ws` joins them with `,` and no space, as the relay splits them (it does not trim). */
  protocols?: string[];
  headers?: Record<string, string>;
  /**
   * Called inside the socket's `open` event, before `ws` can emit any frame: a frame that came in the
   * same packet as the upgrade's answer is emitted in the same turn, before the returned promise's
   * continuation runs, so a listener attached only then would miss it.
   */
  onOpen?: (ws: WebSocket) => void;
}

/** When the LAN route last failed, per live connection (the supervisor owns it across attempts). */
export interface LocalRouteState {
  downUntilMs: number;
}

/**
 * Opens the socket, LAN first when configured and not recently down, else through the relay.
 * Resolves once open; rejects with an OctoEverywhereError (a 6xx upgrade answer → serviceError).
 */
export async function openPrinterSocket(
  ctx: SessionContext & { local?: LocalRouteState },
  path: string,
  options: PrinterSocketOptions = {},
): Promise<{ ws: WebSocket; via: 'relay' | 'local' }> {
  const { connection, clock } = ctx;
  const checked = checkPrinterPath(path);
  const headers = checkHeaders(options.headers);
  const protocols = options.protocols?.length ? options.protocols : undefined;
  const local = ctx.local;
  if (ctx.preferLocal && connection.localUrl && (!local || clock.now() >= local.downUntilMs)) {
    // Only the printer's own key goes to the LAN; never the OctoEverywhere credentials.
    const lanHeaders = { ...headers, ...connection.localAuthHeaders() };
    const url = `${connection.localUrl.replace(/^http/, 'ws')}${checked}`;
    try {
      const ws = new WebSocket(url, protocols, {
        headers: lanHeaders,
        lookup: loopbackAwareLookup,
        handshakeTimeout: LOCAL_HANDSHAKE_MS,
        followRedirects: false,
      });
      await handshake(ws, 'local', connection.appId, options.onOpen);
      return { ws, via: 'local' };
    } catch (err) {
      // A LAN that answers with an HTTP refusal (401: wrong key) is the printer speaking: the relay would hear the same.
      if (err instanceof OctoEverywhereError && err.code === 'OE_SOCKET_REFUSED' && err.status !== undefined && err.status < 500) throw err;
      if (local) local.downUntilMs = clock.now() + LOCAL_RETRY_AFTER_MS;
    }
  }
  const ws = connection.openWebSocket(checked, { protocols, headers });
  await handshake(ws, 'relay', connection.appId, options.onOpen);
  return { ws, via: 'relay' };
}

/** Waits for the upgrade; a refused one is mapped to our error (the response is drained, the socket dropped). */
function handshake(ws: WebSocket, via: 'relay' | 'local', appId: string, onOpen?: (ws: WebSocket) => void): Promise<void> {
  const what = via === 'relay' ? 'The printer socket through OctoEverywhere' : "The printer socket on the printer's local URL";
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error?: OctoEverywhereError): void => {
      if (settled) return;
      settled = true;
      ws.off('open', opened);
      if (error) {
        ws.on('error', () => undefined);
        ws.terminate();
        reject(error);
      } else resolve();
    };
    const opened = (): void => {
      if (settled) return;
      onOpen?.(ws);
      finish();
    };
    ws.once('open', opened);
    ws.once('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      req.destroy();
      finish(upgradeError(status, via, what, appId));
    });
    ws.once('error', (err) => finish(networkError(err, what)));
  });
}

/** The error of an upgrade answered with `status` instead of 101: the same 6xx error as on HTTP. */
export function upgradeError(status: number, via: 'relay' | 'local', what: string, appId: string): OctoEverywhereError {
  if (via === 'relay' && status >= 600 && status <= 699) return serviceError(status, what, appId);
  const kind = status >= 500 || status === 429 || status === 408 ? 'temporary' : 'permanent';
  const advice = status === 401 || status === 403 ? " Check the printer's API key." : '';
  return new OctoEverywhereError('OE_SOCKET_REFUSED', `${what} was refused: the printer answered HTTP ${status}.${advice}`, { status, kind });
}

/** Parses the status out of MQTT.js's stream error text (`Unexpected server response: 601`): MQTT.js hides the upgrade answer otherwise. */
export function statusOfUpgradeMessage(message: string): number | undefined {
  const m = /Unexpected server response: (\d{3})/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/**
 * A session over one WebSocket. Each heartbeat sends a ping and the platform's own keepalive; a
 * heartbeat that finds nothing received (no pong, no frame) since the previous one declares the
 * socket dead, so a silent path is noticed within two heartbeat periods. The keepalive is told
 * whether the last ping was answered: where the edge answers pings, the pong is the proof of life,
 * and a keepalive that asks for an answer only matters where it does not.
 */
export abstract class WebSocketSession implements LiveSession {
  protected ws: WebSocket | undefined;
  protected sink: SessionSink | undefined;
  private heard = true;
  /** A pong came since the last heartbeat. */
  private ponged = false;
  private ended = false;

  constructor(
    protected readonly ctx: SessionContext & { local?: LocalRouteState },
    private readonly path: string,
    private readonly socketOptions: PrinterSocketOptions = {},
  ) {}

  async open(sink: SessionSink): Promise<{ via: 'relay' | 'local' }> {
    this.sink = sink;
    await this.beforeOpen();
    // Listeners go on inside the open event: OctoPrint's `connected` can come in the upgrade's packet.
    const { ws, via } = await openPrinterSocket(this.ctx, this.path, { ...this.socketOptions, onOpen: (socket) => this.listen(socket, sink) });
    if (this.ended) {
      ws.terminate();
      throw new OctoEverywhereError('OE_CLOSED', 'The live connection was stopped.', { kind: 'permanent' });
    }
    this.ws = ws;
    this.onOpen();
    return { via };
  }

  private listen(ws: WebSocket, sink: SessionSink): void {
    const alive = (): void => {
      this.heard = true;
      sink.alive();
    };
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      alive();
      if (isBinary || this.ended) return;
      let message: unknown;
      try {
        message = JSON.parse(rawBuffer(data).toString('utf8'));
      } catch {
        return; // not ours to understand; the printer's own frames are not errors of the connection
      }
      this.onMessage(message);
    });
    ws.on('pong', () => {
      this.ponged = true;
      alive();
    });
    ws.on('error', () => undefined); // the close that follows carries the ending
    ws.once('close', (code: number) => {
      this.ws = undefined;
      if (this.ended) return;
      this.ended = true;
      this.onEnded();
      sink.closed(new NetworkError('OE_SOCKET_CLOSED', `The printer socket closed (code ${code}); reconnecting.`, { kind: 'temporary' }));
    });
  }

  heartbeat(): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return true;
    if (!this.heard) return false;
    const pingAnswered = this.ponged;
    this.heard = false;
    this.ponged = false;
    ws.ping();
    this.keepalive(pingAnswered);
    return true;
  }

  close(how: 'clean' | 'dead' = 'clean'): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnded();
    const ws = this.ws;
    this.ws = undefined;
    if (ws) endSocket(ws, how);
  }

  protected send(message: unknown): void {
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  /** Before the socket opens (OctoPrint's passive login). */
  protected async beforeOpen(): Promise<void> {}
  protected abstract onOpen(): void;
  protected abstract onMessage(message: unknown): void;
  /** The platform's keepalive, sent with each heartbeat ping; `pingAnswered`: the previous ping got its pong. */
  protected abstract keepalive(pingAnswered: boolean): void;
  /** Releases the session's own timers. */
  protected onEnded(): void {}
}

/** Ends a socket: a clean close frame (a peer that never answers it is cut off by ws's own close timer), or at once when the path is dead. */
export function endSocket(ws: WebSocket, how: 'clean' | 'dead'): void {
  if (ws.readyState === WebSocket.OPEN && how === 'clean') ws.close(1000, 'closing');
  else ws.terminate();
}

/** A frame's bytes, however `ws` delivered them. */
export function rawBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
