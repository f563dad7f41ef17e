// A simulated printer on the manual clock with a live connection and a poll-derivation beside it, so
// tests can compare what the push socket derives with what the poller derives from the same print.
import {
  AppConnection,
  CommandApi,
  deriveEvents,
  type DeriveMemory,
  LiveConnection,
  type LiveConnectionOptions,
  type LivePlatform,
  type LiveState,
  parseJobStatus,
  type PrinterEvent,
  type PrinterSnapshot,
} from '../../src/client';
import { createClock, type ManagedClock, type Simulator, startSimulator } from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import { watchConnectionSecrets } from '../helpers/simulator';

export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Waits (without a clock) until the condition holds, letting I/O run in between. */
export async function until(condition: () => boolean, what: string, rounds = 4000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (condition()) return;
    await tick();
    // Loopback I/O sometimes needs more than a turn of the loop: a short real pause every 100 turns.
    if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}

export interface Recorder {
  states: LiveState[];
  events: PrinterEvent[];
  snapshots: PrinterSnapshot[];
  hosts: string[];
}

export function record(live: LiveConnection): Recorder {
  const r: Recorder = { states: [], events: [], snapshots: [], hosts: [] };
  live.on('state', (s) => r.states.push(s));
  live.on('event', (e) => r.events.push(e));
  live.on('snapshot', (s) => r.snapshots.push(s));
  live.on('host', (h) => r.hosts.push(h));
  return r;
}

export interface LiveRig {
  clock: ManagedClock;
  sim: Simulator;
  printer: SimulatedPrinter;
  connection: AppConnection;
  lives: LiveConnection[];
  live(options?: Partial<LiveConnectionOptions>): LiveConnection;
  close(): Promise<void>;
}

const PLATFORM_OF: Record<LivePlatform, LivePlatform> = { moonraker: 'moonraker', octoprint: 'octoprint', bambu: 'bambu', 'elegoo-cc2': 'elegoo-cc2' };

export async function startRig(
  kind: LivePlatform,
  options: { apiKey?: boolean; connection?: Partial<ConstructorParameters<typeof AppConnection>[0]> } = {},
): Promise<LiveRig> {
  const clock = createClock({ mode: 'manual' });
  const sim = await startSimulator({ clock, printers: [{ kind, name: `Live ${kind}` }] });
  const printer = sim.printers[0] as SimulatedPrinter;
  const keys = sim.createAppConnection(0, options.apiKey === false ? {} : { octoPrintApiKeyAppName: 'node-red' });
  watchConnectionSecrets(keys);
  const connection = new AppConnection({ url: keys.url, authBearerToken: keys.authBearerToken, octoPrintApiKey: keys.octoPrintApiKey, ...options.connection });
  const lives: LiveConnection[] = [];
  return {
    clock,
    sim,
    printer,
    connection,
    lives,
    live(extra = {}) {
      const live = new LiveConnection({
        connection,
        platform: PLATFORM_OF[kind],
        clock,
        serialNumber: printer.serialNumber,
        printerName: printer.name,
        ...extra,
      });
      lives.push(live);
      return live;
    },
    async close() {
      for (const l of lives) l.stop();
      await connection.close();
      await sim.close();
      clock.dispose();
    },
  };
}

/** The poller's derivation, one command API status per call (what StatusPoller does on each poll). */
export class PollDerivation {
  readonly events: PrinterEvent[] = [];
  private memory: DeriveMemory | undefined;
  private readonly commands: CommandApi;

  constructor(
    connection: AppConnection,
    private readonly clock: ManagedClock,
    private readonly printerName: string,
  ) {
    this.commands = new CommandApi(connection);
  }

  async poll(): Promise<void> {
    const job = parseJobStatus(await this.commands.status());
    const snapshot: PrinterSnapshot = { ...job, online: true, printerName: this.printerName, gadget: null, limits: null, polledAt: this.clock.now() };
    const result = deriveEvents(this.memory, snapshot);
    this.memory = result.memory;
    this.events.push(...result.events);
  }
}

export const names = (events: PrinterEvent[]): string[] => events.map((e) => e.event);
