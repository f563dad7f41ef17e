// octoeverywhere-status-poll in `live` and `auto` mode (issue 16.3) against the simulator on its manual
// clock: the printer's push socket drives the outputs, the poller runs beside it (Gadget, fallback),
// one socket per printer, and no event is announced twice across a fallback, a reconnect or a redeploy.
import assert from 'node:assert/strict';
import type { TestFlows } from 'node-red-node-test-helper';
import { startSimulator, createClock } from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import { type ClockedSimulator, credentialsOf, startClockedSimulator } from '../helpers/simulator';
import { configModule, drainLive, eventNames, helper, liveFeed, liveFlow, type Mode, runLive, OWN, pollModule, record } from './status-poll.fixture';
import { until } from '../client/live-helpers';

type LiveNode = { id: string; mode: Mode; readings?: 'push' | 'interval' };
const flow = (rig: ClockedSimulator, nodes: LiveNode[]): TestFlows => liveFlow(rig.sim.serviceUrl, nodes);

/** The poll mode's sequence for the same print (test/nodes/status-poll.test.ts). */
const WHOLE_PRINT = [
  'print-started',
  'first-layer-complete',
  'third-layer-complete',
  'print-progress',
  'print-progress',
  'gadget-warning',
  'print-paused',
  'print-resumed',
  ...Array<string>(7).fill('print-progress'),
  'print-complete',
  'bed-cooldown-complete',
];

describe('node: octoeverywhere-status-poll, live and auto modes', () => {
  let rig: ClockedSimulator;
  beforeEach(async () => {
    rig = await startClockedSimulator();
  });
  afterEach(async () => {
    await helper.unload();
    await rig.close();
  });

  const load = async (nodes: LiveNode[]): Promise<void> => {
    const keys = rig.sim.createAppConnection(0);
    await helper.load([configModule, pollModule], flow(rig, nodes), { c1: credentialsOf(keys) });
    await drainLive();
  };

  it('auto on Moonraker goes live and gives the whole print the poll sequence, once each, pushed before the next poll', async () => {
    await load([{ id: 'p1', mode: 'auto' }]);
    const rec = record('p1');
    await until(() => liveFeed().running && rig.sim.socketChaos.openSockets === 1, 'the live socket');
    await runLive(rig.clock, 3000);
    assert.ok(rec.nodeStatus.length === 0 || rec.nodeStatus.every((s) => s.fill !== 'red'));
    const { printer } = rig;
    const sim = printer.simulation;
    printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 100 });
    // One simulated second: far less than the 10 s poll interval, so the socket told it.
    await rig.clock.advance(1000);
    await until(() => rec.events.length > 0, 'the pushed print-started');
    assert.equal(rec.events[0]?.event, 'print-started');
    assert.equal(rec.events[0]?.source, 'live');
    await runLive(rig.clock, 600_000, () => sim.state === 'printing' && sim.progress >= 22);
    printer.scriptGadget('warn');
    await runLive(rig.clock, 20_000);
    printer.pause();
    await runLive(rig.clock, 60_000);
    printer.resume();
    await runLive(rig.clock, 3_600_000, () => sim.state === 'complete');
    await runLive(rig.clock, 3_600_000, () => sim.heaters.bed.actual < 39);
    await runLive(rig.clock, 20_000);
    assert.deepEqual(eventNames(rec.events), WHOLE_PRINT);
    const progress = rec.events.filter((e) => e.event === 'print-progress').map((e) => Math.floor((e.progress as number) / 10));
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('two live nodes on one printer share one socket; it closes when the flow stops', async () => {
    await load([
      { id: 'p1', mode: 'live' },
      { id: 'p2', mode: 'auto' },
    ]);
    const a = record('p1');
    const b = record('p2');
    await until(() => liveFeed().running && rig.sim.socketChaos.openSockets === 1, 'the live socket');
    await runLive(rig.clock, 3000);
    assert.equal(rig.sim.socketChaos.openSockets, 1, 'one socket for two nodes');
    assert.equal(liveFeed().subscribers, 2);
    rig.printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 100 });
    await rig.clock.advance(1000);
    await until(() => a.events.length > 0 && b.events.length > 0, 'both nodes told');
    assert.deepEqual(eventNames(a.events), ['print-started']);
    assert.deepEqual(eventNames(b.events), ['print-started']);
    await helper.unload();
    await until(() => rig.sim.socketChaos.openSockets === 0, 'the socket to close');
  });

  it('readings once per interval: status messages once per interval while printing, events still pushed; a node that wants the pushes gets them on the shared socket', async () => {
    await load([{ id: 'p1', mode: 'live', readings: 'interval' }]);
    const rec = record('p1');
    await until(() => liveFeed().running && rig.sim.socketChaos.openSockets === 1, 'the live socket');
    assert.equal(liveFeed().readingsMs, 10_000, 'the node’s interval');
    const { printer } = rig;
    printer.startPrint('cube.gcode', { durationSec: 3600, totalLayers: 100 });
    await runLive(rig.clock, 60_000, () => printer.simulation.state === 'printing' && rec.status.at(-1)?.state === 'printing');
    const s0 = rec.status.length;
    await runLive(rig.clock, 60_000);
    const perMinute = rec.status.length - s0;
    // One refresh of the readings and one poll (merged) per 10 s, the layer changes with readings of theirs.
    assert.ok(perMinute >= 6 && perMinute <= 16, `status messages in a minute: ${perMinute}`);
    printer.pause();
    await rig.clock.advance(1000);
    await until(() => rec.events.some((e) => e.event === 'print-paused'), 'the pushed pause');
    assert.equal(rec.events.find((e) => e.event === 'print-paused')?.source, 'live');
    printer.resume();
    await runLive(rig.clock, 20_000);
    await helper.unload();
    await until(() => rig.sim.socketChaos.openSockets === 0, 'the socket to close');

    await load([
      { id: 'p1', mode: 'live', readings: 'interval' },
      { id: 'p2', mode: 'live' },
    ]);
    const shared = record('p1');
    await until(() => liveFeed().running && rig.sim.socketChaos.openSockets === 1, 'the live socket');
    assert.equal(liveFeed().readingsMs, undefined, 'p2 wants the pushes');
    await runLive(rig.clock, 5000);
    const s1 = shared.status.length;
    await runLive(rig.clock, 30_000);
    assert.ok(shared.status.length - s1 >= 25, `pushed readings on the shared socket: ${shared.status.length - s1} in 30 s`);
  });

  it('live falls back to polling while the socket is stalled and goes live again, announcing nothing twice', async () => {
    await load([{ id: 'p1', mode: 'live' }]);
    const rec = record('p1');
    await until(() => liveFeed().running && rig.sim.socketChaos.openSockets === 1, 'the live socket');
    const { printer } = rig;
    printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 100 });
    await runLive(rig.clock, 5000, () => rec.events.length > 0);
    assert.deepEqual(eventNames(rec.events), ['print-started']);
    rig.sim.chaos.stallSockets = true;
    await runLive(rig.clock, 60_000, () => rec.warnings.length > 0);
    // The test runtime answers RED._ with the key: the catalog text itself names the code.
    assert.deepEqual(rec.warnings, [`${OWN}log.live-fallback`]);
    assert.ok(
      rec.nodeStatus.some((s) => s.fill === 'yellow' && s.shape === 'ring'),
      'the yellow ring while the socket is re-made',
    );
    // The pause is seen by the poller while the socket is down.
    await runLive(rig.clock, 120_000, () => printer.simulation.progress >= 12);
    printer.pause();
    await runLive(rig.clock, 30_000, () => rec.events.some((e) => e.event === 'print-paused'));
    const paused = rec.events.find((e) => e.event === 'print-paused');
    assert.equal(paused?.source, 'poll');
    rig.sim.chaos.stallSockets = false;
    // Past two heartbeats: a socket made while the relay was still stalled has been replaced by now.
    await runLive(rig.clock, 60_000);
    await runLive(rig.clock, 120_000, () => liveFeed().state.status === 'connected');
    const before = rec.events.length;
    printer.resume();
    await runLive(rig.clock, 120_000, () => rec.events.some((e) => e.event === 'print-resumed'));
    await runLive(rig.clock, 3_600_000, () => printer.simulation.state === 'complete');
    await runLive(rig.clock, 20_000);
    assert.ok(
      rec.events.slice(before).some((e) => e.source === 'live'),
      'live again after the stall',
    );
    const seq = eventNames(rec.events).filter((e) => e !== 'print-progress');
    assert.deepEqual(seq, ['print-started', 'first-layer-complete', 'third-layer-complete', 'print-paused', 'print-resumed', 'print-complete']);
    const progress = rec.events.filter((e) => e.event === 'print-progress').map((e) => Math.floor((e.progress as number) / 10));
    assert.deepEqual(progress, [...new Set(progress)], 'each 10 % step once');
  });

  it('a printer offline at deploy polls, and goes live once it is back', async () => {
    rig.printer.online = false;
    await load([{ id: 'p1', mode: 'auto' }]);
    const rec = record('p1');
    await runLive(rig.clock, 5000);
    assert.equal(liveFeed().state.status, 'connecting');
    assert.equal(rig.sim.socketChaos.openSockets, 0);
    rig.printer.online = true;
    await runLive(rig.clock, 60_000, () => liveFeed().state.status === 'connected' && rig.sim.socketChaos.openSockets === 1);
    assert.equal(liveFeed().state.status, 'connected');
    rig.printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 100 });
    await rig.clock.advance(1000);
    await until(() => rec.events.length > 0, 'the pushed print-started');
    assert.equal(rec.events[0]?.source, 'live');
  });

  it('a redeploy mid-print re-fires nothing', async () => {
    await load([{ id: 'p1', mode: 'auto' }]);
    let rec = record('p1');
    await until(() => liveFeed().running && rig.sim.socketChaos.openSockets === 1, 'the live socket');
    rig.printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 100 });
    await runLive(rig.clock, 120_000, () => rig.printer.simulation.progress >= 25);
    assert.ok(eventNames(rec.events).includes('print-started'));
    // A full redeploy: the config node and the status node are made again.
    const keys = rig.sim.createAppConnection(0);
    await helper.setFlows(flow(rig, [{ id: 'p1', mode: 'auto' }]), { c1: credentialsOf(keys) } as never);
    await drainLive();
    rec = record('p1');
    await until(() => liveFeed().running, 'the live socket again');
    await runLive(rig.clock, 15_000);
    assert.deepEqual(
      eventNames(rec.events).filter((e) => e !== 'print-progress'),
      [],
      'nothing already seen is announced again',
    );
  });

  it('auto on OctoPrint without an OctoPrint API key polls and says so once', async () => {
    const clock = createClock({ mode: 'manual' });
    const sim = await startSimulator({ clock, printers: [{ kind: 'octoprint', name: 'Prusa' }] });
    helper.settings({ octoeverywhereClock: clock } as Parameters<typeof helper.settings>[0]);
    const octo: ClockedSimulator = { clock, sim, printer: sim.printers[0] as SimulatedPrinter, close: async () => undefined };
    try {
      const keys = sim.createAppConnection(0);
      await helper.load([configModule, pollModule], flow(octo, [{ id: 'p1', mode: 'auto' }]), { c1: credentialsOf(keys) });
      const rec = record('p1');
      const node = helper.getNode('p1') as unknown as { log: (m: unknown) => void };
      const logs: string[] = [];
      const log = node.log;
      node.log = (m) => {
        logs.push(String(m));
        log.call(node, m);
      };
      await until(() => liveFeed().subscribers === 1 && !liveFeed().running && logs.length > 0, 'the live verdict');
      assert.equal(liveFeed().state.status, 'unsupported');
      octo.printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 10 });
      for (let t = 0; t < 30_000; t += 1000) {
        await clock.advance(1000);
        await drainLive();
      }
      assert.equal(sim.socketChaos.openSockets, 0, 'no socket');
      assert.equal(logs.filter((l) => l === `${OWN}log.live-unsupported`).length, 1, logs.join('\n'));
      assert.equal(rec.errors.length, 0);
      assert.deepEqual(eventNames(rec.events).slice(0, 1), ['print-started']);
      assert.equal(rec.events[0]?.source, 'poll');
    } finally {
      await helper.unload();
      helper.settings({});
      await sim.close();
      clock.dispose();
    }
  });
});
