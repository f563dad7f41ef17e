// octoeverywhere-status-poll in `auto` mode on Bambu Lab and Elegoo CC2 printers (issue 16): live through
// the simulator's MQTT proxy with the serial number from the config node, on the manual clock. With it
// the whole print's events come pushed and are the poll mode's sequence; without it the node polls and
// says why once; a wrong one stops live with one warning, polling carries on, and nothing reconnects.
import assert from 'node:assert/strict';
import type { TestFlows } from 'node-red-node-test-helper';
import type { LiveState } from '../../src/client';
import { createClock, type ManagedClock, type Simulator, startSimulator } from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import { credentialsOf } from '../helpers/simulator';
import {
  configModule,
  drainLive,
  eventNames,
  helper,
  liveFeed,
  liveFlow,
  type Mode,
  runLive,
  OWN,
  pollModule,
  record,
  type Recorded,
} from './status-poll.fixture';
import { until } from '../client/live-helpers';

type Kind = 'bambu' | 'elegoo-cc2';

interface Rig {
  clock: ManagedClock;
  sim: Simulator;
  printer: SimulatedPrinter;
}

async function startRig(kind: Kind): Promise<Rig> {
  const clock = createClock({ mode: 'manual' });
  const sim = await startSimulator({ clock, printers: [{ kind, name: kind === 'bambu' ? 'P1S' : 'CC2' }] });
  helper.settings({ octoeverywhereClock: clock } as Parameters<typeof helper.settings>[0]);
  return { clock, sim, printer: sim.printers[0] as SimulatedPrinter };
}

const flow = (rig: Rig, serialNumber: string | undefined, nodes: Array<{ id: string; mode: Mode }>): TestFlows =>
  liveFlow(rig.sim.serviceUrl, nodes, { printerName: 'Printer', ...(serialNumber === undefined ? {} : { serialNumber }) });

/**
 * What the node said with `method` since it was made: the test helper's sinon spy records it (the
 * runtime answers RED._ with the catalog key). Taken before record(), which wraps the method.
 */
function said(id: string, method: 'log' | 'warn'): () => string[] {
  const spy = (helper.getNode(id) as unknown as Record<string, { args: unknown[][] }>)[method];
  return () => spy.args.map((a) => String(a[0]));
}

/** Every state of the config node's live feed from now on (an extra subscriber, as a second node would be). */
function liveStates(): LiveState[] {
  const states: LiveState[] = [];
  liveFeed().subscribe({ state: (s) => states.push(s), snapshot: () => undefined });
  return states;
}

/** A print with every event of the vocabulary: layers, progress, Gadget, a pause, completion, the bed cooling. */
async function wholePrint(rig: Rig, recs: Recorded[]): Promise<void> {
  const { printer } = rig;
  const sim = printer.simulation;
  printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 100 });
  await runLive(rig.clock, 600_000, () => sim.state === 'printing' && sim.progress >= 22);
  printer.scriptGadget('warn');
  await runLive(rig.clock, 20_000);
  printer.pause();
  await runLive(rig.clock, 60_000);
  printer.resume();
  await runLive(rig.clock, 3_600_000, () => sim.state === 'complete');
  await runLive(rig.clock, 3_600_000, () => sim.heaters.bed.actual < 39);
  await runLive(rig.clock, 20_000, () => recs.every((r) => r.events.some((e) => e.event === 'bed-cooldown-complete')));
}

describe('node: octoeverywhere-status-poll live on Bambu Lab and Elegoo CC2 (serial number in the config node)', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    await rig?.sim.close();
    rig?.clock.dispose();
    rig = undefined;
  });

  const load = async (r: Rig, serialNumber: string | undefined, nodes: Array<{ id: string; mode: Mode }>): Promise<void> => {
    const keys = r.sim.createAppConnection(0);
    await helper.load([configModule, pollModule], flow(r, serialNumber, nodes), { c1: credentialsOf(keys) });
    await drainLive();
  };

  for (const kind of ['bambu', 'elegoo-cc2'] as const) {
    it(`${kind}: auto with the serial number goes live; the whole print comes pushed, in the poll mode's sequence`, async () => {
      const r = (rig = await startRig(kind));
      // A poll-mode node beside it on the same printer: the reference sequence of the same print.
      await load(r, `  ${r.printer.serialNumber ?? ''} `, [
        { id: 'lv', mode: 'auto' },
        { id: 'pl', mode: 'poll' },
      ]);
      const live = record('lv');
      const polled = record('pl');
      await runLive(r.clock, 10_000, () => liveFeed().state.status === 'connected');
      assert.equal(liveFeed().state.status, 'connected', 'live through the MQTT proxy');
      assert.equal(r.sim.socketChaos.openSockets, 1, 'one MQTT proxy session');
      // Pushed: the start is told within two simulated seconds, far inside the 10 s poll interval.
      r.printer.startPrint('warmup.gcode', { durationSec: 60, totalLayers: 5 });
      await runLive(r.clock, 2000, () => live.events.length > 0);
      assert.equal(live.events[0]?.event, 'print-started');
      assert.equal(live.events[0]?.source, 'live');
      r.printer.cancel();
      await runLive(r.clock, 30_000, () => polled.events.some((e) => e.event === 'print-failed') && live.events.some((e) => e.event === 'print-failed'));
      assert.deepEqual(eventNames(live.events), ['print-started', 'print-failed'], 'a cancel is one print-failed');
      live.events.length = 0;
      polled.events.length = 0;

      await wholePrint(r, [live, polled]);
      assert.deepEqual(eventNames(live.events), eventNames(polled.events), 'the same events as the poll mode');
      assert.ok(eventNames(live.events).includes('first-layer-complete') && eventNames(live.events).includes('print-complete'));
      // Gadget is polled under its own rules, and its warning too goes out on the live snapshot.
      assert.deepEqual(
        live.events.filter((e) => e.source !== 'live').map((e) => e.event),
        [],
        'every event from the live status',
      );
      const progress = live.events.filter((e) => e.event === 'print-progress').map((e) => Math.floor((e.progress as number) / 10));
      assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual([...live.warnings, ...live.errors], []);
    });

    it(`${kind}: auto without a serial number polls and says why once`, async () => {
      const r = (rig = await startRig(kind));
      await load(r, '', [{ id: 'p1', mode: 'auto' }]);
      const logs = said('p1', 'log');
      const rec = record('p1');
      await until(() => liveFeed().state.status === 'unsupported', 'the live verdict');
      const state = liveFeed().state;
      assert.ok(state.status === 'unsupported' && state.code === 'OE_LIVE_NEEDS_SERIAL', JSON.stringify(state));
      assert.match(state.reason, /errors\.needs-serial/, 'the catalog text that says to enter the serial number');
      r.printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 10 });
      await runLive(r.clock, 30_000, () => rec.events.length > 0);
      await runLive(r.clock, 30_000);
      assert.equal(r.sim.socketChaos.openSockets, 0, 'no MQTT session');
      assert.deepEqual(eventNames(rec.events).slice(0, 1), ['print-started']);
      assert.equal(rec.events[0]?.source, 'poll');
      // Said once, however many polls; not a warning, not an error.
      assert.deepEqual(
        logs().filter((l) => l.includes('live-unsupported')),
        [`${OWN}log.live-unsupported`],
      );
      assert.deepEqual([...rec.warnings, ...rec.errors], []);
    });
  }

  it('live mode without a serial number polls and says why once, too', async () => {
    const r = (rig = await startRig('bambu'));
    await load(r, undefined, [{ id: 'p1', mode: 'live' }]);
    const logs = said('p1', 'log');
    const rec = record('p1');
    await until(() => liveFeed().state.status === 'unsupported', 'the live verdict');
    await runLive(r.clock, 30_000);
    const state = liveFeed().state;
    assert.ok(state.status === 'unsupported' && state.code === 'OE_LIVE_NEEDS_SERIAL');
    assert.equal(logs().filter((l) => l.includes('live-unsupported')).length, 1);
    r.printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 10 });
    await runLive(r.clock, 30_000, () => rec.events.length > 0);
    assert.equal(rec.events[0]?.event, 'print-started', 'polled');
    assert.notEqual(rec.events[0]?.source, 'live');
    assert.equal(r.sim.socketChaos.openedSockets, 0, 'no MQTT session');
    assert.deepEqual([...rec.warnings, ...rec.errors], []);
  });

  it('bambu: a wrong serial number stops live with one warning after two tries; polling carries on and nothing reconnects', async () => {
    const r = (rig = await startRig('bambu'));
    let drops = 0;
    r.printer.mqtt?.on('link', (up: boolean) => {
      if (!up) drops++;
    });
    await load(r, '01P00A999999999', [{ id: 'p1', mode: 'auto' }]);
    const rec = record('p1');
    const states = liveStates();
    await runLive(r.clock, 120_000, () => liveFeed().state.status === 'stopped');
    const state = liveFeed().state;
    assert.ok(state.status === 'stopped' && state.error?.code === 'OE_MQTT_SUBSCRIBE_REFUSED', JSON.stringify(states.map((s) => s.status)));
    assert.match(state.error.message, /serial number \(01P00A999999999\)/);
    // Each subscription dropped the printer's MQTT link for everyone: two, then none (no storm). The
    // sessions between them were refused (CONNACK 3) while the link was down, on the back-off.
    assert.equal(drops, 2, 'the printer dropped its MQTT link twice');
    const opened = r.sim.socketChaos.openedSockets;
    assert.ok(opened >= 2 && opened <= 5, `${opened} MQTT proxy sessions`);
    const stoppedAt = states.length;
    assert.deepEqual(
      rec.warnings.filter((w) => w === `${OWN}log.live-stopped`),
      [`${OWN}log.live-stopped`],
      'one clear warning',
    );
    assert.ok(rec.nodeStatus.some((s) => s.fill === 'red' && s.text === 'OE_MQTT_SUBSCRIBE_REFUSED'));
    assert.deepEqual(rec.errors, [], 'polling still works: nothing for Catch nodes');
    r.printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 10 });
    await runLive(r.clock, 600_000, () => rec.events.some((e) => e.event === 'print-progress'));
    assert.deepEqual(eventNames(rec.events).slice(0, 1), ['print-started']);
    assert.ok(
      rec.events.every((e) => e.source !== 'live'),
      'polled',
    );
    assert.equal(states.length, stoppedAt, 'no new attempt in ten simulated minutes');
    assert.equal(r.sim.socketChaos.openedSockets, opened);
    assert.equal(drops, 2);
    assert.equal(r.sim.socketChaos.openSockets, 0);
    assert.equal(rec.warnings.filter((w) => w === `${OWN}log.live-stopped`).length, 1);
  });

  it('elegoo-cc2: a serial number the printer never answers on stops live after three heartbeats; polling carries on', async () => {
    const r = (rig = await startRig('elegoo-cc2'));
    await load(r, 'E2CC99999999999', [{ id: 'p1', mode: 'auto' }]);
    const rec = record('p1');
    const states = liveStates();
    await runLive(r.clock, 120_000, () => liveFeed().state.status === 'stopped');
    const state = liveFeed().state;
    assert.ok(state.status === 'stopped' && state.error?.code === 'OE_MQTT_SUBSCRIBE_REFUSED', JSON.stringify(states.map((s) => s.status)));
    assert.match(state.error.message, /serial number \(E2CC99999999999\)/);
    assert.equal(r.sim.socketChaos.openedSockets, 1, 'one MQTT session');
    const stoppedAt = states.length;
    assert.equal(rec.warnings.filter((w) => w === `${OWN}log.live-stopped`).length, 1);
    r.printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 10 });
    await runLive(r.clock, 120_000, () => rec.events.length > 0);
    assert.equal(rec.events[0]?.event, 'print-started');
    assert.notEqual(rec.events[0]?.source, 'live');
    await runLive(r.clock, 300_000);
    assert.equal(states.length, stoppedAt, 'no new attempt');
    assert.equal(r.sim.socketChaos.openedSockets, 1);
    assert.equal(r.sim.socketChaos.openSockets, 0);
  });

  it('a serial number of the wrong shape stops live at once with its own code; it never reaches a topic', async () => {
    const r = (rig = await startRig('bambu'));
    await load(r, 'device/+', [{ id: 'p1', mode: 'auto' }]);
    const warnings = said('p1', 'warn');
    const rec = record('p1');
    await until(() => liveFeed().state.status === 'stopped', 'the verdict');
    const state = liveFeed().state;
    assert.ok(state.status === 'stopped' && state.error?.code === 'OE_SERIAL_NUMBER_INVALID');
    r.printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 10 });
    await runLive(r.clock, 30_000, () => rec.events.length > 0);
    assert.equal(rec.events[0]?.event, 'print-started', 'polled');
    assert.equal(r.sim.socketChaos.openedSockets, 0, 'no MQTT session');
    assert.deepEqual(warnings(), [`${OWN}log.live-stopped`], 'one warning');
  });
});
