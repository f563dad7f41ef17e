// Network misbehaviour on demand: latency, dropped connections and error answers, applied to the
// relay and the App APIs (not the portal pages) so clients' retry and back-off paths can be tested;
// and for relayed sockets (WebSocket relay, MQTT proxy): drop, stall, relay restart, printer link drop.
import type { SimClock, SimPrinter } from '../contract';

export interface ChaosKnobs {
  /** Real milliseconds added before each request is handled. */
  latencyMs: number;
  /** Share (0–1) of requests whose socket is destroyed without an answer. */
  dropRate: number;
  /** Share (0–1) of requests answered with `errorStatus` instead of being handled. */
  errorRate: number;
  /** Status for `errorRate` answers, e.g. 502 or a temporary 6xx; 0 means 503. */
  errorStatus: number;
  /** Real-ms timeout for webhook deliveries; 0 means production's 10 s. */
  webhookTimeoutMs: number;
  /**
   * Relayed sockets stay open but carry nothing: frames both ways are discarded, pings get no pong,
   * and the MQTT proxy neither answers PINGREQ nor enforces keepalive. Only a client heartbeat notices.
   */
  stallSockets: boolean;
  /**
   * The edge lets a client's WebSocket pings go unanswered while frames still flow both ways: whether
   * the real edge answers them is unsettled (docs/octoeverywhere.md §9.2), so clients must live either way.
   */
  unansweredPings: boolean;
  /** Simulated ms a relay restart refuses new upgrades; 0 means 10 s. */
  relayRestartMs: number;
  /** Status those upgrades are refused with (601 or 600 are what a restarting edge would say); 0 means 601. */
  relayRestartStatus: number;
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_RELAY_RESTART_MS = 10_000;
/** Close codes the simulator sends: production's are unverified (docs/octoeverywhere.md §9.1–9.2). */
export const CLOSE_RELAY_RESTART = 1012;
export const CLOSE_PRINTER_LINK_LOST = 1011;

/** One relayed socket (WebSocket relay or MQTT proxy session) as the socket knobs reach it. */
export interface RelayedSocket {
  readonly printer: SimPrinter;
  /** Ends the TCP connection at once, no close frame (the client sees 1006). */
  terminate(): void;
  /** Ends it with a close frame. */
  close(code: number, reason: string): void;
}

export interface ChaosOutcome {
  drop(): void;
  fail(status: number): void;
  pass(): void;
}

export class Chaos {
  readonly knobs: ChaosKnobs = {
    latencyMs: 0,
    dropRate: 0,
    errorRate: 0,
    errorStatus: 0,
    webhookTimeoutMs: 0,
    stallSockets: false,
    unansweredPings: false,
    relayRestartMs: 0,
    relayRestartStatus: 0,
  };
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sockets = new Set<RelayedSocket>();
  /** Relayed sockets opened since the start (a reconnect storm shows here). */
  opened = 0;
  private readonly linksDown = new Set<SimPrinter>();
  /** Simulated time until which a relay restart refuses upgrades. */
  private restartUntil = Number.NEGATIVE_INFINITY;
  /** Frames and pings a stall swallowed (lets tests wait for the stall to have bitten). */
  stalledFrames = 0;
  /** Frames the WebSocket relay carried from clients to printers (what a client's keepalives cost the printer). */
  framesToPrinters = 0;

  constructor(private readonly clock?: SimClock) {}

  /** No knob set: callers may skip apply() on the hot path. */
  get quiet(): boolean {
    const k = this.knobs;
    return k.latencyMs <= 0 && k.dropRate <= 0 && k.errorRate <= 0;
  }

  /** Decides a request's fate and calls exactly one of the outcome's functions (maybe later). */
  apply(outcome: ChaosOutcome): void {
    const { latencyMs } = this.knobs;
    if (latencyMs <= 0) {
      this.decide(outcome);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.decide(outcome);
    }, latencyMs);
    this.timers.add(timer);
  }

  webhookTimeoutMs(): number {
    return this.knobs.webhookTimeoutMs > 0 ? this.knobs.webhookTimeoutMs : DEFAULT_WEBHOOK_TIMEOUT_MS;
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.sockets.clear();
  }

  // ---- relayed sockets ----

  /** Registers a relayed socket until it closes; returns the deregistration. */
  track(socket: RelayedSocket): () => void {
    this.sockets.add(socket);
    this.opened++;
    return () => this.sockets.delete(socket);
  }

  get socketCount(): number {
    return this.sockets.size;
  }

  /** Drop: every relayed socket ends abruptly, as when the network between client and edge dies. */
  dropSockets(): void {
    for (const socket of [...this.sockets]) socket.terminate();
  }

  /** Relay restart: every relayed socket is closed, and new upgrades are refused for `relayRestartMs`. */
  restartRelay(): void {
    const now = this.clock?.now() ?? Date.now();
    this.restartUntil = now + (this.knobs.relayRestartMs > 0 ? this.knobs.relayRestartMs : DEFAULT_RELAY_RESTART_MS);
    for (const socket of [...this.sockets]) socket.close(CLOSE_RELAY_RESTART, 'relay restart');
  }

  /** The status a new upgrade is refused with while the relay restarts, else 0. */
  upgradeRefusal(): number {
    const now = this.clock?.now() ?? Date.now();
    return now < this.restartUntil ? this.knobs.relayRestartStatus || 601 : 0;
  }

  /** Closes the relayed sockets of one printer (its plugin went offline or lost the printer). */
  closeSocketsOf(printer: SimPrinter, code: number, reason: string): void {
    for (const socket of [...this.sockets]) if (socket.printer === printer) socket.close(code, reason);
  }

  /**
   * Printer link drop: the plugin loses its connection to the printer. Relayed WebSockets and MQTT
   * proxy sessions of that printer close; the MQTT proxy answers CONNACK 3 until the link is back.
   */
  setPrinterLink(printer: SimPrinter, up: boolean): void {
    if (up) {
      this.linksDown.delete(printer);
      return;
    }
    this.linksDown.add(printer);
    this.closeSocketsOf(printer, CLOSE_PRINTER_LINK_LOST, 'printer link lost');
  }

  printerLinkUp(printer: SimPrinter): boolean {
    return !this.linksDown.has(printer);
  }

  private decide(outcome: ChaosOutcome): void {
    const { dropRate, errorRate, errorStatus } = this.knobs;
    if (dropRate > 0 && Math.random() < dropRate) outcome.drop();
    else if (errorRate > 0 && Math.random() < errorRate) outcome.fail(errorStatus || 503);
    else outcome.pass();
  }
}
