// Interleaved A/B: parties take turns in short slices, so load that comes and goes lands on all alike.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type * as Client from '../../src/client';
import { localhostLookup } from '../../src/simulator';
import { SimProcess } from '../lib/sim';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { OctoEverywhereClient, transfer } = require(process.env.AB_DIST ?? '../../dist/client') as typeof Client;
const PATH = '/server/info';
async function main(): Promise<void> {
  const sim = await SimProcess.start();
  const keys = await sim.connection(0);
  const client = new OctoEverywhereClient({ url: keys.url, authBearerToken: keys.authBearerToken, serviceUrl: sim.info.serviceUrl });
  const agent = new http.Agent({ keepAlive: true, lookup: localhostLookup } as http.AgentOptions);
  const target = new URL(keys.url);
  const wire = (): Promise<boolean> => new Promise((resolve, reject) => {
    const req = http.get({ agent, hostname: target.hostname, port: target.port, path: PATH, headers: { Authorization: `Bearer ${keys.authBearerToken}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { JSON.parse(Buffer.concat(chunks).toString('utf8')); resolve(res.statusCode === 200); });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const parties: Record<string, () => Promise<unknown>> = {
    wire,
    request: () => client.connection.request({ path: PATH, responseType: 'json' }),
    transfer: async () => { const r = await transfer(client.connection, { path: PATH }); JSON.parse(r.body.toString('utf8')); },
  };
  const only = process.env.AB_PARTIES?.split(',');
  const names = Object.keys(parties).filter((n) => !only || only.includes(n));
  const tot: Record<string, { n: number; cpu: number; wall: number }> = {};
  for (const n of names) tot[n] = { n: 0, cpu: 0, wall: 0 };
  const slice = async (name: string, ms: number, record: boolean): Promise<void> => {
    const fire = parties[name];
    let count = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await Promise.all(Array.from({ length: 16 }, async () => { while (performance.now() - t0 < ms) { await fire(); count++; } }));
    const c = process.cpuUsage(c0);
    if (record) { tot[name].n += count; tot[name].cpu += c.user + c.system; tot[name].wall += performance.now() - t0; }
  };
  for (const n of names) await slice(n, 1000, false);
  const slices = Number(process.env.AB_SLICES ?? 16);
  for (let i = 0; i < slices; i++) for (const n of names) await slice(n, 300, true);
  for (const n of names) {
    const t = tot[n];
    console.log(`${n.padEnd(10)} ${(t.n / t.wall * 1000).toFixed(0).padStart(6)} req/s  ${(t.cpu / t.n).toFixed(1).padStart(7)} µs/req  ×wire ${((t.cpu / t.n) / (tot.wire ? tot.wire.cpu / tot.wire.n : NaN)).toFixed(2)}`);
  }
  agent.destroy();
  await client.close();
  await sim.close();
}
void main();
