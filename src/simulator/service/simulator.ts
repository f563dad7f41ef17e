// The simulated OctoEverywhere: one HTTP server on 127.0.0.1 that is both "octoeverywhere.com"
// (portal, App APIs, pages) and the relay hosts `app-….localhost` / `shared-….localhost`, told apart
// by the Host header, in front of simulated printers that run in the same process.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createClock, type ManagedClock } from '../clock';
import type { PrinterKind, SimClock, SimPrinter } from '../contract';
import { startPrinter } from '../printers';
import { Account, type AppConnectionOptions, type CompletionKeys } from './account';
import { AppApi, type AppApiShape } from './app-api';
import { Chaos, type ChaosKnobs, CLOSE_PRINTER_LINK_LOST } from './chaos';
import { gadgetHostLabel, SimGadgetApi } from './gadget-api';
import { sendHtml } from './http-util';
import { page } from './html';
import { DEFAULT_LIMITS, DEFAULT_WEBCAM_VIEW_LIMIT, type PrinterLimitsWire, WebcamViewCounter, type WebcamViewLimit } from './limits';
import { MqttProxy } from './mqtt-proxy';
import { LiveLinks, Pages } from './pages';
import { Portal, PORTAL_PATH } from './portal';
import { HttpRelay } from './relay';
import { ClockDelays, PrinterTargets, relayHostLabel } from './relay-gate';
import { rejectUpgrade, sendStatus } from './status';
import { type WebhookDelivery, Webhooks } from './webhooks';
import { WsRelay } from './ws-relay';

export interface PrinterSpec {
  kind: PrinterKind;
  name: string;
  /** false: the printer runs (its plugin is connected) but is not on the account; the portal offers to add it. Default true. */
  linked?: boolean;
}

/** Starts one simulated printer; the default is the project's `startPrinter` from src/simulator/printers. */
export type PrinterFactory = (options: { kind: PrinterKind; name: string; clock: SimClock }) => Promise<SimPrinter>;

export interface SimulatorOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default: a real-time clock running at `timeScale`. */
  clock?: SimClock;
  timeScale?: number;
  /** Default 'enveloped' (production). */
  appApiShape?: AppApiShape;
  /** Default: 'Voron 2.4' (moonraker), 'Prusa MK3S' (octoprint), 'P1S' (bambu). */
  printers?: PrinterSpec[];
  /** Default true. */
  supporter?: boolean;
  limits?: Partial<PrinterLimitsWire>;
  /** Webcam views per printer per window before 609. Default 120 per 60 s. */
  webcamViewLimit?: Partial<WebcamViewLimit>;
  startPrinter?: PrinterFactory;
}

/** Socket chaos: actions on the relayed sockets (WebSocket relay and MQTT proxy); see service/chaos.ts. */
export interface SocketChaos {
  /** Every relayed socket ends abruptly (no close frame). */
  drop(): void;
  /** Every relayed socket is closed (1012); new upgrades get `chaos.relayRestartStatus` for `chaos.relayRestartMs`. */
  restartRelay(): void;
  /** The plugin loses (false) or regains (true) the printer: its relayed sockets close; the MQTT proxy answers CONNACK 3 meanwhile. */
  setPrinterLink(printer: SimPrinter | number, up: boolean): void;
  /** Relayed sockets open now. */
  readonly openSockets: number;
  /** Relayed sockets (WebSocket and MQTT proxy) opened since the simulator started. */
  readonly openedSockets: number;
  /** Frames and pings swallowed by `chaos.stallSockets` so far. */
  readonly stalledFrames: number;
  /** Frames the WebSocket relay carried from clients to printers so far. */
  readonly framesToPrinters: number;
}

export interface SharedConnectionValues {
  id: string;
  url: string;
  authBasicHttpUser: string;
  authBasicHttpPassword: string;
  authBearerToken: string;
}

export interface Simulator {
  /** http://127.0.0.1:<port>, standing in for https://octoeverywhere.com. */
  readonly serviceUrl: string;
  /** `${serviceUrl}/appportal/v1/` */
  readonly portalUrl: string;
  readonly port: number;
  readonly clock: SimClock;
  /** Every running printer, in the order of the options (linked or not). */
  readonly printers: SimPrinter[];
  /** The account's limits; mutable, read on every request. */
  readonly limits: PrinterLimitsWire;
  /** Mutable: 609 threshold. */
  readonly webcamViewLimit: WebcamViewLimit;
  /** What the portal's completion would carry, keys exactly as production sends them. */
  createAppConnection(printer: SimPrinter | number, opts?: AppConnectionOptions): CompletionKeys;
  /** The printer's one Shared Connection (created on first call; same values afterwards). */
  sharedConnection(printer: SimPrinter | number): SharedConnectionValues;
  /** → 604 afterwards. */
  revoke(connectionId: string): void;
  /** → 603 afterwards. */
  remove(connectionId: string): void;
  /** false → 605 on App APIs and relay. */
  setSupporter(on: boolean): void;
  setAppApiShape(shape: AppApiShape): void;
  /** A LAN user webhook for the printer's events (body + SecretKey); returns its id (used as connectionId in deliveries). */
  addUserWebhook(printer: SimPrinter | number, url: string, secretKey?: string): string;
  removeUserWebhook(id: string): void;
  /** The Gadget AI Failure Detection API on its own loopback hosts (`gadgetApi.url`), with its keys, knobs and call log. */
  readonly gadgetApi: SimGadgetApi;
  /** Mutable knobs, all 0 (false) by default. */
  readonly chaos: ChaosKnobs;
  readonly socketChaos: SocketChaos;
  readonly webhookDeliveries: WebhookDelivery[];
  /** Resolves when the print-event deliveries queued so far have been attempted. */
  flushWebhooks(): Promise<void>;
  /** Closes every server, socket, timer and printer. */
  close(): Promise<void>;
}

export const DEFAULT_PRINTERS: readonly PrinterSpec[] = [
  { kind: 'moonraker', name: 'Voron 2.4' },
  { kind: 'octoprint', name: 'Prusa MK3S' },
  { kind: 'bambu', name: 'P1S' },
];

/** How long the simulated service keeps an idle keep-alive connection open. */
export const KEEP_ALIVE_TIMEOUT_MS = 75_000;

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  let ownClock: ManagedClock | undefined;
  const clock: SimClock = opts.clock ?? (ownClock = createClock({ mode: 'real', timeScale: opts.timeScale ?? 1 }));
  const server = http.createServer();
  // Node's default idle keep-alive of 5 s would close a client's socket between two status polls (10 s
  // apart at the least), so every poll would pay a new connection. Production's idle timeout is not
  // known (it sits behind a CDN, where a minute or more is usual), so the simulator keeps sockets 75 s.
  // headersTimeout above it, as Node advises, so a kept socket is not cut by that timer instead.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const printers: SimPrinter[] = [];
  const stopPrinters = async (): Promise<void> => {
    await Promise.all(printers.map((p) => p.close()));
  };
  const specs = opts.printers ?? DEFAULT_PRINTERS;
  let port: number;
  try {
    port = await listen(server, opts.port ?? 0);
    const factory = opts.startPrinter ?? startPrinter;
    for (const spec of specs) printers.push(await factory({ kind: spec.kind, name: spec.name, clock }));
  } catch (err) {
    await stopPrinters();
    server.close();
    ownClock?.dispose();
    throw err;
  }

  const serviceUrl = `http://127.0.0.1:${port}`;
  const account = new Account({
    printers: printers.map((printer, i) => ({ printer, linked: specs[i].linked ?? true })),
    supporter: opts.supporter ?? true,
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
    now: () => clock.now(),
    serviceUrl,
    relayOrigin: (label) => `http://${label}.localhost:${port}`,
  });
  let shape: AppApiShape = opts.appApiShape ?? 'enveloped';
  const chaos = new Chaos(clock);
  // A printer whose plugin goes offline takes its relayed sockets with it.
  const onlineListeners = printers.map((printer) => {
    const listener = (on: boolean): void => {
      if (!on) chaos.closeSocketsOf(printer, CLOSE_PRINTER_LINK_LOST, 'printer offline');
    };
    printer.on('online', listener);
    return () => printer.off('online', listener);
  });
  const targets = new PrinterTargets();
  const delays = new ClockDelays(clock);
  const webcamViews = new WebcamViewCounter(clock, { ...DEFAULT_WEBCAM_VIEW_LIMIT, ...opts.webcamViewLimit });
  const liveLinks = new LiveLinks(clock, serviceUrl);
  const pages = new Pages(account, clock, liveLinks);
  const webhooks = new Webhooks(account, clock, chaos, pages.eventLinks);
  for (const printer of printers) webhooks.watch(printer);
  const appApi = new AppApi(account, webhooks, liveLinks, () => shape);
  const portal = new Portal(account);
  const httpRelay = new HttpRelay({ account, clock, webcamViews, targets, delays });
  const mqttProxy = new MqttProxy(clock, chaos);
  const wsRelay = new WsRelay(account, targets, delays, chaos, mqttProxy);
  const gadgetApi = new SimGadgetApi(clock, (label) => `http://${label}.localhost:${port}`);

  const serviceRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const lowerPath = path.toLowerCase();
    if (appApi.handles(lowerPath)) {
      chaos.apply({
        drop: () => req.socket.destroy(),
        fail: (status) => sendStatus(res, status),
        pass: () => void appApi.handle(req, res, lowerPath),
      });
      return;
    }
    if (await portal.handle(req, res, lowerPath, q < 0 ? '' : url.slice(q + 1))) return;
    if (pages.handle(path, res)) return;
    if (lowerPath === '/') {
      sendHtml(res, 200, page('Home', `<h1>OctoEverywhere simulator</h1><p><a href="${PORTAL_PATH}?appid=devtest">Connect an app (portal)</a></p>`));
      return;
    }
    sendHtml(res, 404, page('Not found', '<h1>Not found</h1>'));
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const gadgetHost = gadgetHostLabel(req.headers.host);
    if (gadgetHost) {
      gadgetApi.handle(req, res, gadgetHost).catch(() => res.destroy());
      return;
    }
    const label = relayHostLabel(req.headers.host);
    if (label === undefined) {
      serviceRequest(req, res).catch(() => {
        if (!res.headersSent) sendHtml(res, 500, page('Error', '<h1>Something went wrong</h1>'));
        else res.destroy();
      });
      return;
    }
    const conn = account.connectionByHostLabel(label);
    if (!conn) sendStatus(res, 603);
    else if (chaos.quiet) httpRelay.handle(req, res, conn);
    else {
      chaos.apply({
        drop: () => req.socket.destroy(),
        fail: (status) => sendStatus(res, status),
        pass: () => httpRelay.handle(req, res, conn),
      });
    }
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const label = relayHostLabel(req.headers.host);
    const conn = label === undefined ? undefined : account.connectionByHostLabel(label);
    if (!conn) {
      rejectUpgrade(socket, label === undefined ? 404 : 603);
      return;
    }
    chaos.apply({
      drop: () => socket.destroy(),
      fail: (status) => rejectUpgrade(socket, status),
      pass: () => wsRelay.handle(req, socket, head, conn),
    });
  });

  const printerOf = (ref: SimPrinter | number): SimPrinter => {
    const printer = typeof ref === 'number' ? printers[ref] : ref;
    if (!printer) throw new RangeError(`no printer at index ${typeof ref === 'number' ? ref : ref.name}`);
    return printer;
  };

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    webhooks.close();
    chaos.close();
    delays.close();
    httpRelay.close();
    wsRelay.close();
    mqttProxy.close();
    for (const off of onlineListeners) off();
    pages.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stopPrinters();
    ownClock?.dispose();
  };

  return {
    serviceUrl,
    portalUrl: `${serviceUrl}${PORTAL_PATH}`,
    port,
    clock,
    printers,
    limits: account.limits,
    webcamViewLimit: webcamViews.limit,
    createAppConnection: (printer, options) => account.createAppConnection(account.printer(printerOf(printer)), options),
    sharedConnection(printer) {
      const conn = account.sharedConnection(account.printer(printerOf(printer)));
      return {
        id: conn.id,
        url: conn.origin,
        authBasicHttpUser: conn.basicUser,
        authBasicHttpPassword: conn.basicPassword,
        authBearerToken: conn.bearerToken,
      };
    },
    revoke: (id) => account.revoke(id),
    remove: (id) => account.remove(id),
    setSupporter(on) {
      account.supporter = on;
    },
    setAppApiShape(next) {
      shape = next;
    },
    addUserWebhook: (printer, url, secretKey) => webhooks.addUserWebhook(printerOf(printer), url, secretKey),
    removeUserWebhook: (id) => webhooks.removeUserWebhook(id),
    gadgetApi,
    chaos: chaos.knobs,
    socketChaos: {
      drop: () => chaos.dropSockets(),
      restartRelay: () => chaos.restartRelay(),
      setPrinterLink: (printer, up) => chaos.setPrinterLink(printerOf(printer), up),
      get openSockets() {
        return chaos.socketCount;
      },
      get openedSockets() {
        return chaos.opened;
      },
      get stalledFrames() {
        return chaos.stalledFrames;
      },
      get framesToPrinters() {
        return chaos.framesToPrinters;
      },
    },
    webhookDeliveries: webhooks.deliveries,
    flushWebhooks: () => webhooks.flush(),
    close: () => (closing ??= close()),
  };
}
