// autocannon in its own process: the load generator must not share a core's accounting or an
// event loop with what it measures.
import { forkTs, Peer } from './proc';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSec: number;
  /** Requests per second over all connections (autocannon overallRate); absent = as fast as possible. */
  overallRate?: number;
}

export interface LoadResult {
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  total: number;
}

/** A load generator in its own process; close() it when done. */
export class LoadGenerator {
  private readonly peer = new Peer(forkTs('lib/load-child.ts'));

  run(options: LoadOptions): Promise<LoadResult> {
    return this.peer.call<LoadResult>('run', options);
  }

  close(): Promise<void> {
    return this.peer.close();
  }
}
