// The print simulation behind every simulated printer: one job's life (idle → warmingup →
// printing ⇄ paused/resuming → complete | cancelled | error), heaters that heat and cool towards
// their targets, the Gadget score, and the webhook-worthy moments of docs/octoeverywhere.md §5, all driven by the
// shared SimClock. The native APIs and the command API only read this model and call its verbs.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { JobState, SimClock, SimPrinterEvent, SimTimer } from '../contract';
import { GADGET_RATING, GadgetModel } from './gadget';

/** The section-5 EventType numbers the simulation emits. */
export const EventType = {
  PrintStarted: 1,
  PrintComplete: 2,
  PrintFailed: 3,
  PrintPaused: 4,
  PrintResumed: 5,
  PrintProgress: 6,
  GadgetWarning: 7,
  GadgetPaused: 8,
  Error: 9,
  FirstLayerComplete: 10,
  FilamentChangeRequired: 11,
  UserInteractionRequired: 12,
  ThirdLayerComplete: 14,
  BedCooldownComplete: 15,
} as const;

export interface PrintOptions {
  /** Pure printing time (heating and pauses excluded). Default 2 h. */
  durationSec?: number;
  totalLayers?: number;
}

export interface PauseOptions {
  disableHotend?: boolean;
  disableBed?: boolean;
  /** Pause without the Print Paused event (command API `SuppressNotification`). */
  suppressNotification?: boolean;
}

export interface SimulationOptions {
  clock: SimClock;
  /** OctoPrint has no 'cancelled' state: a cancelled print goes back to 'idle'. */
  reportsCancelled: boolean;
  hasChamber: boolean;
  /** Simulated ms between physics steps. Default 1000. */
  tickMs?: number;
  lights?: string[];
}

export interface Heater {
  actual: number;
  target: number;
}
export type HeaterName = 'bed' | 'hotend' | 'chamber';

export interface CurrentJob {
  printId: string;
  fileName: string;
  durationSec: number;
  totalLayers: number;
  startMs: number;
  /** When the print ended (complete, cancelled, failed); its duration stops there. */
  endMs?: number;
  /** Seconds of actual printing so far. */
  printedSec: number;
  /** Targets to restore on resume. */
  savedTargets?: { bed: number; hotend: number };
  /** Highest 10 % step and whole hour already announced. */
  announcedDecile: number;
  announcedHour: number;
  cooldownAnnounced: boolean;
}

export const AMBIENT_C = 22;
export const BED_COOLDOWN_C = 40;
const DEFAULT_DURATION_SEC = 2 * 3600;
const DEFAULT_LAYERS = 300;
const LAYER_HEIGHT_MM = 0.2;
const PRINT_TARGETS = { bed: 60, hotend: 215 } as const;
/** Heating in °C per second; cooling follows Newton's law with these time constants (s). */
const HEAT_RATE: Record<HeaterName, number> = { bed: 1, hotend: 5, chamber: 0.1 };
const COOL_TAU_SEC: Record<HeaterName, number> = { bed: 600, hotend: 90, chamber: 900 };
/** A heater counts as at temperature within this band below its target. */
const AT_TEMP_BAND_C = 1;
const FILAMENT_MM_PER_SEC = 1.7;
const FILAMENT_MG_PER_MM = 2.98;

const ACTIVE: ReadonlySet<JobState> = new Set<JobState>(['warmingup', 'printing', 'paused', 'resuming']);

/**
 * Events: 'state' (JobState) on every change, 'event' (SimPrinterEvent) at the moments a webhook would report (docs/octoeverywhere.md §5),
 * 'update' () after every physics step and every change (for push sockets).
 */
export class PrintSimulation extends EventEmitter {
  readonly gadget = new GadgetModel();
  readonly heaters: Record<HeaterName, Heater> = {
    bed: { actual: AMBIENT_C, target: 0 },
    hotend: { actual: AMBIENT_C, target: 0 },
    chamber: { actual: AMBIENT_C, target: 0 },
  };
  readonly lights: Array<{ Name: string; On: boolean }>;
  /** Toolhead position in mm and whether it was homed. */
  readonly position = { x: 0, y: 0, z: 0, homed: false };
  job: CurrentJob | undefined;
  error: string | null = null;
  loop = false;
  private current: JobState = 'idle';
  private lastFile = 'benchy.gcode';
  private lastOptions: PrintOptions = {};
  private tickTimer: SimTimer | undefined;
  private lastTickMs: number;
  private readonly tickMs: number;
  private closed = false;

  constructor(private readonly opts: SimulationOptions) {
    super();
    this.tickMs = opts.tickMs ?? 1000;
    this.lastTickMs = opts.clock.now();
    this.lights = (opts.lights ?? []).map((Name) => ({ Name, On: false }));
  }

  get state(): JobState {
    return this.current;
  }

  /** True from print start until the print ends, pauses included. */
  get active(): boolean {
    return ACTIVE.has(this.current);
  }

  get progress(): number {
    if (!this.job) return 0;
    return Math.min(100, Math.round((this.job.printedSec / this.job.durationSec) * 10000) / 100);
  }

  get currentLayer(): number {
    if (!this.job || this.job.printedSec <= 0) return 0;
    return Math.min(this.job.totalLayers, Math.floor((this.progress / 100) * this.job.totalLayers) + 1);
  }

  /** Seconds since the print started (heating and pauses included). */
  get durationSec(): number {
    if (!this.job) return 0;
    return Math.floor(((this.job.endMs ?? this.opts.clock.now()) - this.job.startMs) / 1000);
  }

  /** Printing seconds left; -1 while unknown (before printing starts). */
  get timeLeftSec(): number {
    if (!this.job || this.job.printedSec <= 0) return -1;
    return Math.max(0, Math.round(this.job.durationSec - this.job.printedSec));
  }

  get estFilamentMm(): number {
    return this.job ? Math.round(this.job.durationSec * FILAMENT_MM_PER_SEC) : 0;
  }

  get estFilamentMg(): number {
    return Math.round(this.estFilamentMm * FILAMENT_MG_PER_MM);
  }

  get zMm(): number {
    return this.currentLayer * LAYER_HEIGHT_MM;
  }

  get hasChamber(): boolean {
    return this.opts.hasChamber;
  }

  // ---- verbs; each returns false when the printer's state does not allow it (→ 786) ----

  startPrint(fileName?: string, options: PrintOptions = {}): boolean {
    if (this.active) return false;
    this.lastFile = fileName ?? this.lastFile;
    this.lastOptions = options;
    this.job = {
      printId: randomBytes(8).toString('hex'),
      fileName: this.lastFile,
      durationSec: Math.max(1, options.durationSec ?? DEFAULT_DURATION_SEC),
      totalLayers: Math.max(1, Math.round(options.totalLayers ?? DEFAULT_LAYERS)),
      startMs: this.opts.clock.now(),
      printedSec: 0,
      announcedDecile: 0,
      announcedHour: 0,
      cooldownAnnounced: false,
    };
    this.error = null;
    this.gadget.onPrintStart();
    this.gadget.score(GADGET_RATING.good, this.opts.clock.now());
    this.heaters.bed.target = PRINT_TARGETS.bed;
    this.heaters.hotend.target = PRINT_TARGETS.hotend;
    this.setState('warmingup');
    this.emitEvent(EventType.PrintStarted);
    this.wake();
    return true;
  }

  pause(options: PauseOptions = {}): boolean {
    if (this.current !== 'printing' && this.current !== 'resuming') return false;
    this.enterPause(options);
    if (!options.suppressNotification) this.emitEvent(EventType.PrintPaused);
    return true;
  }

  resume(): boolean {
    if (this.current !== 'paused' || !this.job) return false;
    const saved = this.job.savedTargets;
    if (saved) {
      this.heaters.bed.target = saved.bed;
      this.heaters.hotend.target = saved.hotend;
    }
    this.job.savedTargets = undefined;
    this.gadget.pausedForFailure = false;
    this.setState('resuming');
    this.emitEvent(EventType.PrintResumed);
    this.wake();
    return true;
  }

  cancel(): boolean {
    if (!this.active) return false;
    this.heatersOff();
    this.gadget.pausedForFailure = false;
    this.setState(this.opts.reportsCancelled ? 'cancelled' : 'idle');
    this.emitEvent(EventType.PrintFailed, { Error: 'cancelled' });
    this.wake();
    return true;
  }

  /** The printer faults: state 'error', an Error event, and Print Failed if a print was running. */
  injectError(message: string, platformErrorCode?: string): void {
    const wasActive = this.active;
    this.error = message;
    this.heatersOff();
    this.gadget.pausedForFailure = false;
    this.setState('error');
    const detail = { Error: message, ...(platformErrorCode === undefined ? {} : { PlatformErrorCode: platformErrorCode }) };
    this.emitEvent(EventType.Error, detail);
    if (wasActive) this.emitEvent(EventType.PrintFailed, detail);
    this.wake();
  }

  /** Announces that the printer waits for a filament change or for the user (events 11 / 12). */
  requireAction(kind: 'filament' | 'interaction'): void {
    this.emitEvent(kind === 'filament' ? EventType.FilamentChangeRequired : EventType.UserInteractionRequired);
  }

  /** Moves the Gadget score; while Gadget watches, a warning or a failure pause follows. */
  scriptGadget(kind: 'warn' | 'pause' | 'good'): void {
    const now = this.opts.clock.now();
    this.gadget.score(GADGET_RATING[kind], now);
    const watching = this.gadget.watching(this.current === 'printing' || this.current === 'resuming' || this.current === 'warmingup');
    if (watching && kind === 'warn') {
      this.gadget.markWarned(now);
      this.emitEvent(EventType.GadgetWarning);
    } else if (watching && kind === 'pause') {
      this.gadget.markPaused(now);
      this.enterPause({});
      this.emitEvent(EventType.GadgetPaused);
    }
    this.emit('update');
  }

  setTarget(heater: HeaterName, celsius: number): void {
    this.heaters[heater].target = celsius;
    this.wake();
    this.emit('update');
  }

  setLight(name: string, on: boolean): boolean {
    const light = this.lights.find((l) => l.Name.toLowerCase() === name.toLowerCase());
    if (!light) return false;
    light.On = on;
    this.emit('update');
    return true;
  }

  setLoop(on: boolean): void {
    this.loop = on;
  }

  close(): void {
    this.closed = true;
    this.opts.clock.clearTimer(this.tickTimer);
    this.tickTimer = undefined;
  }

  // ---- internals ----

  private enterPause(options: PauseOptions): void {
    if (this.job) {
      this.job.savedTargets = { bed: this.heaters.bed.target, hotend: this.heaters.hotend.target };
      if (options.disableHotend ?? true) this.heaters.hotend.target = 0;
      if (options.disableBed ?? false) this.heaters.bed.target = 0;
    }
    this.setState('paused');
    this.wake();
  }

  private heatersOff(): void {
    for (const h of Object.values(this.heaters)) h.target = 0;
  }

  private setState(next: JobState): void {
    if (next === this.current) return;
    if (this.job && this.active && !ACTIVE.has(next)) this.job.endMs = this.opts.clock.now();
    this.current = next;
    this.emit('state', next);
    this.emit('update');
  }

  private emitEvent(type: number, extra: Partial<SimPrinterEvent> = {}): void {
    const job = this.job;
    const event: SimPrinterEvent = job
      ? {
          EventType: type,
          PrintId: job.printId,
          FileName: job.fileName,
          DurationSec: this.durationSec,
          Progress: Math.floor(this.progress),
          TimeRemainingSec: this.timeLeftSec,
          ZOffsetMM: Math.floor(this.zMm),
          CurrentLayer: this.currentLayer,
          TotalLayers: job.totalLayers,
          ...extra,
        }
      : { EventType: type, ...extra };
    this.emit('event', event);
  }

  /** Starts the physics steps if they are stopped; they stop again once nothing changes. */
  private wake(): void {
    if (this.tickTimer || this.closed) return;
    this.lastTickMs = this.opts.clock.now();
    this.tickTimer = this.opts.clock.setInterval(() => this.tick(), this.tickMs);
  }

  private tick(): void {
    const now = this.opts.clock.now();
    const dt = Math.max(0, (now - this.lastTickMs) / 1000);
    this.lastTickMs = now;
    this.stepHeaters(dt);
    this.stepJob(dt);
    this.emit('update');
    if (this.quiescent()) {
      this.opts.clock.clearTimer(this.tickTimer);
      this.tickTimer = undefined;
    }
  }

  private stepHeaters(dt: number): void {
    for (const name of Object.keys(this.heaters) as HeaterName[]) {
      const h = this.heaters[name];
      if (name === 'chamber' && !this.opts.hasChamber) continue;
      // A passive chamber drifts with the bed; an active chamber heater heats like the others.
      const rest = name === 'chamber' ? AMBIENT_C + (this.heaters.bed.actual - AMBIENT_C) * 0.3 : AMBIENT_C;
      if (h.target > h.actual) {
        h.actual = Math.min(h.target, h.actual + HEAT_RATE[name] * dt);
      } else {
        const floor = Math.max(h.target, rest);
        const next = floor + (h.actual - floor) * Math.exp(-dt / COOL_TAU_SEC[name]);
        // Snap when within a hundredth of a degree so the simulation can go quiet.
        h.actual = Math.abs(next - floor) < 0.01 ? floor : next;
      }
      h.actual = Math.round(h.actual * 100) / 100;
    }
  }

  private atTemperature(): boolean {
    const { bed, hotend } = this.heaters;
    return bed.actual >= bed.target - AT_TEMP_BAND_C && hotend.actual >= hotend.target - AT_TEMP_BAND_C;
  }

  private stepJob(dt: number): void {
    const job = this.job;
    if (!job) return;
    if ((this.current === 'warmingup' || this.current === 'resuming') && this.atTemperature()) {
      this.setState('printing');
      return;
    }
    if (this.current === 'printing') {
      const layerBefore = this.currentLayer;
      job.printedSec = Math.min(job.durationSec, job.printedSec + dt);
      this.announceProgress(job, layerBefore);
      if (job.printedSec >= job.durationSec) {
        this.heatersOff();
        this.setState('complete');
        this.emitEvent(EventType.PrintComplete);
      }
      return;
    }
    if (this.current === 'complete' && !job.cooldownAnnounced && this.heaters.bed.actual < BED_COOLDOWN_C) {
      job.cooldownAnnounced = true;
      this.emitEvent(EventType.BedCooldownComplete);
      if (this.loop) this.startPrint(job.fileName, this.lastOptions);
    }
  }

  private announceProgress(job: CurrentJob, layerBefore: number): void {
    const layer = this.currentLayer;
    if (layerBefore <= 1 && layer > 1) this.emitEvent(EventType.FirstLayerComplete);
    if (layerBefore <= 3 && layer > 3) this.emitEvent(EventType.ThirdLayerComplete);
    // Every 10 % below 100 (100 % is the Complete event) and every whole hour of print time.
    const decile = Math.min(9, Math.floor(this.progress / 10));
    while (job.announcedDecile < decile) {
      job.announcedDecile++;
      this.emitEvent(EventType.PrintProgress);
    }
    const hour = Math.floor(this.durationSec / 3600);
    while (job.announcedHour < hour) {
      job.announcedHour++;
      this.emitEvent(EventType.PrintProgress);
    }
  }

  private quiescent(): boolean {
    if (this.active) return false;
    if (this.current === 'complete' && this.job && !this.job.cooldownAnnounced) return false;
    return Object.values(this.heaters).every((h) => h.actual === Math.max(h.target, AMBIENT_C) || (h.target === 0 && h.actual <= AMBIENT_C + 0.01));
  }
}
