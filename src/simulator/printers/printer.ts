// One simulated printer: a real HTTP (and WebSocket) server on 127.0.0.1 — its "LAN" address —
// serving the kind's native API and the OctoEverywhere plugin's command API over a shared print
// simulation, plus the controls tests and the demo use.
import { EventEmitter } from 'node:events';
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { timeScaleOf } from '../clock';
import type { GadgetWire, JobState, PrinterKind, SimClock, SimPrinter, SimPrinterEvent } from '../contract';
import { BambuBroker, createBambuApi, nextBambuSerial } from './bambu';
import { COMMAND_API_PREFIX, handleCommandApi } from './command-api';
import type { PrinterContext } from './context';
import { Cc2Broker, nextCc2Serial } from './elegoo-cc2';
import { FileStore, seedFiles } from './files';
import type { GadgetSetting } from './gadget';
import { requestUrl, sendJson } from './http';
import { createMoonrakerApi } from './moonraker';
import type { PrinterBroker } from './mqtt-broker';
import type { NativeApi } from './native';
import { createOctoPrintApi } from './octoprint';
import { PLATFORMS } from './platform';
import { PrintSimulation, type PauseOptions, type PrintOptions } from './print-simulation';
import { SimWebcam, type WebcamOptions } from './webcam';

export interface StartPrinterOptions {
  kind: PrinterKind;
  name: string;
  clock: SimClock;
  /** 60 chars A-Z0-9; random when absent. */
  printerId?: string;
  /** The printer's cameras; default one per kind, `[]` for none. */
  webcams?: WebcamOptions[];
  /**
   * OctoPrint: the API key the native API accepts (random when absent). Moonraker: when given,
   * X-Api-Key is required (Moonraker trusts the LAN by default). Bambu: unused.
   */
  apiKey?: string;
  /** Simulated ms per webcam frame. Default: one frame per real second at the clock's time scale. */
  webcamFrameIntervalMs?: number;
  /** Simulated ms per print-simulation step. Default 1000. */
  tickMs?: number;
  /** Bambu / Elegoo CC2: the printer's serial number (default a stable fake in start order). */
  serialNumber?: string;
  /** Reprint after each finished print's bed cool-down (for the demo). */
  loop?: boolean;
}

/** The contract's SimPrinter plus the controls and internals the simulator and tests use. */
export interface SimulatedPrinter extends SimPrinter {
  /** The key OctoPrint's (or a keyed Moonraker's) native API accepts. */
  readonly apiKey: string | undefined;
  readonly simulation: PrintSimulation;
  readonly webcams: readonly SimWebcam[];
  readonly files: FileStore;
  /** Bambu / Elegoo CC2: the serial number in the printer's MQTT topics; undefined for other kinds. */
  readonly serialNumber: string | undefined;
  /** Bambu / Elegoo CC2: the printer's broker behind the MQTT proxy. */
  readonly mqtt: PrinterBroker | undefined;
  /** Whether the plugin reaches its printer host; false → command API 785 (and, for MQTT printers, the MQTT link drops). */
  readonly hostConnected: boolean;
  setHostConnected(connected: boolean): void;
  setLoop(on: boolean): void;
  /** Gadget on, off, or off for the current print only (State 0 / 1 of docs/octoeverywhere.md §4). */
  setGadget(setting: GadgetSetting): void;
  /** Filament change (EventType 11) or user interaction (12) required. */
  requireAction(kind: 'filament' | 'interaction'): void;
  /** A frozen camera delivers no new frames; open streams end after 60 s of that. */
  freezeWebcams(frozen: boolean): void;
  startPrint(fileName?: string, opts?: PrintOptions): boolean;
  pause(options?: PauseOptions): boolean;
  resume(): boolean;
  cancel(): boolean;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function newPrinterId(): string {
  let id = '';
  for (let i = 0; i < 60; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export async function startPrinter(opts: StartPrinterOptions): Promise<SimulatedPrinter> {
  const printer = new Printer(opts);
  await printer.listen();
  return printer;
}

class Printer extends EventEmitter implements SimulatedPrinter {
  readonly kind: PrinterKind;
  readonly name: string;
  readonly printerId: string;
  readonly localIp = '127.0.0.1';
  readonly apiKey: string | undefined;
  readonly simulation: PrintSimulation;
  readonly webcams: readonly SimWebcam[];
  readonly files: FileStore;
  readonly mqtt: PrinterBroker | undefined;
  pluginTimeout = false;
  private isOnline = true;
  private readonly ctx: PrinterContext;
  private readonly native: NativeApi;
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  /** API keys created by createApiKey, with the app each was made for. */
  readonly appApiKeys = new Map<string, string>();
  private port = 0;
  private closing: Promise<void> | undefined;

  constructor(opts: StartPrinterOptions) {
    super();
    const platform = PLATFORMS[opts.kind];
    const scale = timeScaleOf(opts.clock);
    this.kind = opts.kind;
    this.name = opts.name;
    this.printerId = opts.printerId ?? newPrinterId();
    this.apiKey =
      opts.kind === 'octoprint' ? (opts.apiKey ?? randomBytes(16).toString('hex').toUpperCase()) : opts.kind === 'moonraker' ? opts.apiKey : undefined;
    this.simulation = new PrintSimulation({
      clock: opts.clock,
      reportsCancelled: platform.reportsCancelled,
      hasChamber: platform.hasChamber,
      tickMs: opts.tickMs,
      lights: platform.lights,
    });
    this.simulation.setLoop(opts.loop ?? false);
    const frameMs = opts.webcamFrameIntervalMs ?? 1000 * scale;
    this.webcams = (opts.webcams ?? platform.defaultWebcams).map(
      (w) =>
        new SimWebcam(
          w,
          opts.clock,
          frameMs,
          () => this.simulation.progress,
          () => this.simulation.gadget.rating,
        ),
    );
    this.files = new FileStore(opts.kind, () => opts.clock.now());
    seedFiles(this.files, opts.kind);
    this.ctx = {
      kind: opts.kind,
      name: opts.name,
      printerId: this.printerId,
      clock: opts.clock,
      platform,
      sim: this.simulation,
      webcams: this.webcams,
      files: this.files,
      apiKeys: new Set(this.apiKey === undefined ? [] : [this.apiKey]),
      hostConnected: true,
      streams: new Set(),
      realMs: (ms) => ms * scale,
    };
    // Bambu and the CC2 have the same companion on the LAN; their live state is on the MQTT broker.
    this.native =
      opts.kind === 'octoprint'
        ? createOctoPrintApi(this.ctx)
        : opts.kind === 'moonraker'
          ? createMoonrakerApi(this.ctx)
          : createBambuApi(this.ctx, () => this.online);
    this.mqtt =
      opts.kind === 'bambu'
        ? new BambuBroker(this.ctx, opts.serialNumber ?? nextBambuSerial())
        : opts.kind === 'elegoo-cc2'
          ? new Cc2Broker(this.ctx, opts.serialNumber ?? nextCc2Serial())
          : undefined;
    this.simulation.on('state', (state: JobState) => this.emit('state', state));
    this.simulation.on('event', (event: SimPrinterEvent) => this.emit('event', event));
    this.server = createServer((req, res) => {
      this.dispatch(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(err) });
        else res.destroy();
      });
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
  }

  get url(): string {
    return `http://${this.localIp}:${this.port}`;
  }

  get state(): JobState {
    return this.simulation.state;
  }

  get serialNumber(): string | undefined {
    return this.mqtt?.serialNumber;
  }

  get online(): boolean {
    return this.isOnline;
  }

  /** Tests flip this; the service closes the printer's relayed sockets when it goes false. */
  set online(on: boolean) {
    if (this.isOnline === on) return;
    this.isOnline = on;
    this.emit('online', on);
  }

  get hostConnected(): boolean {
    return this.ctx.hostConnected;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.localIp, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  gadget(): GadgetWire {
    return this.simulation.gadget.wire(this.simulation.active);
  }

  createApiKey(appName: string): string | undefined {
    if (this.kind !== 'octoprint') return undefined;
    const key = randomBytes(16).toString('hex').toUpperCase();
    this.appApiKeys.set(key, appName);
    this.ctx.apiKeys.add(key);
    return key;
  }

  startPrint(fileName?: string, opts?: PrintOptions): boolean {
    return this.simulation.startPrint(fileName, opts);
  }

  pause(options?: PauseOptions): boolean {
    return this.simulation.pause(options);
  }

  resume(): boolean {
    return this.simulation.resume();
  }

  cancel(): boolean {
    return this.simulation.cancel();
  }

  scriptGadget(kind: 'warn' | 'pause' | 'good'): void {
    this.simulation.scriptGadget(kind);
  }

  injectError(message: string, platformErrorCode?: string): void {
    this.simulation.injectError(message, platformErrorCode);
  }

  setHostConnected(connected: boolean): void {
    if (this.ctx.hostConnected === connected) return;
    this.ctx.hostConnected = connected;
    this.native.hostChanged?.(connected);
    this.mqtt?.setHostUp(connected);
  }

  setLoop(on: boolean): void {
    this.simulation.setLoop(on);
  }

  setGadget(setting: GadgetSetting): void {
    this.simulation.gadget.setting = setting;
  }

  requireAction(kind: 'filament' | 'interaction'): void {
    this.simulation.requireAction(kind);
  }

  freezeWebcams(frozen: boolean): void {
    for (const webcam of this.webcams) webcam.freeze(frozen);
  }

  /** Ends streams and sockets, stops every timer and closes the server. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.simulation.close();
      this.native.close();
      this.mqtt?.close();
      for (const stop of [...this.ctx.streams]) stop();
      for (const client of this.wss.clients) client.terminate();
      this.wss.close();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (url.pathname.toLowerCase().startsWith(COMMAND_API_PREFIX)) await handleCommandApi(this.ctx, req, res);
    else await this.native.handle(req, res, url);
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = requestUrl(req).pathname;
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!this.native.socketPath || path !== this.native.socketPath || !this.native.onSocket) return refuse('404 Not Found');
    if (this.native.acceptsSocket && !this.native.acceptsSocket(req)) return refuse('401 Unauthorized');
    const onSocket = this.native.onSocket.bind(this.native);
    this.wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws, req));
  }
}
