// Issue 4: small requests per second through the simulator's relay (Bearer auth, keep-alive),
// the simulator alone in its process, autocannon in another.
import { LoadGenerator, type LoadResult } from './lib/load';
import { fmt, goal, type Row, type Section } from './lib/report';
import { relayTarget, SimProcess } from './lib/sim';
import { median, ROUNDS, ROUND_MS, WARMUP_MS } from './lib/stats';

const PATHS = [
  { label: 'command API ping', path: '/octoeverywhere-command-api/ping' },
  { label: 'native GET /server/info', path: '/server/info' },
];
const CONNECTIONS = [10, 50];

export async function run(): Promise<Section> {
  const sim = await SimProcess.start();
  const load = new LoadGenerator();
  const rows: Row[] = [];
  try {
    const keys = await sim.connection(0);
    for (const { label, path } of PATHS) {
      const { url, host } = relayTarget(keys, sim.info.port, path);
      const headers = { host, authorization: `Bearer ${keys.authBearerToken}` };
      for (const connections of CONNECTIONS) {
        await load.run({ url, headers, connections, durationSec: Math.max(1, Math.round(WARMUP_MS / 1000)) });
        const rounds: Array<LoadResult & { simCpuShare: number; simCpuUsPerReq: number }> = [];
        for (let i = 0; i < ROUNDS; i++) {
          const cpu0 = await sim.cpuUs();
          const t0 = Date.now();
          const r = await load.run({ url, headers, connections, durationSec: Math.max(1, Math.round(ROUND_MS / 1000)) });
          const cpu = (await sim.cpuUs()) - cpu0;
          const wallUs = (Date.now() - t0) * 1000;
          rounds.push({ ...r, simCpuShare: cpu / wallUs, simCpuUsPerReq: cpu / r.total });
        }
        const bad = rounds.reduce((s, r) => s + r.non2xx + r.errors + r.timeouts, 0);
        rows.push({
          peer: `${label}, ${connections} connections`,
          figures: {
            'req/s': median(rounds.map((r) => r.requestsPerSec)),
            'p50 ms': median(rounds.map((r) => r.latencyP50Ms)),
            'p99 ms': median(rounds.map((r) => r.latencyP99Ms)),
            'sim CPU (cores)': median(rounds.map((r) => r.simCpuShare)),
            'sim CPU µs/req': median(rounds.map((r) => r.simCpuUsPerReq)),
            'non-2xx/errors': bad,
          },
        });
      }
    }
  } finally {
    await load.close();
    await sim.close();
  }
  const worst = Math.min(...rows.map((r) => r.figures['req/s'] ?? 0));
  return {
    id: 'relay',
    title: '0. Simulator relay (issue 4): small requests through the relay, Bearer auth, keep-alive',
    rows,
    ratios: {},
    goals: [
      goal(
        '≥ 5,000 req/s through the relay (every path and connection count)',
        worst,
        (v) => v >= 5000,
        (v) => `lowest ${fmt(v)} req/s`,
      ),
    ],
    notes: [
      'autocannon in its own process, pipelining 1, keep-alive; the simulator (service + relay + printers) in its own process.',
      'Requests go to 127.0.0.1 with the App Connection host in the Host header (Node does not resolve *.localhost).',
    ],
  };
}
