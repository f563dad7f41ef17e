// The far side of every benchmark: the OctoEverywhere simulator in its own process (one core, its
// own event loop), driven over IPC by bench/run.ts and the benchmark workers.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { startSimulator, type CompletionKeys, type Simulator } from '../src/simulator';
import { LARGE_FRAME_WEBCAM, startPrinter, type SimulatedPrinter } from '../src/simulator/printers';
import type { PrinterKind } from '../src/simulator';
import { Chaos, type RelayedSocket } from '../src/simulator/service/chaos';
import { serve } from './lib/proc';

export interface SimInfo {
  serviceUrl: string;
  port: number;
  printers: Array<{ kind: PrinterKind; name: string; url: string }>;
}

export interface SimConnection {
  keys: CompletionKeys;
  printerIndex: number;
}

export interface SimStartOptions {
  /** A farm instead of the three default printers: this many Moonraker printers without webcams. */
  moonraker?: number;
}

/** One printer state change made by `changes`, stamped on the wall clock (comparable across processes on one machine). */
export interface SimChange {
  printer: number;
  action: 'pause' | 'resume';
  /** performance.timeOrigin + performance.now(), just before the change. */
  atMs: number;
  done: boolean;
}

/** A frame interval far longer than any benchmark: the picture never changes, so it is encoded once. */
const STILL_FRAME_MS = 24 * 3600 * 1000;

let sim: Simulator | undefined;
/** Moonraker status pushes sent by the printers (counted at ws's send, which the printers call with text). */
let pushes = 0;
const wsSend = WebSocket.prototype.send;
WebSocket.prototype.send = function countingSend(this: WebSocket, data: unknown, ...rest: unknown[]): void {
  if (typeof data === 'string' && data.startsWith('{"jsonrpc":"2.0","method":"notify_status_update"')) pushes++;
  (wsSend as (this: WebSocket, ...args: unknown[]) => void).call(this, data, ...rest);
} as typeof wsSend;
/**
 * Relay upgrades as the simulator sees them (wall-clock ms): every WebSocket upgrade asks the restart
 * gate first (an attempt), every one relayed is tracked (a socket open again). Stamped here, the storm's
 * spread does not depend on how soon the client's event loop notices.
 */
const upgrades = { attempts: [] as number[], accepted: [] as number[], recording: false };
const refusal = Chaos.prototype.upgradeRefusal;
Chaos.prototype.upgradeRefusal = function stampedRefusal(this: Chaos): number {
  if (upgrades.recording) upgrades.attempts.push(wallMs());
  return refusal.call(this);
};
const track = Chaos.prototype.track;
Chaos.prototype.track = function stampedTrack(this: Chaos, socket: RelayedSocket): () => void {
  if (upgrades.recording) upgrades.accepted.push(wallMs());
  return track.call(this, socket);
};
let simulated: SimulatedPrinter[] = [];

/** Wall-clock ms with sub-ms resolution; the workers stamp with the same expression. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

async function start(options: SimStartOptions = {}): Promise<SimInfo> {
  simulated = [];
  const farm = options.moonraker ?? 0;
  sim = await startSimulator({
    printers:
      farm > 0
        ? Array.from({ length: farm }, (_, i) => ({ kind: 'moonraker' as const, name: `Farm Voron ${i}` }))
        : [
            { kind: 'moonraker', name: 'Bench Voron' },
            { kind: 'octoprint', name: 'Bench Prusa' },
            { kind: 'bambu', name: 'Bench P1S' },
          ],
    // The relay's 609 guard would stop a throughput run after 120 snapshots.
    webcamViewLimit: { maxViews: Number.MAX_SAFE_INTEGER, windowSec: 1 },
    startPrinter: async (o) => {
      const p = await startPrinter(farm > 0 ? { ...o, webcams: [] } : { ...o, webcams: [LARGE_FRAME_WEBCAM], webcamFrameIntervalMs: STILL_FRAME_MS });
      simulated.push(p);
      return p;
    },
  });
  // Encode the (still) frames now, not inside the first measured round.
  if (farm === 0)
    for (const p of sim.printers)
      await fetch(`${p.url}/webcam/?action=snapshot`)
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
  return {
    serviceUrl: sim.serviceUrl,
    port: sim.port,
    printers: sim.printers.map((p) => ({ kind: p.kind, name: p.name, url: p.url })),
  };
}

function need(): Simulator {
  if (!sim) throw new Error('simulator not started');
  return sim;
}

serve({
  start,
  /** n App Connections spread round-robin over the printers given (default: the first). */
  connections: ({ n, printers }: { n: number; printers?: number[] }): SimConnection[] => {
    const s = need();
    const on = printers ?? [0];
    return Array.from({ length: n }, (_, i) => {
      const printerIndex = on[i % on.length];
      return { keys: s.createAppConnection(printerIndex, { appId: 'devtest' }), printerIndex };
    });
  },
  /** Every printer starts a long print, heated already: it prints (and pushes) from its next step. */
  startPrints: ({ durationSec }: { durationSec: number }): number => {
    need();
    for (const p of simulated) {
      p.startPrint('farm.gcode', { durationSec });
      for (const h of [p.simulation.heaters.bed, p.simulation.heaters.hotend]) h.actual = h.target;
    }
    return simulated.filter((p) => p.state === 'warmingup' || p.state === 'printing').length;
  },
  /** Printers printing now. */
  printing: (): number => simulated.filter((p) => p.state === 'printing').length,
  /**
   * Pauses and resumes printers in turn: printer i's first change at a random phase in [0, spacingMs),
   * then every spacingMs, `count` changes each. Resolves with every change once the last is made.
   */
  changes: ({ printers, spacingMs, count }: { printers: number[]; spacingMs: number; count: number }): Promise<SimChange[]> => {
    need();
    const log: SimChange[] = [];
    return new Promise((resolve) => {
      let left = printers.length * count;
      if (left === 0) resolve(log);
      for (const i of printers) {
        const p = simulated[i];
        const phase = Math.random() * spacingMs;
        for (let k = 0; k < count; k++) {
          setTimeout(
            () => {
              const action = p.state === 'paused' ? 'resume' : 'pause';
              const atMs = wallMs();
              const done = action === 'pause' ? p.simulation.pause() : p.simulation.resume();
              log.push({ printer: i, action, atMs, done });
              if (--left === 0) resolve(log);
            },
            phase + k * spacingMs,
          );
        }
      }
    });
  },
  /** Relay restart: every relayed socket closed, upgrades refused (601) for windowMs; the wall-clock time of it. */
  restartRelay: ({ windowMs }: { windowMs: number }): number => {
    const s = need();
    s.chaos.relayRestartMs = windowMs;
    upgrades.attempts = [];
    upgrades.accepted = [];
    upgrades.recording = true;
    const atMs = wallMs();
    s.socketChaos.restartRelay();
    return atMs;
  },
  /** The upgrades stamped since the last restartRelay (recording stops). */
  upgrades: (): { attempts: number[]; accepted: number[] } => {
    upgrades.recording = false;
    return { attempts: upgrades.attempts, accepted: upgrades.accepted };
  },
  openSockets: (): number => need().socketChaos.openSockets,
  pushes: (): number => pushes,
  cpu: (): NodeJS.CpuUsage => process.cpuUsage(),
  close: async () => {
    await sim?.close();
    sim = undefined;
    simulated = [];
  },
});
