// Following one printer as the status poll node does (mode poll/live/auto), for nodes that want its
// snapshots and derived print events without a wired status node: the config node's shared poller
// and live feed, live snapshots merged with what only the poller knows, and one derivation for both
// sources so that a switch between them announces nothing twice.
import { deriveEvents, type DeriveMemory, type LiveState, type OctoEverywhereError, type PrinterEvent, type PrinterSnapshot } from '../../client';
import type { AppConnectionNode } from './types';

/** A live snapshot with what only the poller knows (Gadget, limits, the service's print id and name). */
export function mergeLive(pushed: PrinterSnapshot, lastPoll: PrinterSnapshot | undefined): PrinterSnapshot {
  const polled = lastPoll?.online ? lastPoll : undefined;
  const samePrint = polled?.printing && pushed.printing && polled.fileName === pushed.fileName;
  return {
    ...pushed,
    printId: pushed.printId ?? (samePrint ? (polled?.printId ?? null) : null),
    printerName: polled?.printerName ?? pushed.printerName,
    // OctoPrint's socket has no layer numbers: the polls' serve for the layer events.
    currentLayer: pushed.currentLayer ?? (samePrint ? (polled?.currentLayer ?? null) : null),
    totalLayers: pushed.totalLayers ?? (samePrint ? (polled?.totalLayers ?? null) : null),
    gadget: samePrint ? (polled?.gadget ?? null) : null,
    // Moonraker's socket carries no light states: the polls' serve.
    lights: pushed.lights.length > 0 ? pushed.lights : (polled?.lights ?? []),
    limits: polled?.limits ?? lastPoll?.limits ?? null,
  };
}

export interface FollowOptions {
  intervalMs: number;
  mode: 'poll' | 'live' | 'auto';
  /** Live: readings as the printer pushes them (`push`, the default) or once per intervalMs (`interval`). */
  readings?: 'push' | 'interval';
  bedCooldownC: number;
  /**
   * The derivation memory to continue from (a persistent context store's, shared/status-memory.ts):
   * snapshots that arrive before it is loaded wait, then go through in order. Without it the first
   * snapshot is a baseline (the state found then is not an event).
   */
  memory?: Promise<DeriveMemory | undefined>;
}

export interface FollowHandlers {
  /** Every snapshot (poll or live) with the events derived from it, each event once. */
  snapshot(snapshot: PrinterSnapshot, events: PrinterEvent[], source: 'poll' | 'live'): void;
  /** A failed poll, as the poller reports it. */
  failed(error: OctoEverywhereError, outcome: { stopped: boolean; retryInMs?: number }): void;
  /** The live socket's state (live and auto modes). */
  liveState?(state: LiveState): void;
  /** The derivation memory after each snapshot, before `snapshot` (to save it). */
  remember?(memory: DeriveMemory): void;
}

/** Starts following; returns the stop (call it on close). */
export function followPrinter(connection: AppConnectionNode, options: FollowOptions, handlers: FollowHandlers): () => void {
  let memory: DeriveMemory | undefined;
  let connected = false;
  let liveUp = false;
  let lastLive: PrinterSnapshot | undefined;
  let lastPoll: PrinterSnapshot | undefined;
  let stopped = false;
  /** Snapshots waiting for the memory to load (options.memory), in order; undefined once it has. */
  let held: Array<[PrinterSnapshot, 'poll' | 'live']> | undefined;
  if (options.memory) {
    held = [];
    const loaded = (found: DeriveMemory | undefined): void => {
      if (stopped) return;
      memory ??= found;
      const waiting = held ?? [];
      held = undefined;
      for (const [snapshot, source] of waiting) emit(snapshot, source);
    };
    // A memory that cannot be read is a baseline, as without a store: nothing waits for ever.
    options.memory.then(loaded, () => loaded(undefined));
  }

  const emit = (snapshot: PrinterSnapshot, source: 'poll' | 'live'): void => {
    if (held) {
      held.push([snapshot, source]);
      return;
    }
    const derived = deriveEvents(memory, snapshot, { bedCooldownC: options.bedCooldownC });
    memory = derived.memory;
    handlers.remember?.(memory);
    handlers.snapshot(snapshot, source === 'live' ? derived.events.map((e) => ({ ...e, source })) : derived.events, source);
  };

  const stops: Array<() => void> = [];
  if (options.mode !== 'poll') {
    stops.push(
      connection.live().subscribe({
        readingsMs: options.readings === 'interval' ? options.intervalMs : undefined,
        state: (state) => {
          connected = state.status === 'connected';
          liveUp = false;
          if (!connected) lastLive = undefined;
          handlers.liveState?.(state);
        },
        snapshot: (snapshot) => {
          // Live only once this socket has delivered a status (a silent socket leaves the polls in charge).
          if (!connected) return;
          liveUp = true;
          lastLive = snapshot;
          emit(mergeLive(snapshot, lastPoll), 'live');
        },
      }),
    );
  }
  stops.push(
    connection.poller().subscribe({
      intervalMs: options.intervalMs,
      snapshot: (snapshot) => {
        lastPoll = snapshot;
        if (!liveUp) emit(snapshot, 'poll');
        else if (lastLive) emit(mergeLive(lastLive, lastPoll), 'live');
      },
      failed: (error, outcome) => handlers.failed(error, outcome),
    }),
  );
  return () => {
    stopped = true;
    for (const stop of stops.splice(0)) stop();
  };
}
