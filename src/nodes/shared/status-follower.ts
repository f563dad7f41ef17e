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
  bedCooldownC: number;
}

export interface FollowHandlers {
  /** Every snapshot (poll or live) with the events derived from it, each event once. */
  snapshot(snapshot: PrinterSnapshot, events: PrinterEvent[], source: 'poll' | 'live'): void;
  /** A failed poll, as the poller reports it. */
  failed(error: OctoEverywhereError, outcome: { stopped: boolean; retryInMs?: number }): void;
  /** The live socket's state (live and auto modes). */
  liveState?(state: LiveState): void;
}

/** Starts following; returns the stop (call it on close). */
export function followPrinter(connection: AppConnectionNode, options: FollowOptions, handlers: FollowHandlers): () => void {
  let memory: DeriveMemory | undefined;
  let connected = false;
  let liveUp = false;
  let lastLive: PrinterSnapshot | undefined;
  let lastPoll: PrinterSnapshot | undefined;

  const emit = (snapshot: PrinterSnapshot, source: 'poll' | 'live'): void => {
    const derived = deriveEvents(memory, snapshot, { bedCooldownC: options.bedCooldownC });
    memory = derived.memory;
    handlers.snapshot(snapshot, source === 'live' ? derived.events.map((e) => ({ ...e, source })) : derived.events, source);
  };

  const stops: Array<() => void> = [];
  if (options.mode !== 'poll') {
    stops.push(
      connection.live().subscribe({
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
    for (const stop of stops.splice(0)) stop();
  };
}
