// octoeverywhere-failure-detection with its octoeverywhere-gadget-api config node (issue 17), in the
// real Node-RED runtime against the simulator's Failure Detection API, on the manual clock.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NodeInitializer, NodeMessage } from 'node-red';
import { coreNode, helper, nodeModule, setFlows } from '../helpers/nodes';
import { secretsIn, watchSecret } from '../helpers/secrets';
import { type ClockedSimulator, startClockedSimulator } from '../helpers/simulator';
import { statusesOf } from '../reliability/rig';
import { markJpeg } from '../../src/simulator/printers/gadget-marker';
import { nextMonthStart } from '../../src/nodes/shared/call-budget';
import type { GadgetApiNode } from '../../src/nodes/shared/types';

const FAKE_JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00]), Buffer.alloc(64, 7), Buffer.from([0xff, 0xd9])]);
const good = (): Buffer => FAKE_JPEG;
const bad = (): Buffer => markJpeg(FAKE_JPEG, 3);

interface Caught {
  code: string;
  message: string;
  action?: string;
}

/**
 * The catalog texts with their arguments (the test helper's RED._ returns bare keys): loaded first,
 * it replaces RED._ for the nodes loaded after it, so statuses and errors read as users see them.
 */
const catalogText: NodeInitializer = (RED) => {
  const read = (type: string): Record<string, unknown> =>
    JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'nodes', 'locales', 'en-US', `${type}.json`), 'utf8'));
  const catalogs = [read('octoeverywhere-failure-detection'), read('octoeverywhere-gadget-api')];
  (RED as unknown as { _: (key: string, args?: Record<string, unknown>) => string })._ = (key, args = {}) => {
    const bare = key.replace(/^[^:]*:/, '');
    for (const catalog of catalogs) {
      const text = bare.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalog);
      if (typeof text === 'string') return text.replace(/__(\w+)__/g, (_m, name: string) => String(args[name]));
    }
    return key;
  };
};

const modules = (): NodeInitializer[] =>
  [
    catalogText,
    nodeModule('octoeverywhere-gadget-api'),
    nodeModule('octoeverywhere-failure-detection'),
    coreNode('common/25-catch.js'),
  ] as unknown as NodeInitializer[];

function flow(rig: ClockedSimulator, config: Record<string, unknown> = {}): object[] {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    {
      id: 'g1',
      type: 'octoeverywhere-gadget-api',
      serviceUrl: rig.sim.gadgetApi.url,
      warningConfidence: 3,
      pauseConfidence: 3,
      monthlyBudget: 5000,
      version: 1,
      ...config,
    },
    { id: 'fd', z: 'f1', type: 'octoeverywhere-failure-detection', gadgetApi: 'g1', version: 1, wires: [['out'], ['ev']] },
    { id: 'catcher', z: 'f1', type: 'catch', scope: ['fd'], uncaught: false, wires: [['errs']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'ev', z: 'f1', type: 'helper' },
    { id: 'errs', z: 'f1', type: 'helper' },
  ];
}

describe('node: octoeverywhere-failure-detection', () => {
  let rig: ClockedSimulator;
  let key: string;
  let outs: NodeMessage[];
  let events: NodeMessage[];
  let errors: Caught[];

  async function load(config: Record<string, unknown> = {}, apiKey = key, extra: NodeInitializer[] = []): Promise<void> {
    await helper.load([...extra, ...modules()], flow(rig, config) as never, { g1: { apiKey } } as never);
    outs = [];
    events = [];
    errors = [];
    helper.getNode('out').on('input', (m: NodeMessage) => outs.push(m));
    helper.getNode('ev').on('input', (m: NodeMessage) => events.push(m));
    helper.getNode('errs').on('input', (m: NodeMessage & { error?: Caught }) => errors.push(m.error as Caught));
  }

  const account = () => (helper.getNode('g1') as unknown as GadgetApiNode).gadgetApi();
  const turns = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  /** Lets every call in flight finish and its messages travel; time stands still meanwhile. */
  const settle = async (): Promise<void> => {
    await turns();
    const config = helper.getNode('g1') as unknown as GadgetApiNode | null;
    await Promise.resolve()
      .then(() => config?.gadgetApi().settled())
      .catch(() => undefined); // a config node without a key has no calls to wait for
    await turns();
  };
  const frame = async (msg: Record<string, unknown>): Promise<void> => {
    helper.getNode('fd').receive(msg as NodeMessage);
    await settle();
  };
  const advance = async (ms: number): Promise<void> => {
    await rig.clock.advance(ms);
    await settle();
  };
  const processCalls = () => rig.sim.gadgetApi.processCalls();
  /** The flow with only the failure detection node changed (renamed): a 'nodes' deploy redeploys just that node. */
  const renamedFlow = (): object[] => flow(rig).map((n) => ((n as { id: string }).id === 'fd' ? { ...n, name: 'renamed' } : n));

  beforeEach(async () => {
    rig = await startClockedSimulator();
    key = rig.sim.gadgetApi.addKey();
    watchSecret(key);
  });
  afterEach(async () => {
    await helper.unload();
    await rig.close();
  });

  it('under a flood of frames calls once per interval, and the latest frame wins', async () => {
    await load();
    const t0 = rig.clock.now();
    // One frame every 2 s for 200 s (an "every 2 s" snapshot flow): 101 frames.
    for (let i = 0; i <= 100; i++) {
      await frame({ payload: good(), seq: i });
      await advance(2_000);
    }
    const calls = processCalls();
    const times = calls.map((c) => (c.at - t0) / 1000);
    assert.deepEqual(times, [0, 40, 80, 120, 160, 200], 'one call per 40 s interval, never sooner');
    assert.equal(rig.sim.gadgetApi.calls.filter((c) => c.kind === 'create').length, 1);
    assert.deepEqual(
      calls.map((c) => c.status),
      [200, 200, 200, 200, 200, 200],
      'never rate-limited',
    );
    // The frame sent at each interval's end is the last one that arrived before it (seq 19 at 38 s …).
    assert.deepEqual(
      outs.map((m) => (m as { seq?: number }).seq),
      [0, 19, 39, 59, 79, 99],
    );
    const first = outs[0] as NodeMessage & { image?: Buffer; framesDropped?: number };
    assert.deepEqual(first.payload, { printQuality: 8, warningSuggested: false, pauseSuggested: false, score: 22, nextIntervalSec: 40 });
    assert.ok(first.image?.equals(good()), 'the scored image rides along');
    assert.equal((outs[1] as { framesDropped?: number }).framesDropped, 18, 'frames 1–18 were replaced');
    assert.equal(events.length, 0);
    assert.equal(errors.length, 0);
    const last = statusesOf('fd').at(-1);
    assert.match(String(last?.text), /quality 8 · next call in \d+ s · 6\/5000 calls this month|next call in \d+ s · 6\/5000 calls this month/);
    const scored = statusesOf('fd').find((s) => /^quality/.test(String(s.text)));
    assert.equal(scored?.text, 'quality 8 · next call in 40 s · 1/5000 calls this month');
    assert.equal(scored?.fill, 'green');
  });

  it("a long interval the service asks for (3000 s, beyond the SDK's 1800) is waited out in full under a flood", async () => {
    rig.sim.gadgetApi.knobs.intervalSec = 3000;
    await load();
    const t0 = rig.clock.now();
    // One frame every 5 s for 2 h 10 min.
    for (let i = 0; i <= 1560; i++) {
      await frame({ payload: good(), seq: i });
      await advance(5_000);
    }
    const calls = processCalls();
    assert.deepEqual(
      calls.map((c) => [(c.at - t0) / 1000, c.status]),
      [
        [0, 200],
        [3000, 200],
        [6000, 200],
      ],
      'one call per 3000 s, none rate-limited',
    );
    assert.deepEqual(
      outs.map((m) => (m as { seq?: number }).seq),
      [0, 599, 1199],
    );
    assert.equal(errors.length, 0);
    assert.equal(statusesOf('fd').find((s) => /^quality/.test(String(s.text)))?.text, 'quality 8 · next call in 3000 s · 1/5000 calls this month');
  });

  it('after one failure uses the fallback URL for the rest of the print', async () => {
    await load();
    rig.sim.gadgetApi.knobs.regionalDown = true;
    await frame({ payload: good() });
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'OE_NETWORK');
    await frame({ payload: good() });
    await advance(59_000);
    assert.equal(processCalls().length, 1, 'before the first answer, failures wait 60 s');
    await advance(1_000);
    rig.sim.gadgetApi.knobs.regionalDown = false;
    await frame({ payload: good() });
    await advance(40_000);
    assert.deepEqual(
      processCalls().map((c) => [c.host, c.status]),
      [
        ['gadget-regional', 0],
        ['gadget-pv1-oeapi', 200],
        ['gadget-pv1-oeapi', 200],
      ],
    );
    assert.equal(outs.length, 2);
  });

  it('one context per print: a new one on a new msg.printId, a print-started event or msg.reset; never reused', async () => {
    await load();
    const contextOfCall = (): string | undefined => processCalls().at(-1)?.contextId;
    await frame({ payload: good(), printId: 'print-a' });
    const a = contextOfCall();
    await advance(40_000);
    await frame({ payload: good(), printId: 'print-a' });
    assert.equal(contextOfCall(), a, 'the same print keeps its context');
    await advance(40_000);
    await frame({ payload: good(), printId: 'print-b' });
    const b = contextOfCall();
    assert.notEqual(b, a);
    await advance(40_000);
    // The webhook / status poll node's print-started event on the input.
    await frame({ topic: 'print-started', payload: { event: 'print-started', eventType: 1, printId: 'print-c', source: 'poll' } });
    await frame({ payload: good() });
    const c = contextOfCall();
    assert.ok(c !== a && c !== b);
    await advance(40_000);
    await frame({ payload: good(), reset: true });
    const d = contextOfCall();
    assert.ok(d !== a && d !== b && d !== c);
    await advance(20_000);
    await frame({ reset: true });
    await frame({ payload: good(), printId: 'print-c' });
    await advance(20_000);
    assert.equal(rig.sim.gadgetApi.calls.filter((x) => x.kind === 'create').length, 5);
    assert.equal(new Set(processCalls().map((x) => x.contextId)).size, 5, 'each print its own context');
    assert.equal(errors.length, 0);
    // A frame waiting for the interval belongs to its print: a new print drops it.
    await frame({ payload: good(), printId: 'print-c' });
    await frame({ payload: good(), printId: 'print-c', seq: 'old print' });
    await frame({ reset: true });
    await advance(20_000);
    assert.ok(!outs.some((m) => (m as { seq?: string }).seq === 'old print'));
  });

  it('sends gadget-warning and gadget-pause-suggested once per rising edge, with the image', async () => {
    rig.sim.gadgetApi.knobs.intervalSec = 20;
    await load();
    const sequence = [good, bad, bad, bad, bad, bad, good, bad, bad];
    for (const [i, make] of sequence.entries()) {
      await frame({ payload: make(), printId: 'p1', seq: i });
      await advance(20_000);
    }
    assert.deepEqual(
      outs.map((m) => [(m.payload as { warningSuggested: boolean }).warningSuggested, (m.payload as { pauseSuggested: boolean }).pauseSuggested]),
      [
        [false, false],
        [false, false],
        [true, false],
        [true, false],
        [true, true],
        [true, true],
        [false, false],
        [false, false],
        [true, false],
      ],
    );
    assert.deepEqual(
      events.map((m) => [m.topic, (m as { seq?: number }).seq]),
      [
        ['gadget-warning', 2],
        ['gadget-pause-suggested', 4],
        ['gadget-warning', 8],
      ],
    );
    const warning = events[0] as NodeMessage & { image?: Buffer };
    assert.deepEqual(warning.payload, { event: 'gadget-warning', eventType: 7, printQuality: 3, score: 78, source: 'failure-detection', printId: 'p1' });
    assert.ok(warning.image?.equals(bad()));
    assert.deepEqual(events[1].payload, { event: 'gadget-pause-suggested', printQuality: 3, score: 78, source: 'failure-detection', printId: 'p1' });
    const red = statusesOf('fd').filter((s) => s.fill === 'red' && /^quality 3/.test(String(s.text)));
    assert.ok(red.length > 0, 'a failing print shows red');
  });

  it('refuses what is not a JPEG with a specific error, without a call', async () => {
    await load();
    for (const payload of ['not an image', { a: 1 }, Buffer.from('GIF89a....'), undefined]) await frame({ payload });
    assert.deepEqual(
      errors.map((e) => e.code),
      ['OE_GADGET_NOT_JPEG', 'OE_GADGET_NOT_JPEG', 'OE_GADGET_NOT_JPEG', 'OE_GADGET_NOT_JPEG'],
    );
    assert.match(errors[0].message, /it was a string\. Nothing was sent/);
    assert.match(errors[2].message, /a Buffer of 10 bytes/);
    assert.equal(rig.sim.gadgetApi.calls.length, 0);
    assert.equal(statusesOf('fd').at(-1)?.text, 'OE_GADGET_NOT_JPEG · 0/5000 calls this month');
  });

  it('a disabled key stops all calls; a throttled backend waits for the next interval', async () => {
    await load();
    await frame({ payload: good() });
    rig.sim.gadgetApi.failNext('OE_BACKEND_THROTTLED');
    await advance(40_000);
    await frame({ payload: good() });
    assert.equal(errors.at(-1)?.code, 'OE_BACKEND_THROTTLED');
    await frame({ payload: good() });
    await advance(39_000);
    assert.equal(processCalls().length, 2, 'no retry before the interval');
    await advance(1_000);
    assert.equal(processCalls().length, 3);
    rig.sim.gadgetApi.setKeyState(key, 'disabled');
    await advance(40_000);
    await frame({ payload: good() });
    assert.equal(errors.at(-1)?.code, 'OE_API_KEY_DISABLED');
    const before = rig.sim.gadgetApi.calls.length;
    await advance(3_600_000);
    await frame({ payload: good() });
    await frame({ payload: good(), reset: true });
    await advance(120_000);
    assert.equal(rig.sim.gadgetApi.calls.length, before, 'no call after the key was disabled');
    assert.deepEqual(
      errors.slice(-2).map((e) => e.code),
      ['OE_API_KEY_DISABLED', 'OE_API_KEY_DISABLED'],
    );
    assert.match(String(statusesOf('fd').at(-1)?.text), /^OE_API_KEY_DISABLED · /);
  });

  it('without a config node or key: a red status and OE_NO_GADGET_API / OE_GADGET_NO_API_KEY', async () => {
    await load({}, '');
    await frame({ payload: good() });
    assert.equal(errors[0]?.code, 'OE_GADGET_NO_API_KEY');
    assert.equal(statusesOf('fd').at(-1)?.text, 'OE_GADGET_NO_API_KEY');
    await helper.unload();
    await helper.load(modules(), [
      { id: 'f1', type: 'tab' },
      { id: 'fd', z: 'f1', type: 'octoeverywhere-failure-detection', gadgetApi: '', wires: [[], []] },
      { id: 'catcher', z: 'f1', type: 'catch', scope: ['fd'], wires: [['errs']] },
      { id: 'errs', z: 'f1', type: 'helper' },
    ] as never);
    const seen: Caught[] = [];
    helper.getNode('errs').on('input', (m: NodeMessage & { error?: Caught }) => seen.push(m.error as Caught));
    helper.getNode('fd').receive({ payload: good() } as NodeMessage);
    await turns();
    assert.equal(seen[0]?.code, 'OE_NO_GADGET_API');
  });

  it('a confidence level or budget that is not valid stops the node with OE_INVALID_CONFIG instead of a silent default', async () => {
    for (const bad of [{ monthlyBudget: '1,000' }, { monthlyBudget: -1 }, { warningConfidence: 0 }, { pauseConfidence: 6 }, { warningConfidence: 2.5 }]) {
      await load(bad);
      await frame({ payload: good() });
      assert.equal(errors[0]?.code, 'OE_INVALID_CONFIG', JSON.stringify(bad));
      assert.equal(statusesOf('fd').at(-1)?.text, 'OE_INVALID_CONFIG');
      assert.equal(rig.sim.gadgetApi.calls.length, 0, `no call with ${JSON.stringify(bad)}`);
      await helper.unload();
    }
    // Empty fields (an old flow) take the defaults: levels 3, budget 5,000.
    await load({ warningConfidence: '', pauseConfidence: undefined, monthlyBudget: '' });
    await frame({ payload: good() });
    assert.equal(errors.length, 0);
    assert.equal(account().budget.limit, 5000);
    assert.deepEqual([account().client.warningConfidence, account().client.pauseConfidence], [3, 3]);
    assert.equal(processCalls().length, 1);
  });

  it("a redeploy goes on with the print's context and pacing: no call sooner, no second context, no event again", async () => {
    await load();
    const t0 = rig.clock.now();
    await frame({ payload: bad(), printId: 'p1' });
    await advance(40_000);
    await frame({ payload: bad(), printId: 'p1' });
    assert.deepEqual(
      events.map((m) => m.topic),
      ['gadget-warning'],
    );
    await advance(5_000);
    // Only the failure detection node is redeployed (renamed), 5 s into the 40 s interval.
    const renamed = renamedFlow();
    await setFlows(renamed, 'nodes', { g1: { apiKey: key } });
    await settle();
    await frame({ payload: bad(), printId: 'p1', seq: 'after the deploy' });
    await advance(34_000);
    assert.equal(processCalls().length, 2, 'no call before the interval ends');
    await advance(1_000);
    assert.equal(processCalls().length, 3);
    assert.equal((processCalls()[2].at - t0) / 1000, 80);
    // A full deploy (the config node too, same key and levels): still the same context.
    await setFlows(renamed, 'full', { g1: { apiKey: key } });
    helper.getNode('ev').on('input', (m: NodeMessage) => events.push(m));
    await settle();
    await frame({ payload: bad(), printId: 'p1' });
    await advance(40_000);
    await frame({ payload: bad(), printId: 'p1' });
    assert.equal(new Set(processCalls().map((c) => c.contextId)).size, 1, 'one context for the print across both deploys');
    assert.equal(rig.sim.gadgetApi.calls.filter((c) => c.kind === 'create').length, 1);
    assert.ok(
      processCalls().every((c) => c.status === 200),
      'never rate-limited',
    );
    // The warning was not announced again; the pause comes on the 4th bad frame of the one context.
    assert.deepEqual(
      events.map((m) => m.topic),
      ['gadget-warning', 'gadget-pause-suggested'],
    );
    // Another key: the kept context is not used (it belongs to the old key).
    const other = rig.sim.gadgetApi.addKey();
    watchSecret(other);
    await setFlows(renamed, 'full', { g1: { apiKey: other } });
    await settle();
    await frame({ payload: good(), printId: 'p1' });
    assert.equal(rig.sim.gadgetApi.calls.filter((c) => c.kind === 'create').length, 2, 'a new context for the new key');
    assert.equal(processCalls().at(-1)?.status, 200);
  });

  it('a redeploy while a call is out waits the interval from that call: the answer it lost makes no call sooner', async () => {
    await load();
    const t0 = rig.clock.now();
    await frame({ payload: good(), printId: 'p1' });
    await advance(40_000);
    // The second call goes out at 40 s and is not answered before the redeploy.
    const held = rig.sim.gadgetApi.holdNext('process');
    helper.getNode('fd').receive({ payload: good(), printId: 'p1' } as NodeMessage);
    for (let i = 0; i < 200 && processCalls().length < 2; i++) await turns();
    assert.equal(processCalls().length, 2, 'the second call is out');
    const renamed = renamedFlow();
    await setFlows(renamed, 'nodes', { g1: { apiKey: key } });
    held.release();
    await settle();
    await frame({ payload: good(), printId: 'p1', seq: 'after the deploy' });
    await advance(39_000);
    assert.equal(processCalls().length, 2, 'no call before an interval after the one that was out');
    await advance(1_000);
    assert.equal(processCalls().length, 3);
    assert.equal((processCalls()[2].at - t0) / 1000, 80);
    assert.equal(new Set(processCalls().map((c) => c.contextId)).size, 1, 'the same context');
  });

  it('on close the waiting frame is let go and its timer released', async () => {
    await load();
    await frame({ payload: good() });
    const before = rig.clock.pendingTimers;
    await frame({ payload: good() });
    assert.equal(rig.clock.pendingTimers, before + 1, 'one timer for the frame waiting for the interval');
    await helper.unload();
    assert.equal(rig.clock.pendingTimers, before);
    await rig.clock.advance(60_000);
    assert.equal(processCalls().length, 1, 'nothing is sent after close');
  });

  describe('monthly budget', () => {
    let dir: string;
    let contextModule: { load(): Promise<void>; close(): Promise<void> };

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oe-gadget-context-'));
      // The runtime's context module, as the test helper uses it: load() opens the configured stores
      // (a real Node-RED start does this before the flows start).
      const runtime = path.dirname(require.resolve(process.env.OE_NODE_RED_PATH || 'node-red'));
      const ctxPath = require.resolve('@node-red/runtime/lib/nodes/context', { paths: [runtime] });
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED's context module of the runtime under test, found at run time
      contextModule = require(ctxPath);
      helper.settings({ octoeverywhereClock: rig.clock, contextStorage: { default: { module: 'localfilesystem', config: { dir, cache: false } } } } as never);
    });
    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const openStores: NodeInitializer = () => contextModule.load() as unknown as void;
    /** A Node-RED restart: the flows stop (nothing deleted) and start again from the saved state. */
    const restart = async (config: Record<string, unknown>): Promise<void> => {
      await account().budget.flushed();
      // The helper's unload also deletes every node's context, which a restart does not: skip that.
      const ctx = contextModule as unknown as { clean: (...a: unknown[]) => Promise<void> };
      const clean = ctx.clean;
      ctx.clean = async () => undefined;
      try {
        await helper.unload();
      } finally {
        ctx.clean = clean;
      }
      await contextModule.close();
      await load(config, key, [openStores]);
    };

    it('stops at the budget with a clear error, keeps the count across a restart, and resumes next month', async () => {
      const config = { monthlyBudget: 2 };
      await load(config, key, [openStores]);
      rig.sim.gadgetApi.knobs.intervalSec = 20;
      for (let i = 0; i < 3; i++) {
        await frame({ payload: good() });
        await advance(20_000);
      }
      assert.equal(processCalls().length, 2);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].code, 'OE_GADGET_BUDGET_REACHED');
      assert.match(errors[0].message, /budget of 2 Failure Detection calls is used up \(2 calls in \d{4}-\d{2}\): no more calls until \d{4}-\d{2}-01/);
      assert.match(String(statusesOf('fd').at(-1)?.text), /^OE_GADGET_BUDGET_REACHED · 2\/2 calls this month$/);

      await account().budget.flushed();
      const saved = fs
        .readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.json'))
        .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
      assert.ok(
        saved.some((text) => /"octoeverywhere-gadget-calls":\s*\{\s*"month":\s*"\d{4}-\d{2}",\s*"calls":\s*2/.test(text)),
        'the count is in the context store on disk',
      );
      await restart(config);
      await account().budget.ready;
      assert.equal(account().budget.used, 2, 'the count survived the restart');
      await frame({ payload: good() });
      assert.equal(processCalls().length, 2, 'still no call after the restart');
      assert.equal(errors.at(-1)?.code, 'OE_GADGET_BUDGET_REACHED');

      // A raised budget (a redeploy of the config node) lets calls go again, the count kept.
      await restart({ monthlyBudget: 3 });
      await frame({ payload: good() });
      assert.equal(processCalls().length, 3);
      assert.match(String(statusesOf('fd').at(-1)?.text), /3\/3 calls this month$/);
      await advance(20_000);
      await frame({ payload: good() });
      assert.equal(errors.at(-1)?.code, 'OE_GADGET_BUDGET_REACHED');

      // The next calendar month (UTC) starts from zero.
      await advance(nextMonthStart(rig.clock.now()) - rig.clock.now());
      await frame({ payload: good() });
      assert.equal(processCalls().length, 4);
      assert.equal(account().budget.used, 1);
    });

    it('without a persistent store the count starts from zero after a restart', async () => {
      helper.settings({ octoeverywhereClock: rig.clock } as never);
      await load({ monthlyBudget: 1 });
      await frame({ payload: good() });
      assert.equal(account().budget.persistent, false);
      await helper.unload();
      await load({ monthlyBudget: 1 });
      assert.equal(account().budget.used, 0);
    });
  });

  it('never shows the key: outputs, events, errors, statuses and logs', async () => {
    rig.sim.gadgetApi.knobs.intervalSec = 20;
    await load();
    for (const make of [good, bad, bad, bad, bad]) {
      await frame({ payload: make() });
      await advance(20_000);
    }
    rig.sim.gadgetApi.failNext('OE_INTERNAL_ERROR');
    await frame({ payload: good() });
    await advance(20_000);
    rig.sim.gadgetApi.setKeyState(key, 'blocked');
    await frame({ payload: good() });
    await frame({ payload: 'x' });
    assert.ok(outs.length >= 5 && events.length >= 2 && errors.length >= 3);
    const text = JSON.stringify({
      outs: outs.map((m) => ({ ...m, image: undefined })),
      events: events.map((m) => ({ ...m, image: undefined })),
      errors,
      statuses: statusesOf('fd'),
      log: helper.log().args,
    });
    assert.deepEqual(secretsIn(text), []);
  });
});
