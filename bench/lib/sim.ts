// The simulator process as a benchmark sees it.
import type { CompletionKeys } from '../../src/simulator';
import type { SimChange, SimConnection, SimInfo, SimStartOptions } from '../sim-server';
import { forkTs, Peer } from './proc';

export class SimProcess {
  private constructor(
    private readonly peer: Peer,
    readonly info: SimInfo,
  ) {}

  static async start(options: SimStartOptions = {}): Promise<SimProcess> {
    const peer = new Peer(forkTs('sim-server.ts'));
    const info = await peer.call<SimInfo>('start', options);
    return new SimProcess(peer, info);
  }

  /** Every printer starts a long print, already heated; how many did. */
  startPrints(durationSec: number): Promise<number> {
    return this.peer.call<number>('startPrints', { durationSec });
  }

  printing(): Promise<number> {
    return this.peer.call<number>('printing');
  }

  /** Pauses and resumes the printers given, `count` times each, `spacingMs` apart (random phase); resolves when done. */
  changes(printers: number[], spacingMs: number, count: number): Promise<SimChange[]> {
    return this.peer.call<SimChange[]>('changes', { printers, spacingMs, count });
  }

  /** A relay restart refusing upgrades for `windowMs`; its wall-clock time (ms). */
  restartRelay(windowMs: number): Promise<number> {
    return this.peer.call<number>('restartRelay', { windowMs });
  }

  /** Relay upgrades stamped in the simulator since the last restartRelay: attempts and those relayed. */
  upgrades(): Promise<{ attempts: number[]; accepted: number[] }> {
    return this.peer.call<{ attempts: number[]; accepted: number[] }>('upgrades');
  }

  /** Moonraker status pushes the printers have sent so far. */
  pushes(): Promise<number> {
    return this.peer.call<number>('pushes');
  }

  /** Relayed sockets open now. */
  openSockets(): Promise<number> {
    return this.peer.call<number>('openSockets');
  }

  /** n App Connections, round-robin over the given printers (default the Moonraker one). */
  connections(n: number, printers?: number[]): Promise<SimConnection[]> {
    return this.peer.call<SimConnection[]>('connections', { n, printers });
  }

  async connection(printer = 0): Promise<CompletionKeys> {
    const [c] = await this.connections(1, [printer]);
    return c.keys;
  }

  /** The simulator process's CPU time so far (µs). */
  async cpuUs(): Promise<number> {
    const u = await this.peer.call<NodeJS.CpuUsage>('cpu');
    return u.user + u.system;
  }

  close(): Promise<void> {
    return this.peer.close();
  }

  /** Runs `fn` and tells how many cores the simulator used meanwhile (1 = its one core saturated). */
  async busy<T>(fn: () => Promise<T>): Promise<{ result: T; simCores: number }> {
    const cpu0 = await this.cpuUs();
    const t0 = Date.now();
    const result = await fn();
    const simCores = ((await this.cpuUs()) - cpu0) / ((Date.now() - t0) * 1000);
    return { result, simCores };
  }
}

/** The relay target for a client that cannot resolve *.localhost: 127.0.0.1 plus the Host header. */
export function relayTarget(keys: CompletionKeys, port: number, path: string): { url: string; host: string } {
  return { url: `http://127.0.0.1:${port}${path}`, host: new URL(keys.url).host };
}
