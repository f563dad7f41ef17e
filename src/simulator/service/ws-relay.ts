// The WebSocket side of the relay (docs/octoeverywhere.md §3): the handshake passes the same gate as HTTP; the printer
// sees only `X-Api-Key*`, `Cookie` and the subprotocol list; text, binary and close frames pass through.
// A refused handshake answers with the 6xx as its HTTP status (docs/octoeverywhere.md §9.2); the MQTT proxy path is
// handed to the MqttProxy after the same gate. Pings are answered here, per hop, unless a stall says not.
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import type { SimPrinter } from '../contract';
import type { Account, Connection } from './account';
import type { Chaos } from './chaos';
import type { MqttProxy } from './mqtt-proxy';
import { admission, type ClockDelays, isMqttProxyPath, PLUGIN_TIMEOUT_MS, type PrinterTargets } from './relay-gate';
import { rejectUpgrade } from './status';

/** Close codes an endpoint may send; others (1005, 1006, 1015 …) only describe what happened. */
function sendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function relayClose(to: WebSocket, code: number, reason: Buffer): void {
  if (to.readyState === WebSocket.CLOSED || to.readyState === WebSocket.CLOSING) return;
  if (sendableCloseCode(code)) to.close(code, reason);
  else to.close();
}

function forwardedHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in req.headers) {
    if (name.startsWith('x-api-key') || name === 'cookie') out[name] = req.headers[name];
  }
  return out;
}

function subprotocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return header
    ? header
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p.length > 0)
    : [];
}

export class WsRelay {
  /** Accepts client sockets; the subprotocol is whatever the printer chose. */
  private readonly server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (_offered, req) => this.chosenProtocol.get(req) || false,
    autoPong: false,
  });
  private readonly chosenProtocol = new WeakMap<IncomingMessage, string>();
  private readonly sockets = new Set<WebSocket>();
  private readonly pendingSockets = new Set<Duplex>();

  constructor(
    private readonly account: Account,
    private readonly targets: PrinterTargets,
    private readonly delays: ClockDelays,
    private readonly chaos: Chaos,
    private readonly mqtt: MqttProxy,
  ) {}

  handle(req: IncomingMessage, socket: Duplex, head: Buffer, conn: Connection): void {
    const url = req.url ?? '/';
    const restarting = this.chaos.upgradeRefusal();
    if (restarting !== 0) {
      rejectUpgrade(socket, restarting);
      return;
    }
    const refusal = admission(this.account, conn, req.headers.authorization, url);
    if (refusal === 602) {
      this.delays.after(
        PLUGIN_TIMEOUT_MS,
        () => rejectUpgrade(socket, 602),
        () => socket.destroy(),
      );
      return;
    }
    if (refusal !== 0) {
      rejectUpgrade(socket, refusal);
      return;
    }
    if (isMqttProxyPath(url)) {
      this.mqtt.accept(req, socket, head, conn.printer, (status) => rejectUpgrade(socket, status));
      return;
    }
    const target = this.targets.of(conn.printer);
    let upstream: WebSocket;
    try {
      upstream = new WebSocket(`ws://${target.host}${url}`, subprotocols(req), {
        headers: forwardedHeaders(req),
        perMessageDeflate: false,
      });
    } catch {
      // `ws` throws on a subprotocol that is not a token (`a b`) or listed twice: a malformed handshake.
      rejectUpgrade(socket, 400);
      return;
    }
    this.track(upstream);
    this.pendingSockets.add(socket);
    let settled = false;
    /** Ends the handshake phase once: refused with `status`, or (undefined) accepted. */
    const settle = (status?: number): boolean => {
      if (settled) return false;
      settled = true;
      this.pendingSockets.delete(socket);
      socket.off('close', abandon);
      if (status !== undefined) {
        rejectUpgrade(socket, status);
        upstream.terminate();
      }
      return true;
    };
    const abandon = (): void => {
      settle();
      upstream.terminate();
    };
    // Stays attached: terminating a connecting socket emits 'error' later, which must not go unhandled.
    const refuse = (): void => void settle(502);
    socket.once('close', abandon);
    upstream.on('error', refuse);
    upstream.once('unexpected-response', (_request, printerRes) => void settle(printerRes.statusCode ?? 502));
    upstream.once('open', () => {
      if (!settle()) return;
      this.chosenProtocol.set(req, upstream.protocol);
      // Completes synchronously, so no printer frame can arrive before the pipe below exists.
      this.server.handleUpgrade(req, socket, head, (client) => this.pipe(client, upstream, conn.printer));
    });
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    for (const socket of this.pendingSockets) socket.destroy();
    this.pendingSockets.clear();
    this.server.close();
  }

  private track(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.once('close', () => this.sockets.delete(ws));
  }

  private pipe(client: WebSocket, upstream: WebSocket, printer: SimPrinter): void {
    this.track(client);
    const untrack = this.chaos.track({
      printer,
      terminate: () => {
        client.terminate();
        upstream.terminate();
      },
      close: (code, reason) => {
        client.close(code, reason);
        upstream.close();
      },
    });
    client.once('close', untrack);
    // A stalled relay forwards nothing and answers no ping (the frames are lost, not queued).
    const forward =
      (to: WebSocket) =>
      (data: RawData, isBinary: boolean): void => {
        if (this.chaos.knobs.stallSockets) this.chaos.stalledFrames++;
        else if (to.readyState === WebSocket.OPEN) {
          if (to === upstream) this.chaos.framesToPrinters++;
          to.send(data, { binary: isBinary });
        }
      };
    client.on('ping', (data: Buffer) => {
      if (this.chaos.knobs.stallSockets) this.chaos.stalledFrames++;
      else if (!this.chaos.knobs.unansweredPings) client.pong(data);
    });
    client.on('message', forward(upstream));
    upstream.on('message', forward(client));
    client.on('close', (code, reason) => relayClose(upstream, code, reason));
    upstream.on('close', (code, reason) => relayClose(client, code, reason));
    // Errors end in 'close', which the handlers above relay.
    client.on('error', () => upstream.terminate());
    upstream.on('error', () => client.terminate());
  }
}
