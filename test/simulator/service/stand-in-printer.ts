// A minimal printer for the service tests: its LAN server echoes what the relay sent it, so tests can
// see the printer side of every request and WebSocket. Controls follow the SimPrinter contract.
import { EventEmitter } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { GadgetWire, JobState, PrinterKind, SimClock, SimPrinter, SimPrinterEvent } from '../../../src/simulator/contract';
import type { PrinterFactory } from '../../../src/simulator/index';

export interface EchoedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bodyBytes: number;
}

let counter = 0;

export class StandInPrinter extends EventEmitter implements SimPrinter {
  readonly printerId: string;
  readonly localIp = '192.168.1.77';
  online = true;
  pluginTimeout = false;
  state: JobState = 'idle';
  url = '';
  /** Every WebSocket handshake the printer saw. */
  readonly wsHandshakes: IncomingMessage['headers'][] = [];
  private readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => protocols.values().next().value ?? false });
  private gadgetWire: GadgetWire = { State: 2, Status: 'Idle', StatusColor: 'w', Rating: 10 };

  constructor(
    readonly kind: PrinterKind,
    readonly name: string,
  ) {
    super();
    this.printerId = `STANDIN${String(++counter).padStart(4, '0')}`.padEnd(60, 'X');
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      this.wsHandshakes.push(req.headers);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.send(JSON.stringify({ protocol: ws.protocol }));
        ws.on('message', (data, isBinary) => {
          if (!isBinary && data.toString() === 'close-me') ws.close(4001, 'asked to');
          else ws.send(data, { binary: isBinary });
        });
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  gadget(): GadgetWire {
    return this.gadgetWire;
  }

  createApiKey(appName: string): string | undefined {
    return this.kind === 'octoprint' ? `KEY-${appName.length}-0123456789ABCDEF` : undefined;
  }

  startPrint(fileName = 'benchy.gcode'): void {
    this.state = 'printing';
    this.gadgetWire = { State: 3, Status: 'Looking Good', StatusColor: 'g', Rating: 8 };
    this.emitEvent({ EventType: 1, PrintId: 'p-1', FileName: fileName, DurationSec: 0, Progress: 0 });
  }

  pause(): void {
    this.state = 'paused';
    this.emitEvent({ EventType: 4, PrintId: 'p-1' });
  }

  resume(): void {
    this.state = 'printing';
    this.emitEvent({ EventType: 5, PrintId: 'p-1' });
  }

  cancel(): void {
    this.state = 'idle';
    this.emitEvent({ EventType: 3, PrintId: 'p-1' });
  }

  scriptGadget(kind: 'warn' | 'pause' | 'good'): void {
    this.gadgetWire =
      kind === 'good'
        ? { State: 3, Status: 'Looking Good', StatusColor: 'g', Rating: 8 }
        : { State: kind === 'pause' ? 4 : 3, Status: 'Possible Failure', StatusColor: kind === 'pause' ? 'r' : 'y', Rating: kind === 'pause' ? 1 : 3 };
  }

  injectError(message: string, platformErrorCode?: string): void {
    this.emitEvent({ EventType: 9, Error: message, PlatformErrorCode: platformErrorCode });
  }

  emitEvent(event: SimPrinterEvent): void {
    this.emit('event', event);
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://printer');
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      if (url.pathname === '/redirect') {
        res.writeHead(302, { location: `${this.url}/landed?x=1` });
        res.end();
      } else if (url.pathname === '/bytes') {
        // ?size=N&chunked=1: N bytes, announced by Content-Length unless chunked.
        const size = Number(url.searchParams.get('size') ?? 0);
        res.writeHead(200, url.searchParams.has('chunked') ? { 'content-type': 'application/octet-stream' } : { 'content-length': size });
        res.end(Buffer.alloc(size, 0x61));
      } else if (url.pathname.startsWith('/webcam')) {
        if (url.searchParams.get('action') === 'stream') {
          res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=boundarydonotcross' });
          res.write('--boundarydonotcross\r\nContent-Type: image/jpeg\r\nContent-Length: 3\r\n\r\nJPG\r\n');
        } else {
          res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': 3 });
          res.end('JPG');
        }
      } else {
        const echo: EchoedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes };
        const body = JSON.stringify(echo);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-printer': 'stand-in' });
        res.end(body);
      }
    });
  }
}

export const standInFactory: PrinterFactory = ({ kind, name }: { kind: PrinterKind; name: string; clock: SimClock }) => new StandInPrinter(kind, name).listen();
