import assert from 'node:assert/strict';
import type { JobState, SimPrinterEvent } from '../../../src/simulator/contract';
import { command, rig, type Rig } from './helpers';

/** Records states and EventTypes in one timeline, as the service would see them. */
function record(r: Rig): { timeline: Array<string | number>; events: SimPrinterEvent[] } {
  const timeline: Array<string | number> = [];
  const events: SimPrinterEvent[] = [];
  r.printer.on('state', (s: JobState) => timeline.push(s));
  r.printer.on('event', (e: SimPrinterEvent) => {
    timeline.push(e.EventType);
    events.push(e);
  });
  return { timeline, events };
}

describe('simulated print lifecycle (manual clock)', () => {
  let r: Rig;
  afterEach(async () => r.close());

  it('runs start → heat → print → complete → bed cool-down with the section-5 events in order', async () => {
    r = await rig('moonraker');
    const { timeline, events } = record(r);
    r.printer.startPrint('cube.gcode', { durationSec: 1000, totalLayers: 100 });
    await r.clock.advance(2 * 3600_000);
    assert.deepEqual(timeline, ['warmingup', 1, 'printing', 10, 14, 6, 6, 6, 6, 6, 6, 6, 6, 6, 'complete', 2, 15]);
    const progress = events.filter((e) => e.EventType === 6).map((e) => e.Progress);
    assert.deepEqual(progress, [10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const done = events.find((e) => e.EventType === 2);
    assert.equal(done?.FileName, 'cube.gcode');
    assert.equal(done?.Progress, 100);
    assert.equal(done?.CurrentLayer, 100);
    assert.ok(done && done.DurationSec !== undefined && done.DurationSec >= 1000, 'duration includes heating');
    assert.equal(new Set(events.map((e) => e.PrintId)).size, 1);
    const status = await command(r.printer.url, 'status');
    const job = (status.Result as { JobStatus: { State: string; CurrentPrint: { Temps: { BedActual: number; BedTarget: number } } } }).JobStatus;
    assert.equal(job.State, 'complete');
    assert.equal(job.CurrentPrint.Temps.BedTarget, 0);
    assert.ok(job.CurrentPrint.Temps.BedActual < 40);
  });

  it('announces a progress event every hour of print time besides every 10 %', async () => {
    r = await rig('octoprint');
    const { events } = record(r);
    r.printer.startPrint(undefined, { durationSec: 2.5 * 3600, totalLayers: 300 });
    await r.clock.advance(3 * 3600_000);
    const progress = events.filter((e) => e.EventType === 6);
    assert.equal(progress.length, 9 + 2);
    const hourly = progress.filter((e) => e.DurationSec !== undefined && e.DurationSec % 3600 === 0);
    assert.deepEqual(
      hourly.map((e) => e.DurationSec),
      [3600, 7200],
    );
  });

  it('heats realistically: warming up takes simulated time, temps approach their targets', async () => {
    r = await rig('moonraker');
    r.printer.startPrint();
    await r.clock.advance(10_000);
    assert.equal(r.printer.state, 'warmingup');
    const { bed, hotend } = r.printer.simulation.heaters;
    assert.ok(bed.actual > 25 && bed.actual < 60, `bed ${bed.actual}`);
    assert.equal(hotend.target, 215);
    await r.clock.advance(60_000);
    assert.equal(r.printer.state, 'printing');
    assert.ok(r.printer.simulation.heaters.bed.actual >= 59);
  });

  it('pauses (hotend off by default) and resumes through resuming back to printing', async () => {
    r = await rig('moonraker');
    const { timeline } = record(r);
    r.printer.startPrint(undefined, { durationSec: 3600 });
    await r.clock.advance(120_000);
    timeline.length = 0;
    assert.equal(r.printer.pause(), true);
    assert.equal(r.printer.simulation.heaters.hotend.target, 0);
    assert.equal(r.printer.simulation.heaters.bed.target, 60);
    await r.clock.advance(60_000);
    assert.equal(r.printer.resume(), true);
    assert.equal(r.printer.simulation.heaters.hotend.target, 215);
    await r.clock.advance(60_000);
    assert.deepEqual(timeline, ['paused', 4, 'resuming', 5, 'printing']);
  });

  for (const [kind, endState] of [
    ['moonraker', 'cancelled'],
    ['octoprint', 'idle'],
  ] as const) {
    it(`cancels: ${kind} goes to ${endState} and sends Print Failed (Error "cancelled")`, async () => {
      r = await rig(kind);
      const { timeline, events } = record(r);
      r.printer.startPrint();
      await r.clock.advance(5_000);
      assert.equal(r.printer.cancel(), true);
      assert.deepEqual(timeline, ['warmingup', 1, endState, 3]);
      assert.equal(events[1].Error, 'cancelled');
      assert.equal(r.printer.cancel(), false, 'nothing left to cancel');
    });
  }

  it('goes to error with Error then Print Failed, and shows the message in status', async () => {
    r = await rig('bambu');
    const { timeline, events } = record(r);
    r.printer.startPrint();
    await r.clock.advance(60_000);
    r.printer.injectError('Nozzle temperature malfunction', '0300-0100-0001');
    assert.deepEqual(timeline.slice(-3), ['error', 9, 3]);
    assert.equal(events.at(-2)?.PlatformErrorCode, '0300-0100-0001');
    const status = await command(r.printer.url, 'status');
    assert.equal((status.Result as { JobStatus: { Error: string } }).JobStatus.Error, 'Nozzle temperature malfunction');
  });

  it('loops for the demo: the next print starts after the bed has cooled', async () => {
    r = await rig('moonraker', { loop: true });
    const { timeline } = record(r);
    r.printer.startPrint(undefined, { durationSec: 600, totalLayers: 10 });
    await r.clock.advance(3600_000);
    const cooled = timeline.indexOf(15);
    assert.ok(cooled > 0);
    assert.deepEqual(timeline.slice(cooled, cooled + 3), [15, 'warmingup', 1]);
  });

  it('offers filament-change and user-interaction events as controls', async () => {
    r = await rig('moonraker');
    const { timeline } = record(r);
    r.printer.requireAction('filament');
    r.printer.requireAction('interaction');
    assert.deepEqual(timeline, [11, 12]);
  });

  describe('Gadget', () => {
    it('is Idle when not printing and Active with a good rating while printing', async () => {
      r = await rig('moonraker');
      assert.deepEqual(r.printer.gadget().State, 2);
      r.printer.startPrint();
      await r.clock.advance(60_000);
      assert.deepEqual(r.printer.gadget(), { State: 3, Status: 'Looking Great', StatusColor: 'g', Rating: 8 });
    });

    it('warns (EventType 7) on a possible failure without pausing', async () => {
      r = await rig('moonraker');
      const { timeline } = record(r);
      r.printer.startPrint();
      await r.clock.advance(60_000);
      r.printer.scriptGadget('warn');
      assert.equal(timeline.at(-1), 7);
      assert.equal(r.printer.state, 'printing');
      assert.deepEqual(r.printer.gadget(), { State: 3, Status: 'Possible Failure', StatusColor: 'y', Rating: 3 });
    });

    it('pauses the print on a failure (EventType 8, state paused, Gadget State 4) until resumed', async () => {
      r = await rig('octoprint');
      const { timeline } = record(r);
      r.printer.startPrint();
      await r.clock.advance(60_000);
      r.printer.scriptGadget('pause');
      assert.deepEqual(timeline.slice(-2), ['paused', 8]);
      assert.deepEqual(r.printer.gadget(), { State: 4, Status: 'Failure Detected', StatusColor: 'r', Rating: 1 });
      r.printer.scriptGadget('good');
      r.printer.resume();
      assert.equal(r.printer.gadget().State, 3);
      const status = await command(r.printer.url, 'status');
      const gadget = (status.Result as { OctoEverywhereStatus: { Gadget: { ScoreHistory: number[]; TimeSinceLastPauseSec: number } } }).OctoEverywhereStatus
        .Gadget;
      assert.deepEqual(gadget.ScoreHistory, [8, 1, 8]);
      assert.equal(gadget.TimeSinceLastPauseSec, 0);
    });

    it('stays silent when disabled (State 0) or disabled for the current print (State 1, until the next print)', async () => {
      r = await rig('moonraker');
      const { timeline } = record(r);
      r.printer.setGadget('disabled');
      r.printer.startPrint(undefined, { durationSec: 60 });
      await r.clock.advance(60_000);
      assert.equal(r.printer.gadget().State, 0);
      r.printer.scriptGadget('pause');
      r.printer.setGadget('disabledForCurrentPrint');
      assert.equal(r.printer.gadget().State, 1);
      r.printer.scriptGadget('warn');
      assert.ok(!timeline.includes(7) && !timeline.includes(8));
      r.printer.cancel();
      r.printer.startPrint();
      assert.equal(r.printer.gadget().State, 3);
    });
  });
});
