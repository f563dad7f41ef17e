// The far side of every benchmark: the OctoEverywhere simulator in its own process (one core, its
// own event loop), driven over IPC by bench/run.ts and the benchmark workers.
import { startSimulator, type CompletionKeys, type Simulator } from '../src/simulator';
import { LARGE_FRAME_WEBCAM, startPrinter } from '../src/simulator/printers';
import type { PrinterKind } from '../src/simulator';
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

/** A frame interval far longer than any benchmark: the picture never changes, so it is encoded once. */
const STILL_FRAME_MS = 24 * 3600 * 1000;

let sim: Simulator | undefined;

async function start(): Promise<SimInfo> {
  sim = await startSimulator({
    printers: [
      { kind: 'moonraker', name: 'Bench Voron' },
      { kind: 'octoprint', name: 'Bench Prusa' },
      { kind: 'bambu', name: 'Bench P1S' },
    ],
    // The relay's 609 guard would stop a throughput run after 120 snapshots.
    webcamViewLimit: { maxViews: Number.MAX_SAFE_INTEGER, windowSec: 1 },
    startPrinter: (o) => startPrinter({ ...o, webcams: [LARGE_FRAME_WEBCAM], webcamFrameIntervalMs: STILL_FRAME_MS }),
  });
  // Encode the (still) frames now, not inside the first measured round.
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
  cpu: (): NodeJS.CpuUsage => process.cpuUsage(),
  close: async () => {
    await sim?.close();
    sim = undefined;
  },
});
