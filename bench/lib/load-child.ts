// The load generator's process (see load.ts): autocannon, answering `run` calls over IPC.
import autocannon from 'autocannon';
import type { LoadOptions, LoadResult } from './load';
import { serve } from './proc';

function run(o: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: o.url,
        method: o.method ?? 'GET',
        headers: o.headers,
        body: o.body,
        connections: o.connections,
        duration: o.durationSec,
        overallRate: o.overallRate,
        pipelining: 1,
      },
      (err, r) => {
        if (err) return reject(err);
        resolve({
          requestsPerSec: r.requests.total / o.durationSec,
          latencyP50Ms: r.latency.p50,
          latencyP99Ms: r.latency.p99,
          non2xx: r.non2xx,
          errors: r.errors,
          timeouts: r.timeouts,
          total: r.requests.total,
        });
      },
    );
  });
}

serve({ run });
