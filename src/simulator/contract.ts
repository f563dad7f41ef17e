// The seam between the simulated printers (src/simulator/printers/) and the simulated
// OctoEverywhere service (src/simulator/service/): the service relays to a printer's LAN URL and
// reads its print simulation for Gadget status and webhook deliveries.
import type { EventEmitter } from 'node:events';
import type { Clock } from '../client/clock';

export type PrinterKind = 'octoprint' | 'moonraker' | 'bambu';

/** The job states of the command API's `JobStatus.State` (facts §7). */
export type JobState =
  | 'idle'
  | 'warmingup'
  | 'printing'
  | 'paused'
  | 'resuming'
  | 'complete'
  | 'cancelled'
  | 'error';

/** Gadget as the App API reports it (facts §4), wire field names. */
export interface GadgetWire {
  State: 0 | 1 | 2 | 3 | 4;
  Status: string;
  StatusColor: 'g' | 'y' | 'r' | 'w';
  Rating: number;
}

/**
 * A webhook-worthy moment of the print (facts §5). `EventType` is the section-5 number; the other
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

/**
 * One simulated printer: a real HTTP server on 127.0.0.1 (its "LAN" address) that serves the
 * printer's native API and the OctoEverywhere plugin's command API, plus controls for tests.
 * Events: 'event' (SimPrinterEvent), 'state' (JobState).
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
