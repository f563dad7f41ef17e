// The command API's `status` (docs/octoeverywhere.md §7) normalised into our snapshot of a printer: the wire's names
// stop here. Every field is optional on the wire (OctoPrint sends no SubState or Lights, an idle
// printer no CurrentPrint), so each one is read defensively and missing values become null.
import type { ConnectionInfo, GadgetStatus } from './app-api';
import type { StatusWire } from './command-api';
import { isObject, toInt, toNumber, toText } from './values';

export const JOB_STATES = ['idle', 'warmingup', 'printing', 'paused', 'resuming', 'complete', 'cancelled', 'error'] as const;
export type JobState = (typeof JOB_STATES)[number] | 'unknown';

/** From print start until the print ends, pauses included: a print is "running". */
const ACTIVE_STATES: ReadonlySet<JobState> = new Set<JobState>(['warmingup', 'printing', 'paused', 'resuming']);

export function isActiveState(state: JobState): boolean {
  return ACTIVE_STATES.has(state);
}

export interface Temperature {
  actual: number | null;
  /** 0 means the heater is off. */
  target: number | null;
}

export interface Light {
  name: string;
  on: boolean;
}

/** What the command API's status says about the printer and its job. */
export interface JobStatus {
  state: JobState;
  /** Moonraker only, e.g. `Heating`. */
  subState: string | null;
  /** The printer's own error text while state is `error`. */
  error: string | null;
  /** True while a print is running (warming up, printing, paused, resuming). */
  printing: boolean;
  /** The plugin's id of the most recent print; changes with each new print. */
  printId: string | null;
  fileName: string | null;
  /** 0–100, as the printer reports it (a float). */
  progress: number | null;
  durationSec: number | null;
  /** null when the printer does not know (the wire's -1). */
  timeLeftSec: number | null;
  currentLayer: number | null;
  totalLayers: number | null;
  temperatures: { bed: Temperature; hotend: Temperature; chamber: Temperature | null };
  lights: Light[];
  /** The command API's Features bitmask (FEATURES in command-api.ts). */
  features: number;
  platformVersion: string | null;
}

/** One poll's view of the printer: the job status plus what the App APIs added. */
export interface PrinterSnapshot extends JobStatus {
  /** false when the printer is not connected to OctoEverywhere (601); the job fields are then unknown. */
  online: boolean;
  printerName: string | null;
  /** null when not polled: not printing, a Shared Connection, or not yet due (see gadget-rules.ts). */
  gadget: GadgetStatus | null;
  /** Account limits from the Info API (App Connections only). */
  limits: ConnectionInfo['limits'] | null;
  /** When the poll finished, ms since the epoch. Not part of "did it change". */
  polledAt: number;
}

export function parseJobStatus(result: StatusWire): JobStatus {
  const job = isObject(result.JobStatus) ? result.JobStatus : {};
  const print = isObject(job.CurrentPrint) ? job.CurrentPrint : {};
  const temps = isObject(print.Temps) ? print.Temps : {};
  const oe = isObject(result.OctoEverywhereStatus) ? result.OctoEverywhereStatus : {};
  const state = parseState(job.State);
  const chamber = temperature(temps.ChamberActual, temps.ChamberTarget);
  const timeLeft = num(print.TimeLeftSec);
  return {
    state,
    subState: str(job.SubState),
    error: str(job.Error),
    printing: isActiveState(state),
    printId: str(oe.MostRecentPrintIdStr),
    fileName: str(print.FileName),
    progress: num(print.Progress),
    durationSec: int(print.DurationSec),
    timeLeftSec: timeLeft === null || timeLeft < 0 ? null : Math.round(timeLeft),
    currentLayer: int(print.CurrentLayer),
    totalLayers: int(print.TotalLayers),
    temperatures: {
      bed: temperature(temps.BedActual, temps.BedTarget),
      hotend: temperature(temps.HotendActual, temps.HotendTarget),
      chamber: chamber.actual === null && chamber.target === null ? null : chamber,
    },
    lights: (Array.isArray(job.Lights) ? job.Lights : [])
      .filter(isObject)
      .map((l) => ({ name: str(l.Name) ?? '', on: l.On === true }))
      .filter((l) => l.name !== ''),
    features: toInt(result.Features) ?? 0,
    platformVersion: str(result.PlatformVersion),
  };
}

/** A snapshot for a printer that did not answer: only "offline" is known. */
export function offlineJobStatus(): JobStatus {
  return {
    state: 'unknown',
    subState: null,
    error: null,
    printing: false,
    printId: null,
    fileName: null,
    progress: null,
    durationSec: null,
    timeLeftSec: null,
    currentLayer: null,
    totalLayers: null,
    temperatures: { bed: { actual: null, target: null }, hotend: { actual: null, target: null }, chamber: null },
    lights: [],
    features: 0,
    platformVersion: null,
  };
}

/** Whether two snapshots say the same thing (polledAt aside): "output on change only" uses it. */
export function sameSnapshot(a: PrinterSnapshot, b: PrinterSnapshot): boolean {
  return a === b || sameJson(a, b, 'polledAt');
}

/**
 * Whether two JSON-like values would say the same as JSON (an undefined member is no member; key order
 * aside), compared in place: a live printer's snapshot is compared on every push, and the two
 * JSON.stringify texts this replaced were the largest item (15–20 %) of a CPU profile of 300 live printers.
 */
function sameJson(a: unknown, b: unknown, skip?: string): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let members = 0;
  for (const k in x) {
    if (k === skip || x[k] === undefined) continue;
    if (!sameJson(x[k], y[k])) return false;
    members++;
  }
  for (const k in y) if (k !== skip && y[k] !== undefined) members--;
  return members === 0;
}

function parseState(value: unknown): JobState {
  const s = typeof value === 'string' ? value.toLowerCase() : '';
  return (JOB_STATES as readonly string[]).includes(s) ? (s as JobState) : 'unknown';
}

function temperature(actual: unknown, target: unknown): Temperature {
  return { actual: num(actual), target: num(target) };
}

// The snapshot says null for "not known" (it is compared and sent as JSON, where undefined vanishes).
function num(value: unknown): number | null {
  return toNumber(value) ?? null;
}

function int(value: unknown): number | null {
  return toInt(value) ?? null;
}

function str(value: unknown): string | null {
  return toText(value) ?? null;
}
