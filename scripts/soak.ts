// Soak test (npm run soak [-- --minutes N --printers N --scale N]): many simulated printers printing
// in fast simulated time, one status-poll node per printer and steady printer-request traffic, in the
// real Node-RED runtime (node-red-node-test-helper). Prints heap and handle counts every minute and a
// verdict comparing the first and last third of the run: flat memory and handles, zero lost messages.
// Not part of npm test.
import { coreNode, helper, nodeModule } from '../test/helpers/nodes';
import { heapAfterGc } from '../test/reliability/rig';
import { startSimulator, type PrinterSpec } from '../src/simulator';

helper.init(require.resolve('node-red'));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const MINUTES = arg('minutes', 10);
const PRINTERS = arg('printers', 50);
const TIME_SCALE = arg('scale', 60);
/** Printer requests per second, spread over the printers. */
const REQUESTS_PER_SECOND = arg('rps', 20);
const SAMPLE_MS = 60_000;

type Module = (RED: unknown) => void;
const CATCH = coreNode('common/25-catch.js') as unknown as Module;

interface Sample {
  minute: number;
  heapMiB: number;
  rssMiB: number;
  handles: number;
  sent: number;
  answered: number;
  errors: number;
  pending: number;
  polls: number;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

async function main(): Promise<void> {
  const specs: PrinterSpec[] = Array.from({ length: PRINTERS }, (_, i) => ({ kind: (['moonraker', 'octoprint', 'bambu'] as const)[i % 3], name: `Soak ${i}` }));
  const sim = await startSimulator({ printers: specs, timeScale: TIME_SCALE, webcamViewLimit: { maxViews: 1_000_000 } });
  const flow: Array<Record<string, unknown>> = [{ id: 'tab', type: 'tab' }];
  const credentials: Record<string, Record<string, string | undefined>> = {};
  const at = { z: 'tab', x: 10, y: 10 };
  const paths: Record<string, string> = { moonraker: '/printer/info', octoprint: '/api/plugin/octoeverywhere', bambu: '/octoeverywhere-command-api/ping' };
  for (let i = 0; i < PRINTERS; i++) {
    const keys = sim.createAppConnection(i, { appId: 'nodered' });
    credentials[`c${i}`] = {
      url: keys.url,
      authBasicHttpUser: keys.authbasichttpuser,
      authBasicHttpPassword: keys.authbasichttppassword,
      authBearerToken: keys.authBearerToken,
      appApiToken: keys.appApiToken,
    };
    flow.push(
      { id: `c${i}`, type: 'octoeverywhere-app-connection', serviceUrl: sim.serviceUrl, appId: 'nodered' },
      { id: `p${i}`, type: 'octoeverywhere-status-poll', connection: `c${i}`, interval: 10, output: 'change', wires: [['polls'], ['events']], ...at },
      {
        id: `r${i}`,
        type: 'octoeverywhere-printer-request',
        connection: `c${i}`,
        method: 'GET',
        path: paths[specs[i].kind],
        ret: 'txt',
        wires: [['out']],
        ...at,
      },
    );
  }
  flow.push(
    { id: 'polls', type: 'helper', ...at },
    { id: 'events', type: 'helper', ...at },
    { id: 'out', type: 'helper', ...at },
    { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['errs']], ...at },
    { id: 'errs', type: 'helper', ...at },
  );
  const modules = ['octoeverywhere-app-connection', 'octoeverywhere-status-poll', 'octoeverywhere-printer-request'].map(
    (type) => nodeModule(type) as unknown as Module,
  );
  await helper.load([...modules, CATCH] as Parameters<typeof helper.load>[0], flow as Parameters<typeof helper.load>[1], credentials);

  const pending = new Set<string>();
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let polls = 0;
  let events = 0;
  const faults: string[] = [];
  process.on('unhandledRejection', (r) => faults.push(`unhandledRejection ${String(r)}`));
  process.on('uncaughtException', (e) => faults.push(`uncaughtException ${e.message}`));
  type On = { on(e: 'input', fn: (m: Record<string, unknown>) => void): void };
  (helper.getNode('out') as unknown as On).on('input', (m) => {
    if (pending.delete(String(m._msgid))) answered += 1;
  });
  const codes = new Map<string, number>();
  (helper.getNode('errs') as unknown as On).on('input', (m) => {
    const code = String((m.error as { code?: unknown } | undefined)?.code ?? 'none');
    codes.set(code, (codes.get(code) ?? 0) + 1);
    if (pending.delete(String(m._msgid))) errors += 1;
  });
  (helper.getNode('polls') as unknown as On).on('input', () => (polls += 1));
  (helper.getNode('events') as unknown as On).on('input', () => (events += 1));

  // Prints: every printer is always printing (a new print starts when one ends), 1–3 simulated hours each.
  const keepPrinting = setInterval(() => {
    for (const p of sim.printers)
      if (p.state !== 'printing' && p.state !== 'warmingup' && p.state !== 'paused')
        p.startPrint(`soak-${Date.now()}.gcode`, { durationSec: 3600 + Math.floor(Math.random() * 7200) });
  }, 1000);
  const traffic = setInterval(() => {
    for (let k = 0; k < REQUESTS_PER_SECOND / 10; k++) {
      const i = Math.floor(Math.random() * PRINTERS);
      const id = `soak-${(sent += 1)}`;
      pending.add(id);
      (helper.getNode(`r${i}`) as unknown as { receive(m: Record<string, unknown>): void }).receive({ _msgid: id, payload: '' });
    }
  }, 100);

  const samples: Sample[] = [];
  const sample = (minute: number): Sample => {
    const s: Sample = {
      minute,
      heapMiB: heapAfterGc() / 2 ** 20,
      rssMiB: process.memoryUsage().rss / 2 ** 20,
      handles: process.getActiveResourcesInfo().length,
      sent,
      answered,
      errors,
      pending: pending.size,
      polls,
    };
    samples.push(s);
    console.log(
      [
        String(s.minute).padStart(6),
        s.heapMiB.toFixed(1).padStart(8),
        s.rssMiB.toFixed(0).padStart(6),
        String(s.handles).padStart(7),
        String(s.sent).padStart(8),
        String(s.answered).padStart(9),
        String(s.errors).padStart(6),
        String(s.pending).padStart(7),
        String(s.polls).padStart(7),
      ].join(' '),
    );
    return s;
  };
  console.log(`soak: ${PRINTERS} printers, ${MINUTES} min, time scale ${TIME_SCALE}, ~${REQUESTS_PER_SECOND} requests/s, status-poll every 10 s per printer`);
  console.log(' minute  heapMiB  rssMiB handles     sent  answered errors pending   polls');
  sample(0);
  for (let m = 1; m <= MINUTES; m++) {
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
    sample(m);
  }
  clearInterval(traffic);
  clearInterval(keepPrinting);
  // Drain: every request sent gets its answer or error (the request timeout bounds this).
  const drainUntil = Date.now() + 35_000;
  while (pending.size > 0 && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 100));
  const lost = pending.size;
  await helper.unload();
  await sim.close();

  const third = Math.max(1, Math.floor(samples.length / 3));
  const first = samples.slice(1, 1 + third);
  const last = samples.slice(-third);
  const heapFirst = mean(first.map((s) => s.heapMiB));
  const heapLast = mean(last.map((s) => s.heapMiB));
  const handlesFirst = mean(first.map((s) => s.handles));
  const handlesLast = mean(last.map((s) => s.handles));
  const heapFlat = heapLast <= heapFirst * 1.1 + 4;
  const handlesFlat = handlesLast <= handlesFirst * 1.1 + 5;
  console.log(
    `\nsent ${sent}, answered ${answered}, errors ${errors}, lost ${lost}; status polls delivered ${polls}, print events ${events}; process faults ${faults.length}`,
  );
  console.log(`error codes (requests and polls): ${[...codes].map(([c, n]) => `${c}×${n}`).join(', ') || 'none'}`);
  console.log(`heap (after GC) first third ${heapFirst.toFixed(1)} MiB, last third ${heapLast.toFixed(1)} MiB: ${heapFlat ? 'flat' : 'GROWING'}`);
  console.log(`active handles first third ${handlesFirst.toFixed(0)}, last third ${handlesLast.toFixed(0)}: ${handlesFlat ? 'flat' : 'GROWING'}`);
  const ok = heapFlat && handlesFlat && lost === 0 && faults.length === 0;
  console.log(`verdict: ${ok ? 'PASS' : 'FAIL'}${faults.length ? ` (${faults.slice(0, 3).join('; ')})` : ''}`);
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
