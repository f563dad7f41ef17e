// octoeverywhere-status-poll against the simulator, on its manual clock: whole prints with the exact
// event sequence, the Gadget polling rules counted on the service side, shared polls, and cleanup.
import assert from 'node:assert/strict';
import {
  COMMON,
  configModule,
  countCalls,
  credentials,
  flow,
  helper,
  loadPolls,
  OWN,
  pollerOf,
  type PollNodeSpec,
  pollModule,
  record,
  settle,
  step,
} from './status-poll.fixture';
import { type ClockedSimulator, startClockedSimulator } from '../helpers/simulator';
import { setFlows } from '../helpers/nodes';
import type { NodeMessage } from 'node-red';
import type { AppConnectionNode } from '../../src/nodes/shared/types';
import type { StatusPoller } from '../../src/nodes/shared/poller';

describe('node: octoeverywhere-status-poll (simulated prints)', () => {
  let rig: ClockedSimulator;

  beforeEach(async () => {
    rig = await startClockedSimulator();
  });
  afterEach(async () => {
    await helper.unload();
    await rig.close();
  });

  const load = async (nodes?: PollNodeSpec[], shared = false): Promise<StatusPoller> => (await loadPolls(rig, nodes, shared)).poller;

  it('turns a whole print into the exact event sequence, once each', async () => {
    const poller = await load();
    const rec = record('p1');
    const { printer } = rig;
    const sim = printer.simulation;
    await step(rig, poller, 30_000);
    assert.equal(rec.events.length, 0, 'no events while idle, none for the state found at deploy');

    printer.startPrint('cube.gcode', { durationSec: 600, totalLayers: 100 });
    await step(rig, poller, 600_000, () => sim.state === 'printing' && sim.progress >= 22);
    printer.scriptGadget('warn');
    await step(rig, poller, 20_000);
    printer.pause();
    await step(rig, poller, 60_000);
    printer.resume();
    await step(rig, poller, 3_600_000, () => sim.state === 'complete');
    await step(rig, poller, 3_600_000, () => sim.heaters.bed.actual < 39);
    await step(rig, poller, 20_000);

    assert.deepEqual(
      rec.events.map((e) => e.event),
      [
        'print-started',
        'first-layer-complete',
        'third-layer-complete',
        'print-progress',
        'print-progress',
        'gadget-warning',
        'print-paused',
        'print-resumed',
        'print-progress',
        'print-progress',
        'print-progress',
        'print-progress',
        'print-progress',
        'print-progress',
        'print-progress',
        'print-complete',
        'bed-cooldown-complete',
      ],
    );
    const progress = rec.events.filter((e) => e.event === 'print-progress').map((e) => Math.floor((e.progress as number) / 10));
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8, 9], 'one per 10 % step');
    const started = rec.events[0];
    assert.equal(started.eventType, 1);
    assert.equal(started.source, 'poll');
    assert.equal(started.printerName, 'Voron 2.4');
    assert.equal(started.fileName, 'cube.gcode');
    assert.equal(rec.events[5].eventType, 7);
    assert.equal(rec.events.at(-1)?.eventType, 15);

    // The node status told the story on the way.
    const texts = rec.nodeStatus.map((s) => s.text);
    assert.ok(rec.nodeStatus.some((s) => s.fill === 'green' && s.shape === 'dot' && s.text === `${COMMON}status.printing`));
    assert.ok(rec.nodeStatus.some((s) => s.fill === 'red' && s.text === `${OWN}status.gadget-warning`));
    assert.ok(texts.includes(`${COMMON}status.complete`));
    // Status output on change only: idle polls said nothing new.
    const idleSnapshots = rec.status.filter((s) => s.state === 'complete' && (s.temperatures as { bed: { actual: number } }).bed.actual === 22);
    assert.ok(idleSnapshots.length <= 1);
  });

  it('reports a Gadget pause as gadget-paused-print, then the resume', async () => {
    const poller = await load();
    const rec = record('p1');
    const sim = rig.printer.simulation;
    rig.printer.startPrint('vase.gcode', { durationSec: 600, totalLayers: 100 });
    await step(rig, poller, 600_000, () => sim.state === 'printing' && sim.progress > 5);
    rig.printer.scriptGadget('pause');
    await step(rig, poller, 30_000);
    assert.equal(rec.nodeStatus.at(-1)?.text, `${OWN}status.gadget-paused`);
    rig.printer.resume();
    await step(rig, poller, 30_000);
    assert.deepEqual(
      rec.events.map((e) => e.event),
      ['print-started', 'first-layer-complete', 'third-layer-complete', 'gadget-paused-print', 'print-resumed'],
    );
    assert.equal(rec.events[3].eventType, 8);
  });

  it('sends the status on every poll when asked', async () => {
    const poller = await load([{ id: 'p1', output: 'always', interval: 10 }]);
    const rec = record('p1');
    await step(rig, poller, 50_000);
    assert.equal(rec.status.length, 5, 'one snapshot per 10 s poll, idle or not');
  });

  it('answers an input message with a poll at once, or with the latest snapshot within 10 s of the last poll', async () => {
    const poller = await load([{ id: 'p1', interval: 30 }]);
    const client = (helper.getNode('c1') as unknown as AppConnectionNode).client();
    const status = countCalls(client.commands, 'status', rig.clock);
    const replies: Array<{ topic?: string; payload: { polledAt: number } }> = [];
    helper.getNode('p1-status').on('input', (msg: NodeMessage) => replies.push(msg as { topic?: string; payload: { polledAt: number } }));
    const t0 = rig.clock.now();

    await step(rig, poller, 15_000);
    helper.getNode('p1').receive({ topic: 'now' });
    await settle(poller);
    assert.equal(status.times.length, 1, 'a fresh poll');
    assert.deepEqual(
      replies.map((r) => [r.topic, r.payload.polledAt - t0]),
      [['now', 15_000]],
      'one answer, carrying the input message',
    );

    await step(rig, poller, 5_000);
    helper.getNode('p1').receive({ topic: 'again' });
    await settle(poller);
    assert.equal(status.times.length, 1, 'within 10 s: no new request');
    assert.deepEqual(replies.map((r) => [r.topic, r.payload.polledAt - t0]).at(-1), ['again', 15_000]);

    await step(rig, poller, 25_000);
    assert.deepEqual(
      status.times.map((t) => t - t0),
      [15_000, 45_000],
      'the interval restarts from the input poll',
    );
    status.restore();
  });

  it('follows the Gadget polling rules, counted at the service', async () => {
    const poller = await load();
    const { printer, clock } = rig;
    const gadget = countCalls(printer, 'gadget', clock);
    await step(rig, poller, 5 * 60_000);
    assert.equal(gadget.times.length, 0, 'never while idle');

    printer.startPrint('cube.gcode', { durationSec: 3600 });
    // Someone presses inject five times a second: the answers come from the latest poll.
    for (let i = 0; i < 5; i++) helper.getNode('p1').receive({ payload: i });
    await step(rig, poller, 5 * 60_000);
    const whilePrinting = gadget.times.length;
    assert.ok(whilePrinting >= 25, `polled while printing (${whilePrinting})`);
    for (let i = 1; i < gadget.times.length; i++) assert.ok(gadget.times[i] - gadget.times[i - 1] >= 10_000, 'at most once per 10 s');

    printer.setGadget('disabledForCurrentPrint');
    await step(rig, poller, 20_000);
    const afterOptOut = gadget.times.length;
    await step(rig, poller, 10 * 60_000);
    assert.equal(gadget.times.length, afterOptOut, 'not again during a print Gadget was disabled for');

    printer.cancel();
    await step(rig, poller, 30_000);
    printer.startPrint('next.gcode', { durationSec: 3600 });
    await step(rig, poller, 60_000);
    assert.ok(gadget.times.length > afterOptOut, 'the next print is watched again');

    printer.setGadget('disabled');
    await step(rig, poller, 20_000);
    const disabledAt = gadget.times.length;
    await step(rig, poller, 9 * 60_000);
    assert.equal(gadget.times.length, disabledAt, 'Disabled: not within 10 min');
    await step(rig, poller, 2 * 60_000);
    assert.equal(gadget.times.length, disabledAt + 1, 'Disabled: once every 10 min');
    gadget.restore();
  });

  it('polls status only on a Shared Connection and says Gadget needs an App Connection', async () => {
    const poller = await load(undefined, true);
    const rec = record('p1');
    const gadget = countCalls(rig.printer, 'gadget', rig.clock);
    rig.printer.startPrint('cube.gcode', { durationSec: 600 });
    await step(rig, poller, 120_000);
    assert.equal(gadget.times.length, 0);
    assert.deepEqual(rec.events.map((e) => e.event).slice(0, 1), ['print-started']);
    assert.equal(rec.nodeStatus.at(-1)?.text, `${OWN}status.no-gadget`);
    assert.equal(rec.status.at(-1)?.gadget, null);
    gadget.restore();
  });

  it('shares one poller between nodes on one connection, at the shortest interval', async () => {
    const { creds } = credentials(rig.sim);
    await helper.load(
      [configModule, pollModule],
      flow(rig.sim, [
        { id: 'p1', interval: 30 },
        { id: 'p2', interval: 15 },
      ]),
      { c1: creds },
    );
    const poller = pollerOf(rig.clock);
    const client = (helper.getNode('c1') as unknown as AppConnectionNode).client();
    const status = countCalls(client.commands, 'status', rig.clock);
    const info = countCalls(client.app, 'info', rig.clock);
    const gadget = countCalls(client.app, 'gadgetStatus', rig.clock);
    await settle(poller);
    const a = record('p1');
    const b = record('p2');
    rig.printer.startPrint('cube.gcode', { durationSec: 600 });
    await step(rig, poller, 150_000);
    assert.equal(status.times.length, 10, 'one status request per 15 s for both nodes');
    assert.ok(gadget.times.length <= 10);
    assert.ok(info.times.length <= 1, 'Info only every 5 min');
    assert.deepEqual(
      a.events.map((e) => e.event),
      b.events.map((e) => e.event),
    );
    assert.ok(a.events.length >= 3);
  });

  it('leaves no timer behind when closed or redeployed', async () => {
    const { creds } = credentials(rig.sim);
    const flows = flow(rig.sim);
    await helper.load([configModule, pollModule], flows, { c1: creds });
    let poller = pollerOf(rig.clock);
    await settle(poller);
    assert.equal(poller.pendingTimers, 1, 'the next poll is armed');

    // Redeploy the status-poll node only: the config node and its poller stay, still one timer.
    const changed = flows.map((n) => (n.id === 'p1' ? { ...n, interval: 20 } : n)) as typeof flows;
    await setFlows(changed, 'nodes', { c1: creds });
    await settle(poller);
    assert.equal(poller.pendingTimers, 1);

    // A full redeploy: the old config node closes, and its poller with it.
    await setFlows(changed, 'full', { c1: creds });
    assert.equal(poller.pendingTimers, 0);
    poller = pollerOf(rig.clock);
    await settle(poller);
    await helper.unload();
    assert.equal(poller.pendingTimers, 0);
    assert.equal(rig.clock.pendingTimers, 0, 'nothing is waiting on the clock');
  });
});
