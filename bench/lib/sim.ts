// The simulator process as a benchmark sees it.
import type { CompletionKeys } from '../../src/simulator';
import type { SimConnection, SimInfo } from '../sim-server';
import { forkTs, Peer } from './proc';

export class SimProcess {
  private constructor(
    private readonly peer: Peer,
    readonly info: SimInfo,
  ) {}

  static async start(): Promise<SimProcess> {
    const peer = new Peer(forkTs('sim-server.ts'));
    const info = await peer.call<SimInfo>('start');
    return new SimProcess(peer, info);
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
