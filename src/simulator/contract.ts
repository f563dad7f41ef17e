// The seam between the simulated printers (src/simulator/printers/) and the simulated
// OctoEverywhere service (src/simulator/service/): the service relays to a printer's LAN URL and
// reads its print simulation for Gadget status and webhook deliveries.
import type { EventEmitter } from 'node:events';
import type { Clock } from '../client/clock';

export type PrinterKind = 'octoprint' | 'moonraker' | 'bambu' | 'elegoo-cc2';

/** The job states of the command API's `JobStatus.State` (docs/octoeverywhere.md §7). */
export type JobState = 'idle' | 'warmingup' | 'printing' | 'paused' | 'resuming' | 'complete' | 'cancelled' | 'error';

/** Gadget as the App API reports it (docs/octoeverywhere.md §4), wire field names. */
export interface GadgetWire {
  State: 0 | 1 | 2 | 3 | 4;
  Status: string;
  StatusColor: 'g' | 'y' | 'r' | 'w';
  Rating: number;
}

/**
 * A webhook-worthy moment of the print (docs/octoeverywhere.md §5). `EventType` is the section-5 number; the other
 * keys are the delivery body's fields known to the printer (the service adds PrinterId, PrinterName,
 * SnapshotUrl, QuickViewUrl).
 */
export interface SimPrinterEvent {
  EventType: number;
  PrintId?: string;
  FileName?: string;
  DurationSec?: number;
  Progress?: number;
  TimeRemainingSec?: number;
  ZOffsetMM?: number;
  CurrentLayer?: number;
  TotalLayers?: number;
  Error?: string;
  PlatformErrorCode?: string;
}

/**
 * A time source the whole simulator shares, so tests can jump time instead of sleeping. It is a
 * client Clock too, so one manual clock can drive the simulator and the nodes' timers together.
 */
export interface SimClock extends Clock {
  /** Simulated milliseconds since the epoch. */
  now(): number;
  /** Moves simulated time forward, firing every timer that falls due, in order. */
  advance(ms: number): Promise<void>;
  setTimeout(fn: () => void, ms: number): SimTimer;
  setInterval(fn: () => void, ms: number): SimTimer;
  clearTimer(timer: SimTimer | undefined): void;
}
export interface SimTimer {
  readonly id: number;
}

/** One MQTT message as the printer's broker delivers it. */
export interface SimMqttMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/**
 * A printer's MQTT broker (Bambu Lab, Elegoo CC2) as the plugin's one upstream connection to it
 * sees it; the service's MQTT proxy multiplexes its client sessions over this.
 * Events: 'message' (SimMqttMessage) for topics matching an upstream subscription; 'link' (up: boolean).
 */
export interface SimMqttBroker extends EventEmitter {
  readonly serialNumber: string;
  /** Whether the plugin's MQTT connection to the printer is up (down → CONNACK 3 at the proxy). */
  readonly linkUp: boolean;
  /** Adds an upstream subscription; false when the printer refuses it (SUBACK 0x80). */
  subscribe(filter: string): boolean;
  unsubscribe(filter: string): void;
  publish(topic: string, payload: Buffer, retain: boolean): void;
}

/**
 * One simulated printer: a real HTTP server on 127.0.0.1 (its "LAN" address) that serves the
 * printer's native API and the OctoEverywhere plugin's command API, plus controls for tests.
 * Events: 'event' (SimPrinterEvent), 'state' (JobState), 'online' (boolean) when `online` changes
 * (the service closes the printer's relayed sockets then; a stand-in may not emit it).
 */
export interface SimPrinter extends EventEmitter {
  readonly kind: PrinterKind;
  readonly name: string;
  /** 60 chars A-Z0-9. */
  readonly printerId: string;
  /** LAN base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  readonly localIp: string;
  /** Connected to OctoEverywhere (false → the relay answers 601). */
  online: boolean;
  /** The plugin stops answering the relay (→ 602). */
  pluginTimeout: boolean;
  readonly state: JobState;
  /** The printer's MQTT broker behind the MQTT proxy (Bambu Lab, Elegoo CC2 only). */
  readonly mqtt?: SimMqttBroker;
  gadget(): GadgetWire;
  /** Creates an OctoPrint API key for an app (octoprint only; others return undefined). */
  createApiKey(appName: string): string | undefined;
  /** Test controls. */
  startPrint(fileName?: string, opts?: { durationSec?: number; totalLayers?: number }): void;
  pause(): void;
  resume(): void;
  cancel(): void;
  /** Scripts the Gadget score: 'warn' drops the rating to a possible-failure level, 'pause' to a failure that pauses the print. */
  scriptGadget(kind: 'warn' | 'pause' | 'good'): void;
  injectError(message: string, platformErrorCode?: string): void;
  close(): Promise<void>;
}
