// Print events (the webhook's vocabulary, events.ts) derived from successive status snapshots, for
// printers watched by polling. Each transition yields its event exactly once: the memory remembers
// what was already announced for the current print, so repeated polls of the same state say nothing.
// The first snapshot only establishes what is known: no events for things that happened before.
import { GadgetState, isGadgetWarning } from './gadget-rules';
import { EVENT_TYPES, eventName, type PrinterEvent } from './events';
import type { JobState, PrinterSnapshot } from './status';

export const DEFAULT_BED_COOLDOWN_C = 40;
/** OctoPrint has no `complete`/`cancelled` once idle: an active print that drops to idle this close to 100 % finished. */
export const COMPLETE_PROGRESS = 99.5;

export interface DeriveOptions {
  /** bed-cooldown-complete fires when the bed drops below this after a print completes. Default 40 °C. */
  bedCooldownC?: number;
}

/** What the deriver remembers between snapshots. Opaque to callers; start with `undefined`. */
export interface DeriveMemory {
  last: PrinterSnapshot;
  /** Per print: the highest 10 % step announced and the layer events already sent. */
  decile: number;
  firstLayer: boolean;
  thirdLayer: boolean;
  /** Armed by a completion, until the bed has cooled. */
  cooldownPending: boolean;
  gadgetWarned: boolean;
  gadgetPauseAnnounced: boolean;
}

export interface DeriveResult {
  memory: DeriveMemory;
  events: PrinterEvent[];
}

/** States a print ends in, when a whole print happened between two polls (a new print id, already over). */
const FINISHED: ReadonlySet<JobState> = new Set<JobState>(['complete', 'cancelled', 'error']);

/**
 * The events between the remembered snapshot and `snapshot`, in the order they happened. Offline
 * snapshots carry no job information and are skipped (the memory keeps the last online one, so a
 * print that finished while the printer was unreachable is still reported when it comes back).
 */
export function deriveEvents(memory: DeriveMemory | undefined, snapshot: PrinterSnapshot, options: DeriveOptions = {}): DeriveResult {
  if (!snapshot.online) return { memory: memory ?? baseline(snapshot, options), events: [] };
  if (!memory) return { memory: baseline(snapshot, options), events: [] };

  const cooldownC = options.bedCooldownC ?? DEFAULT_BED_COOLDOWN_C;
  const prev = memory.last;
  const cur = snapshot;
  const m: DeriveMemory = { ...memory, last: cur };
  const events: PrinterEvent[] = [];
  const emit = (name: string, extra: Partial<PrinterEvent> = {}): void => {
    events.push(toEvent(name, cur, extra));
  };

  const newPrintId = cur.printId !== null && prev.printId !== null && cur.printId !== prev.printId;
  const started = (cur.printing && (!prev.printing || newPrintId)) || (newPrintId && FINISHED.has(cur.state));
  if (started) {
    Object.assign(m, { decile: 0, firstLayer: false, thirdLayer: false, cooldownPending: false, gadgetWarned: false, gadgetPauseAnnounced: false });
    emit('print-started');
  }
  const wasRunning = prev.printing || started;

  if (cur.printing) {
    if (prev.state === 'paused' && cur.state !== 'paused' && !started) {
      m.gadgetPauseAnnounced = false;
      emit('print-resumed');
    }
    progressEvents(m, cur, emit);
    const gadgetPaused = cur.gadget?.state === GadgetState.PausedDueToFailure;
    if (cur.state === 'paused' && (prev.state !== 'paused' || started)) {
      m.gadgetPauseAnnounced = gadgetPaused;
      emit(gadgetPaused ? 'gadget-paused-print' : 'print-paused');
    } else if (cur.state === 'paused' && !m.gadgetPauseAnnounced && gadgetPaused) {
      // Gadget's verdict arrived after the pause itself was seen.
      m.gadgetPauseAnnounced = true;
      emit('gadget-paused-print');
    }
    // A failure pause is the strongest warning: the same bad verdict after a resume is not news.
    if (gadgetPaused) m.gadgetWarned = true;
    const warning = isGadgetWarning(cur.gadget) && cur.gadget?.state === GadgetState.Active;
    if (warning && !m.gadgetWarned) emit('gadget-warning');
    // Re-armed only by a good verdict, not by a missing one (Gadget is not polled on every poll).
    if (cur.gadget) m.gadgetWarned = warning || (m.gadgetWarned && cur.gadget.state !== GadgetState.Active);
  }

  if (wasRunning && !cur.printing) {
    if (cur.state === 'error') emit('error', { error: cur.error ?? undefined });
    if (cur.state === 'complete' || (cur.state === 'idle' && (prev.progress ?? 0) >= COMPLETE_PROGRESS)) {
      m.cooldownPending = true;
      emit('print-complete');
    } else {
      emit('print-failed', { error: cur.error ?? (cur.state === 'cancelled' || cur.state === 'idle' ? 'cancelled' : undefined) });
    }
  } else if (!wasRunning && cur.state === 'error' && prev.state !== 'error') {
    emit('error', { error: cur.error ?? undefined });
  }

  if (m.cooldownPending && !cur.printing) {
    const bed = cur.temperatures.bed.actual;
    if (bed !== null && bed < cooldownC) {
      m.cooldownPending = false;
      emit('bed-cooldown-complete');
    }
  }
  return { memory: m, events };
}

/** The first snapshot: everything already true counts as announced. */
function baseline(snapshot: PrinterSnapshot, options: DeriveOptions): DeriveMemory {
  const layer = snapshot.currentLayer ?? 0;
  const bed = snapshot.temperatures.bed.actual;
  return {
    last: snapshot,
    decile: snapshot.printing ? decileOf(snapshot.progress) : 0,
    firstLayer: layer > 1,
    thirdLayer: layer > 3,
    // A print that completed just before deploy still gets its cool-down once the bed is cool.
    cooldownPending: snapshot.state === 'complete' && bed !== null && bed >= (options.bedCooldownC ?? DEFAULT_BED_COOLDOWN_C),
    gadgetWarned: isGadgetWarning(snapshot.gadget),
    gadgetPauseAnnounced: snapshot.gadget?.state === GadgetState.PausedDueToFailure,
  };
}

/** Progress every 10 % (one event per poll, whatever it skipped) and the first and third layer. */
function progressEvents(m: DeriveMemory, cur: PrinterSnapshot, emit: (name: string) => void): void {
  const layer = cur.currentLayer ?? 0;
  if (!m.firstLayer && layer > 1) {
    m.firstLayer = true;
    emit('first-layer-complete');
  }
  if (!m.thirdLayer && layer > 3) {
    m.thirdLayer = true;
    emit('third-layer-complete');
  }
  const decile = decileOf(cur.progress);
  if (decile > m.decile) {
    m.decile = decile;
    emit('print-progress');
  }
}

/** 10 % steps below 100 (100 % is print-complete). */
function decileOf(progress: number | null): number {
  return Math.min(9, Math.floor((progress ?? 0) / 10));
}

/** A derived event in the PrinterEvent shape the webhook node also produces. */
function toEvent(name: string, s: PrinterSnapshot, extra: Partial<PrinterEvent>): PrinterEvent {
  const eventType = EVENT_TYPES[name];
  const event: PrinterEvent = { eventType, event: eventName(eventType), source: 'poll' };
  const fields: Partial<PrinterEvent> = {
    printerName: s.printerName ?? undefined,
    printId: s.printId ?? undefined,
    fileName: s.fileName ?? undefined,
    progress: s.progress === null ? undefined : Math.floor(s.progress),
    durationSec: s.durationSec ?? undefined,
    timeRemainingSec: s.timeLeftSec ?? (s.progress === null ? undefined : -1),
    currentLayer: s.currentLayer ?? undefined,
    totalLayers: s.totalLayers ?? undefined,
    ...extra,
  };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (event as unknown as Record<string, unknown>)[k] = v;
  return event;
}
