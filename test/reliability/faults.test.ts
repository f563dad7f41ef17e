// Issue 10, faults: every node type in one flow against the simulator while it misbehaves (latency,
// dropped connections, 5xx, temporary 6xx, printer offline, plugin timeout, a service outage, a real
// service restart on the same port). Every input message must end exactly once (one output or one
// error, done() once), nothing may surface as an unhandled rejection or uncaught exception, statuses
// go red and come back by themselves, and the shared poller resumes without a redeploy.
// Simulated time is manual (the 602 wait, poll intervals, back-off); requests are real HTTP.
import assert from 'node:assert/strict';
import type { NodeAPI } from 'node-red';
import { helper } from '../helpers/nodes';
import { secretsIn } from '../helpers/secrets';
import { credentialsOf } from '../helpers/simulator';
import { createClock, type ManagedClock, type Simulator, startSimulator } from '../../src/simulator';
import { BACKOFF_MAX_MS } from '../../src/nodes/shared/poller';
import type { AppConnectionNode } from '../../src/nodes/shared/types';
import {
  allNodesFlow,
  type End,
  figure,
  INPUT_NODES,
  lastStatus,
  type Ledger,
  ledger,
  modules,
  recordProcessFaults,
  type FaultRecorder,
  statusesOf,
} from './rig';

const ROUNDS_PER_PHASE = 4;

interface Phase {
  name: string;
  set(sim: Simulator): void;
  /** Codes at least one message must have ended with in this phase (proves the fault was real). */
  expect?: RegExp;
}

const PHASES: Phase[] = [
  { name: 'baseline', set: () => undefined },
  { name: 'latency spikes', set: (s) => Object.assign(s.chaos, { latencyMs: 40 }) },
  { name: 'dropped connections 40%', set: (s) => Object.assign(s.chaos, { dropRate: 0.4 }), expect: /OE_NETWORK|OE_UNREACHABLE|OE_TIMEOUT/ },
  { name: '502 on 40%', set: (s) => Object.assign(s.chaos, { errorRate: 0.4, errorStatus: 502 }), expect: /OE_502|OE_/ },
  { name: 'temporary 600 on 40%', set: (s) => Object.assign(s.chaos, { errorRate: 0.4, errorStatus: 600 }), expect: /OE_600/ },
  { name: 'printer offline', set: (s) => (s.printers[0].online = false), expect: /OE_601/ },
  { name: 'plugin timeout', set: (s) => (s.printers[0].pluginTimeout = true), expect: /OE_602|OE_TIMEOUT/ },
  { name: 'service outage (drop everything)', set: (s) => Object.assign(s.chaos, { dropRate: 1 }), expect: /OE_NETWORK|OE_UNREACHABLE/ },
  { name: 'recovered', set: () => undefined },
];

const activeTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

function calm(sim: Simulator): void {
  Object.assign(sim.chaos, { latencyMs: 0, dropRate: 0, errorRate: 0, errorStatus: 0 });
  for (const p of sim.printers) {
    p.online = true;
    p.pluginTimeout = false;
  }
}

describe('reliability: faults end every message exactly once and heal by themselves', function () {
  this.timeout(60_000);
  let clock: ManagedClock;
  let sim: Simulator;
  let faults: FaultRecorder;
  let red: NodeAPI | undefined;
  let timersBefore = 0;

  before(async () => {
    // Counted after a turn, when mocha's own timer for this hook runs, as one will in after().
    await new Promise((r) => setImmediate(r));
    timersBefore = activeTimers();
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({ clock });
    // The webcam's 609 window is simulated time, which barely moves here.
    sim.webcamViewLimit.maxViews = 100_000;
  });
  after(async () => {
    helper.settings({});
    await sim?.close();
    clock?.dispose();
    // Nothing of the suite (its nodes, the simulator, the test's own waits) keeps a timer running.
    for (let i = 0; i < 20 && activeTimers() > timersBefore; i++) await new Promise((r) => setImmediate(r));
    assert.ok(activeTimers() <= timersBefore, `${activeTimers()} timers left running, ${timersBefore} before the suite`);
  });
  beforeEach(() => {
    faults = recordProcessFaults();
  });
  afterEach(async () => {
    await helper.unload();
    faults.stop();
    calm(sim);
  });

  async function load(serviceUrl: string, keys: Parameters<typeof credentialsOf>[0]): Promise<Ledger> {
    helper.settings({ octoeverywhereClock: clock, octoeverywhereRequestTimeout: 3000 } as Parameters<typeof helper.settings>[0]);
    await helper.load(modules((r) => (red = r)) as Parameters<typeof helper.load>[0], allNodesFlow({ serviceUrl }), { c1: credentialsOf(keys) });
    return ledger();
  }

  /** Sends one message to every input node per round; simulated time moves while any is waiting on it (602). */
  async function runPhase(l: Ledger): Promise<End[]> {
    const ends: End[] = [];
    for (let round = 0; round < ROUNDS_PER_PHASE; round++) {
      const sent = INPUT_NODES.map((n) => l.send(n).then((e) => ends.push(e)));
      let settled = false;
      const all = Promise.all(sent).then(() => (settled = true));
      // The relay's 602 and the poller's timers wait on simulated time: move it while messages wait.
      for (let i = 0; i < 400 && !settled; i++) {
        await new Promise((r) => setTimeout(r, 10));
        if (!settled) await clock.advance(5_000);
      }
      // A real-time limit for what is still in flight; cleared, so no 8 s timer outlives the round.
      let limit: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((r) => (limit = setTimeout(r, 8000)))]);
      clearTimeout(limit);
      assert.equal(settled, true, `messages still pending: ${l.pending().join(', ')}`);
    }
    return ends;
  }

  it('latency, drops, 5xx, temporary 6xx, offline, plugin timeout and an outage: 0 lost, 0 duplicates, 0 crashes; statuses and the poller heal', async () => {
    const l = await load(sim.serviceUrl, sim.createAppConnection(0, { appId: 'nodered' }));
    const connection = helper.getNode('c1') as unknown as AppConnectionNode;
    const poller = connection.poller();
    let polls = 0;
    (helper.getNode('out') as unknown as { on(e: 'input', fn: (m: Record<string, unknown>) => void): void }).on('input', (m) => {
      if (m.topic === 'status' && !String(m._msgid).startsWith('rel-')) polls += 1;
    });
    const redSeen = new Set<string>();
    for (const phase of PHASES) {
      calm(sim);
      phase.set(sim);
      const before = statusesOf('cmd').length;
      const ends = await runPhase(l);
      // The poller polls through the fault too.
      await clock.advance(10_000);
      await poller.settled();
      const codes = ends.filter((e) => e.kind === 'error').map((e) => e.code ?? '');
      figure(`faults/${phase.name}`, {
        in: ends.length,
        out: ends.filter((e) => e.kind !== 'error').length,
        errors: codes.length,
        codes: [...new Set(codes)].join('|') || '-',
      });
      if (phase.expect)
        assert.ok(
          codes.some((c) => phase.expect?.test(c)),
          `${phase.name}: expected an error matching ${String(phase.expect)}, got ${codes.join(',')}`,
        );
      for (const id of INPUT_NODES) if (statusesOf(id).some((s) => s.fill === 'red')) redSeen.add(id);
      assert.ok(statusesOf('cmd').length > before, 'the command node reported each phase on its status');
    }
    // Recovered: the last round succeeded everywhere, and every node's status is no longer red.
    const pollsBefore = polls;
    await clock.advance(BACKOFF_MAX_MS);
    await poller.settled();
    await clock.advance(30_000);
    await poller.settled();
    assert.ok(polls > pollsBefore, 'the poller resumed by itself (no redeploy)');
    assert.equal(poller.stopped, false);
    for (const id of INPUT_NODES) {
      assert.notEqual(lastStatus(id)?.fill, 'red', `${id} status healed: ${JSON.stringify(lastStatus(id))}`);
    }
    assert.deepEqual([...redSeen].sort(), ['cam', 'cmd', 'live', 'poll', 'req'], 'every node showed red during the faults');

    const s = l.summary();
    figure('faults/total', { ...s, completes: l.completes, codes: [...l.codes].map(([c, n]) => `${c}:${n}`).join(',') });
    assert.equal(s.lost, 0, 'lost messages');
    assert.equal(s.duplicates, 0, `duplicate endings: ${l.duplicates.join('; ')}`);
    assert.equal(s.out + s.errors, s.in, 'every message ended in exactly one output or error');
    assert.equal(l.completes + s.errors, s.in, 'done() exactly once per message');
    assert.deepEqual(faults.faults, [], 'no unhandled rejection or uncaught exception');
    assert.deepEqual(secretsIn(JSON.stringify([...l.codes.keys(), helper.log().args])), []);
    assert.ok(red, 'runtime API captured');
  });

  it('a real service restart on the same port: messages fail cleanly while it is down, the old connection is gone (603), a redeploy with the new one is green', async () => {
    const l = await load(sim.serviceUrl, sim.createAppConnection(0, { appId: 'nodered' }));
    const port = sim.port;
    await sim.close();
    const down = await Promise.all(INPUT_NODES.map((n) => l.send(n)));
    assert.ok(
      down.every((e) => e.kind === 'error'),
      'every message failed while the service was down',
    );
    assert.ok(
      down.every((e) => /OE_UNREACHABLE|OE_NETWORK|OE_TIMEOUT/.test(e.code ?? '')),
      down.map((e) => e.code).join(','),
    );
    sim = await startSimulator({ clock, port });
    sim.webcamViewLimit.maxViews = 100_000;
    const back = await Promise.all(INPUT_NODES.map((n) => l.send(n)));
    assert.ok(
      back.every((e) => e.kind === 'error' && /OE_603|OE_606|OE_UNREACHABLE|OE_NETWORK/.test(e.code ?? '')),
      back.map((e) => e.code).join(','),
    );
    const s1 = l.summary();
    await helper.unload();

    const fresh = await load(sim.serviceUrl, sim.createAppConnection(0, { appId: 'nodered' }));
    const ok = await Promise.all(INPUT_NODES.map((n) => fresh.send(n)));
    assert.deepEqual(
      ok.map((e) => e.kind),
      INPUT_NODES.map(() => 'out'),
      ok.map((e) => e.code).join(','),
    );
    for (const id of INPUT_NODES) assert.notEqual(lastStatus(id)?.fill, 'red', id);
    const s2 = fresh.summary();
    figure('faults/restart', {
      in: s1.in + s2.in,
      out: s1.out + s2.out,
      errors: s1.errors + s2.errors,
      lost: s1.lost + s2.lost,
      duplicates: s1.duplicates + s2.duplicates,
    });
    assert.equal(s1.lost + s2.lost, 0);
    assert.equal(s1.duplicates + s2.duplicates, 0);
    assert.deepEqual(faults.faults, []);
  });
});
