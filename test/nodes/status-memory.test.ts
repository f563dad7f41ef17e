// The status node's derivation memory in a persistent context store, keyed by the printer: after a
// restart (or on another node of the same printer: a hand-over) the node continues from the last
// state seen, so a change that happened while nobody watched is announced once and nothing already
// announced is announced again. Without a store, or with a stale record, it starts from a baseline.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NodeInitializer, NodeMessage } from 'node-red';
import type { TestFlows } from 'node-red-node-test-helper';
import { helper } from '../helpers/nodes';
import { advanceInSteps, type ClockedSimulator, credentialsOf, startClockedSimulator } from '../helpers/simulator';
import { configModule, pollModule, settle } from './status-poll.fixture';
import { MEMORY_MAX_AGE_MS, type MemoryRecord, memoryKey, StatusMemory } from '../../src/nodes/shared/status-memory';
import { createClock } from '../../src/simulator';
import { persistentStore } from '../../src/nodes/shared/context-store';
import type { AppConnectionCredentials, AppConnectionNode, NodeAPI } from '../../src/nodes/shared/types';
import type { DeriveMemory, PrinterEvent } from '../../src/client';

const CONNECTION_ID = 'conn-7f3a';

describe('status poll: derivation memory in the context store', function () {
  this.timeout(30_000);
  let rig: ClockedSimulator;
  let dir: string;
  let creds: AppConnectionCredentials;
  let contextModule: { load(): Promise<void>; close(): Promise<void>; clean: (...a: unknown[]) => Promise<void> };
  let events: PrinterEvent[];
  let warnings: unknown[];

  beforeEach(async () => {
    rig = await startClockedSimulator();
    creds = credentialsOf(rig.sim.createAppConnection(0));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oe-status-context-'));
    const runtime = path.dirname(require.resolve(process.env.OE_NODE_RED_PATH || 'node-red'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED's context module of the runtime under test, found at run time
    contextModule = require(require.resolve('@node-red/runtime/lib/nodes/context', { paths: [runtime] }));
    events = [];
    warnings = [];
  });
  afterEach(async () => {
    await helper.unload();
    await contextModule.close();
    await rig.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const useFileStore = (): void => {
    helper.settings({ octoeverywhereClock: rig.clock, contextStorage: { default: { module: 'localfilesystem', config: { dir, cache: false } } } } as never);
  };
  const openStores: NodeInitializer = () => contextModule.load() as unknown as void;

  /** A config node and a status node with these ids (a hand-over to a new flow has new ids, the same printer). */
  const deploy = async (ids: { config: string; poll: string }): Promise<void> => {
    const flow = [
      { id: ids.config, type: 'octoeverywhere-app-connection', printerName: 'Voron 2.4', serviceUrl: rig.sim.serviceUrl, connectionId: CONNECTION_ID },
      { id: ids.poll, type: 'octoeverywhere-status-poll', connection: ids.config, interval: 10, mode: 'poll', wires: [['status'], ['events']] },
      { id: 'status', type: 'helper' },
      { id: 'events', type: 'helper' },
    ];
    await helper.load([openStores, configModule, pollModule], flow as TestFlows, { [ids.config]: creds });
    // The first snapshot comes out once the memory is read: from then on the node derives.
    const firstStatus = new Promise((resolve) => helper.getNode('status').once('input', resolve));
    helper.getNode('events').on('input', (msg: NodeMessage) => events.push(msg.payload as PrinterEvent));
    const node = helper.getNode(ids.poll) as unknown as { warn: (w: unknown) => void };
    const warn = node.warn;
    node.warn = (w) => {
      warnings.push(w);
      warn.call(node, w);
    };
    await step(ids.config, 0);
    await firstStatus;
  };

  /** Simulated time in 1 s steps, each poll (and the store's read) finished before time moves on. */
  const step = async (config: string, ms: number): Promise<void> => {
    const poller = (helper.getNode(config) as unknown as AppConnectionNode).poller();
    const settleAll = async (): Promise<void> => {
      await settle(poller);
      // Each save writes the file (cache: false): let it land before time moves on.
      await new Promise((r) => setTimeout(r, 5));
    };
    await settleAll();
    if (ms > 0) await advanceInSteps(rig.clock, ms, settleAll);
  };

  /** Node-RED stops (closing nodes saves, nothing is deleted) and starts again later. */
  const stop = async (): Promise<void> => {
    const clean = contextModule.clean;
    contextModule.clean = async () => undefined;
    try {
      await helper.unload();
    } finally {
      contextModule.clean = clean;
    }
    await contextModule.close();
  };

  const names = (): string[] => events.map((e) => e.event);

  it('continues from the saved memory: a pause while no node watched is announced once, nothing is repeated', async () => {
    useFileStore();
    await deploy({ config: 'c1', poll: 'p1' });
    assert.ok(rig.printer.startPrint('cube.gcode', { durationSec: 3600, totalLayers: 100 }));
    await step('c1', 120_000);
    const before = names();
    assert.ok(before.includes('print-started'), `started: ${before.join(', ')}`);

    await stop();
    const onDisk = fs
      .readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.json'))
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
    assert.ok(onDisk.includes(`"${memoryKey(CONNECTION_ID)}"`), 'the memory is in the store, under the printer');
    assert.ok(!onDisk.includes(creds.authBearerToken ?? 'no token'), 'no secret in the store');

    // While no node watches: the print pauses (and runs on in simulated time).
    assert.ok(rig.printer.pause());
    await rig.clock.advance(5_000);
    events = [];
    // The next owner: another config and status node (new ids), the same printer.
    await deploy({ config: 'c2', poll: 'p2' });
    await step('c2', 20_000);
    assert.deepEqual(names(), ['print-paused'], 'what happened in the gap, once; print-started not again');
    assert.ok(rig.printer.resume());
    await step('c2', 20_000);
    assert.deepEqual(names(), ['print-paused', 'print-resumed']);
    assert.deepEqual(warnings, []);
  });

  it('without a persistent store the next node starts from a baseline: the pause in the gap is not an event', async () => {
    helper.settings({ octoeverywhereClock: rig.clock } as never);
    await deploy({ config: 'c1', poll: 'p1' });
    assert.ok(rig.printer.startPrint('cube.gcode', { durationSec: 3600, totalLayers: 100 }));
    await step('c1', 60_000);
    await stop();
    assert.ok(rig.printer.pause());
    await rig.clock.advance(5_000);
    events = [];
    await deploy({ config: 'c2', poll: 'p2' });
    await step('c2', 20_000);
    assert.deepEqual(names(), []);
  });

  it(`a record older than ${MEMORY_MAX_AGE_MS / 60_000} minutes is not continued from`, async () => {
    useFileStore();
    await deploy({ config: 'c1', poll: 'p1' });
    assert.ok(rig.printer.startPrint('cube.gcode', { durationSec: 3 * 3600, totalLayers: 100 }));
    await step('c1', 60_000);
    await stop();
    assert.ok(rig.printer.pause());
    await rig.clock.advance(MEMORY_MAX_AGE_MS + 1000);
    events = [];
    await deploy({ config: 'c2', poll: 'p2' });
    await step('c2', 20_000);
    assert.deepEqual(names(), [], 'a baseline: the stale state is not compared with');
  });

  it('a record that is not a memory (another version, a hand edit) loads as absent', async () => {
    useFileStore();
    await deploy({ config: 'c1', poll: 'p1' });
    await stop();
    const file = fs
      .readdirSync(dir, { recursive: true })
      .map(String)
      .find((f) => f.endsWith(path.join('global', 'global.json')));
    assert.ok(file, `the global context file in ${fs.readdirSync(dir, { recursive: true }).map(String).join(', ')}`);
    fs.writeFileSync(path.join(dir, file), JSON.stringify({ [memoryKey(CONNECTION_ID)]: { at: rig.clock.now(), memory: { last: 'nonsense' } } }));
    assert.ok(rig.printer.startPrint('cube.gcode', { durationSec: 3600, totalLayers: 100 }));
    await rig.clock.advance(60_000);
    await deploy({ config: 'c1', poll: 'p1' });
    assert.deepEqual(names(), [], 'a baseline (the print already running is not news)');
    assert.ok(rig.printer.pause());
    await step('c1', 20_000);
    assert.deepEqual(names(), ['print-paused'], 'and deriving works from there');
  });

  it('settings.js octoeverywhereContextStore chooses the store (e.g. the one shared by the instances), not the first persistent one', async () => {
    const shared = path.join(dir, 'shared');
    const local = path.join(dir, 'local');
    helper.settings({
      octoeverywhereClock: rig.clock,
      octoeverywhereContextStore: 'shared',
      contextStorage: {
        default: { module: 'memory' },
        local: { module: 'localfilesystem', config: { dir: local, cache: false } },
        shared: { module: 'localfilesystem', config: { dir: shared, cache: false } },
      },
    } as never);
    await deploy({ config: 'c1', poll: 'p1' });
    await stop();
    const files = (d: string): string[] => (fs.existsSync(d) ? fs.readdirSync(d, { recursive: true }).map(String) : []);
    assert.ok(
      files(shared).some((f) => f.endsWith('.json') && fs.readFileSync(path.join(shared, f), 'utf8').includes(memoryKey(CONNECTION_ID))),
      'in the named store',
    );
    assert.ok(!files(local).some((f) => f.endsWith('.json')), 'not in the other persistent store');
  });
});

describe('status memory: how often it is written', () => {
  it('writes when what the next derivation reads changes, else at most once a minute', async () => {
    const clock = createClock({ mode: 'manual' });
    const writes: MemoryRecord[] = [];
    const memory = new StatusMemory({ load: async () => undefined, save: async (r) => void writes.push(r) }, clock, () => undefined);
    const base = { decile: 0, firstLayer: false, thirdLayer: false, cooldownPending: false, gadgetWarned: false, gadgetPauseAnnounced: false };
    const snapshot = (over: Record<string, unknown> = {}): DeriveMemory['last'] =>
      ({ online: true, printing: true, state: 'printing', printId: 'p1', progress: 12, temperatures: { bed: { actual: 60, target: 60 } }, ...over }) as never;
    memory.save({ ...base, last: snapshot() });
    await memory.flushed();
    assert.equal(writes.length, 1);
    for (let i = 0; i < 5; i++) {
      await clock.advance(10_000);
      memory.save({ ...base, last: snapshot({ progress: 12 + i, temperatures: { bed: { actual: 59 + i, target: 60 } } }) });
    }
    await memory.flushed();
    assert.equal(writes.length, 1, 'temperatures and progress within the decile: nothing new to write');
    await clock.advance(10_000);
    memory.save({ ...base, last: snapshot({ progress: 18 }) });
    await memory.flushed();
    assert.equal(writes.length, 2, 'a minute later it is written again (its age says it is current)');
    memory.save({ ...base, last: snapshot({ state: 'paused' }) });
    memory.save({ ...base, decile: 2, last: snapshot({ state: 'paused', progress: 20 }) });
    await memory.flushed();
    assert.equal(writes.length, 4, 'each change of state or decile is written');
    assert.equal(writes.at(-1)?.memory.decile, 2, 'the newest last');
    clock.dispose();
  });
});

describe('the context store our records go to', () => {
  const storeOf = (settings: Record<string, unknown>): string | undefined => persistentStore({ settings } as unknown as NodeAPI);

  it('is the named one, else a persistent default, else the first persistent one, else none', () => {
    const file = { module: 'localfilesystem' };
    assert.equal(storeOf({}), undefined, 'no contextStorage: the memory store, nothing kept');
    assert.equal(storeOf({ contextStorage: { default: { module: 'memory' } } }), undefined);
    assert.equal(storeOf({ contextStorage: { default: file } }), 'default');
    assert.equal(storeOf({ contextStorage: { default: 'disk', disk: file } }), 'default', 'default may name another store');
    assert.equal(storeOf({ contextStorage: { default: { module: 'memory' }, disk: file, other: file } }), 'disk');
    const plugin = { module: () => ({}) };
    assert.equal(storeOf({ contextStorage: { default: { module: 'memory' }, disk: file, shared: plugin }, octoeverywhereContextStore: 'shared' }), 'shared');
    assert.equal(
      storeOf({ contextStorage: { default: { module: 'memory' }, disk: file }, octoeverywhereContextStore: 'shared' }),
      undefined,
      'a name that is not configured: none (not silently another store)',
    );
  });
});
