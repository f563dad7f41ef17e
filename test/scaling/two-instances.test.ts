// Past one machine (issue 19.3): two real Node-RED processes share the simulator's printers and fan in
// through one real Mosquitto, topics per printer. One MQTT subscriber sees every printer's status and
// every print event exactly once, and a printer moved from instance A to instance B in mid-print (a
// redeploy on each: removed from A, then deployed on B) loses nothing and repeats nothing: B's status
// node continues from the memory A's saved in the context store the two share (shared/status-memory.ts).
// The simulator runs on a manual clock driven from here; the Node-RED processes run on real time and
// follow the printers live (each simulated second pushes a status), with the 10 s poll beside it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startNodeRedWithPackage } from '../e2e/support';
import { BROKER_REQUIRED, type Broker, brokerConfig, mosquittoPath, startMosquitto } from '../helpers/mosquitto';
import { type NodeRedProcess, tempDir } from '../helpers/node-red-process';
import { credentialsOf } from '../helpers/simulator';
import { createClock, type ManagedClock, type Simulator, startSimulator } from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import type { AppConnectionCredentials } from '../../src/nodes/shared/types';

const PRINTERS = 4;
/** The printer that moves from A to B. */
const MOVED = 1;
const STEP_MS = 5_000;
const SHARED_STORE = path.resolve(__dirname, '..', 'helpers', 'shared-context-store.js');

type Instance = 'A' | 'B';

interface Seen {
  printer: number;
  kind: 'status' | 'events';
  instance: string;
  /** Events: the name, and for print-progress its decile (`print-progress@30`). */
  key: string;
  /** Order of arrival. */
  seq: number;
}

/** What the simulator's printer has done so far, in the events the status node derives (client/derive.ts). */
class Expected {
  readonly keys: string[] = [];
  #started = false;
  #first = false;
  #third = false;
  #decile = 0;
  #paused = false;
  #complete = false;
  #cooled = false;

  constructor(private readonly printer: SimulatedPrinter) {}

  update(): void {
    const sim = this.printer.simulation;
    if (sim.active && !this.#started) {
      this.#started = true;
      this.keys.push('print-started');
    }
    if (!this.#started) return;
    if (sim.active) {
      if (this.#paused && sim.state !== 'paused') this.keys.push('print-resumed');
      if (!this.#first && sim.currentLayer > 1) this.keys.push('first-layer-complete');
      if (!this.#third && sim.currentLayer > 3) this.keys.push('third-layer-complete');
      this.#first ||= sim.currentLayer > 1;
      this.#third ||= sim.currentLayer > 3;
      const decile = Math.min(9, Math.floor(sim.progress / 10));
      if (decile > this.#decile) this.keys.push(`print-progress@${decile * 10}`);
      this.#decile = Math.max(this.#decile, decile);
      if (!this.#paused && sim.state === 'paused') this.keys.push('print-paused');
      this.#paused = sim.state === 'paused';
    }
    if (sim.state === 'complete' && !this.#complete) {
      this.#complete = true;
      this.keys.push('print-complete');
    }
    if (this.#complete && !this.#cooled && sim.heaters.bed.actual < 40) {
      this.#cooled = true;
      this.keys.push('bed-cooldown-complete');
    }
  }

  get done(): boolean {
    return this.#cooled;
  }
}

const sorted = (keys: string[]): string[] => [...keys].sort();

describe('scaling: two Node-RED instances, one broker, a printer handed over in mid-print', function () {
  this.timeout(180_000);
  let broker: Broker | undefined;
  let clock: ManagedClock;
  let sim: Simulator;
  let subscriber: MqttClient | undefined;
  const instances: Partial<Record<Instance, NodeRedProcess>> = {};
  const creds: AppConnectionCredentials[] = [];
  const connectionIds: string[] = [];
  const seen: Seen[] = [];
  let storeDir: string;

  before(async function () {
    const binary = mosquittoPath();
    if (!binary) {
      if (BROKER_REQUIRED) throw new Error('mosquitto is required here (CI / OE_REQUIRE_BROKER=1) but was not found: apt-get install -y mosquitto');
      console.log('      skipped: mosquitto is not installed');
      this.skip();
    }
    broker = await startMosquitto(binary);
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({
      clock,
      printers: Array.from({ length: PRINTERS }, (_, i) => ({ kind: 'moonraker' as const, name: `Farm ${i}` })),
    });
    for (let i = 0; i < PRINTERS; i++) {
      const keys = sim.createAppConnection(i);
      creds.push(credentialsOf(keys));
      connectionIds.push(keys.id);
    }

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 5, reconnectPeriod: 0 });
    subscriber = client;
    client.on('message', (topic, payload, packet) => {
      const match = /^farm\/printer-(\d+)\/(status|events)$/.exec(topic);
      if (!match) return;
      const body = JSON.parse(payload.toString()) as { event?: string; progress?: number };
      const instance = packet.properties?.userProperties?.instance;
      const key =
        match[2] === 'status'
          ? 'status'
          : body.event === 'print-progress'
            ? `print-progress@${Math.floor((body.progress ?? 0) / 10) * 10}`
            : String(body.event);
      seen.push({ printer: Number(match[1]), kind: match[2] as Seen['kind'], instance: String(instance), key, seq: seen.length });
    });
    await client.subscribeAsync('farm/#', { qos: 2 });

    // The store both instances reach, named for our records by octoeverywhereContextStore.
    storeDir = tempDir('oe-shared-context-');
    const settings = `contextStorage: { default: { module: 'memory' }, shared: { module: require(${JSON.stringify(SHARED_STORE)}), config: { dir: ${JSON.stringify(storeDir)} } } },
      octoeverywhereContextStore: 'shared'`;
    const [a, b] = await Promise.all([startNodeRedWithPackage({ settings }), startNodeRedWithPackage({ settings })]);
    instances.A = a;
    instances.B = b;
  });

  after(async () => {
    await subscriber?.endAsync();
    await Promise.all([instances.A?.stop(), instances.B?.stop()]);
    await sim?.close();
    clock?.dispose();
    await broker?.stop();
    if (storeDir) fs.rmSync(storeDir, { recursive: true, force: true });
  });

  /** Per instance: the printers it runs now and the config nodes it already has credentials for. */
  const deployed: Record<Instance, Set<number>> = { A: new Set(), B: new Set() };

  /** The instance's flow: per printer a connection, a live status node and two core `mqtt out`s. */
  function flowFor(instance: Instance, printers: number[]): unknown[] {
    const flow: unknown[] = [
      { id: 'farm', type: 'tab', label: 'farm' },
      brokerConfig('broker', broker?.port ?? 0, { name: 'farm broker', protocolVersion: '5' }),
    ];
    for (const i of printers) {
      flow.push(
        {
          id: `conn${i}`,
          type: 'octoeverywhere-app-connection',
          name: `Farm ${i}`,
          printerName: `Farm ${i}`,
          connectionId: connectionIds[i],
          serviceUrl: sim.serviceUrl,
          authType: 'bearer',
          appId: 'devtest',
          version: 1,
          // Credentials travel with a node only when it is new on this instance (as the editor sends them).
          ...(deployed[instance].has(i) ? {} : { credentials: creds[i] }),
        },
        {
          id: `status${i}`,
          type: 'octoeverywhere-status-poll',
          z: 'farm',
          connection: `conn${i}`,
          mode: 'live',
          interval: 10,
          output: 'change',
          bedCooldownC: 40,
          version: 2,
          wires: [[`outS${i}`], [`outE${i}`]],
        },
        // Each instance says who published (an MQTT v5 user property), so the test can tell them apart.
        {
          id: `outS${i}`,
          type: 'mqtt out',
          z: 'farm',
          broker: 'broker',
          topic: `farm/printer-${i}/status`,
          qos: '1',
          retain: 'false',
          userProps: JSON.stringify({ instance }),
          wires: [],
        },
        {
          id: `outE${i}`,
          type: 'mqtt out',
          z: 'farm',
          broker: 'broker',
          topic: `farm/printer-${i}/events`,
          qos: '2',
          retain: 'false',
          userProps: JSON.stringify({ instance }),
          wires: [],
        },
      );
    }
    return flow;
  }

  /** POST /flows, deploying only what changed (nodes added or removed start or stop; the rest runs on). */
  async function deploy(instance: Instance, printers: number[]): Promise<void> {
    const nodeRed = instances[instance];
    assert.ok(nodeRed);
    const res = await fetch(`${nodeRed.url}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'nodes' },
      body: JSON.stringify(flowFor(instance, printers)),
    });
    assert.ok(res.status === 204 || res.status === 200, `deploy on ${instance}: HTTP ${res.status} ${await res.text()}`);
    deployed[instance] = new Set(printers);
  }

  const events = (printer: number): Seen[] => seen.filter((s) => s.printer === printer && s.kind === 'events');

  let expectedNow: Expected[] = [];
  async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) {
        const got = Array.from(
          { length: PRINTERS },
          (_, i) =>
            `printer ${i}: ${events(i)
              .map((s) => `${s.key}(${s.instance})`)
              .join(', ')}`,
        ).join('\n');
        const want = expectedNow.map((e, i) => `printer ${i}: ${e.keys.join(', ')}`).join('\n');
        throw new Error(`Timed out waiting for ${what}\n${got}\nexpected:\n${want}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Every event the printers' simulation says happened has arrived (one more may be on its way). */
  const caughtUp = (expected: Expected[], unwatched?: number): boolean =>
    expected.every((e, i) => {
      if (i === unwatched) return true;
      const got = events(i).map((s) => s.key);
      return e.keys.every((k) => got.filter((g) => g === k).length >= e.keys.filter((x) => x === k).length);
    });

  /** Simulated time in steps; after each, waits until the subscriber has every event due so far. */
  async function run(expected: Expected[], ms: number, stopWhen?: () => boolean, unwatched?: number): Promise<void> {
    for (let done = 0; done < ms && !stopWhen?.(); done += STEP_MS) {
      await clock.advance(STEP_MS);
      for (const e of expected) e.update();
      await until('the events of this step', () => caughtUp(expected, unwatched));
    }
  }

  it('one subscriber sees every status and event once, and a printer moved from A to B loses and repeats nothing', async () => {
    const started = Date.now();
    const printers = sim.printers as SimulatedPrinter[];
    await Promise.all([deploy('A', [0, 1]), deploy('B', [2, 3])]);
    await until('a status of every printer', () =>
      Array.from({ length: PRINTERS }, (_, i) => i).every((i) => seen.some((s) => s.printer === i && s.kind === 'status')),
    );

    const expected = printers.map((p) => new Expected(p));
    expectedNow = expected;
    for (const p of printers) assert.ok(p.startPrint('farm.gcode', { durationSec: 300, totalLayers: 30 }));
    for (const e of expected) e.update();
    await until('print-started everywhere', () => caughtUp(expected));
    // Into the print: heating, the first layers, a few 10 % steps.
    await run(expected, 120_000);

    // The hand-over: removed from A (its status node saves its memory as it closes) …
    await deploy('A', [0]);
    const removedAt = seen.length;
    // … the print carries on while no instance watches it: a 10 % step passes and it pauses …
    const moved = expected[MOVED];
    const before = moved.keys.length;
    await run(expected, 60_000, () => moved.keys.length > before, MOVED);
    assert.ok(printers[MOVED].pause());
    moved.update();
    const inTheGap = moved.keys.slice(before);
    assert.ok(inTheGap.some((k) => k.startsWith('print-progress')) && inTheGap.includes('print-paused'), `events in the gap: ${inTheGap.join(', ')}`);
    assert.equal(events(MOVED).filter((s) => s.seq >= removedAt).length, 0, 'nobody announced them yet');
    // … and B takes it over, continuing from A's last state.
    await deploy('B', [1, 2, 3]);
    await until('the gap events, from B', () => caughtUp(expected));
    assert.ok(printers[MOVED].resume());
    await run(expected, 1_200_000, () => expected.every((e) => e.done));
    assert.ok(
      expected.every((e) => e.done),
      'every print completed and cooled',
    );
    // Anything still on its way (a duplicate would be) arrives within this.
    await new Promise((r) => setTimeout(r, 1500));

    for (let i = 0; i < PRINTERS; i++) {
      assert.deepEqual(sorted(events(i).map((s) => s.key)), sorted(expected[i].keys), `printer ${i}: every event exactly once`);
      const owner = (s: Seen): Instance => (i === 0 || (i === MOVED && s.seq < removedAt) ? 'A' : i === MOVED || i > 1 ? 'B' : 'A');
      for (const s of seen.filter((x) => x.printer === i)) assert.equal(s.instance, owner(s), `printer ${i}: ${s.kind} ${s.key} from its owner`);
      assert.ok(
        seen.some((s) => s.printer === i && s.kind === 'status'),
        `printer ${i}: status seen`,
      );
    }
    const gapEvents = events(MOVED).filter((s) => inTheGap.includes(s.key));
    assert.deepEqual(
      gapEvents.map((s) => s.instance),
      inTheGap.map(() => 'B'),
      'what happened between the two deploys came once, from B',
    );
    console.log(`      (${seen.length} MQTT messages, ${Math.round((Date.now() - started) / 1000)} s)`);
  });

  it('the wrong order, deployed on the new instance before removed from the old one: both announce what happens in the overlap', async () => {
    const printer = 3;
    const from = seen.length;
    await deploy('A', [0, printer]);
    await until('A watches the printer too', () => seen.some((s) => s.seq >= from && s.printer === printer && s.kind === 'status' && s.instance === 'A'));
    assert.ok((sim.printers[printer] as SimulatedPrinter).startPrint('again.gcode', { durationSec: 300, totalLayers: 30 }));
    await clock.advance(STEP_MS);
    await until('print-started from both', () => events(printer).filter((s) => s.seq >= from && s.key === 'print-started').length === 2);
    assert.deepEqual(
      sorted(
        events(printer)
          .filter((s) => s.seq >= from && s.key === 'print-started')
          .map((s) => s.instance),
      ),
      ['A', 'B'],
      'one event, published twice: hence remove first, then deploy (docs/scaling.md)',
    );
    await deploy('B', [1, 2]);
  });
});
