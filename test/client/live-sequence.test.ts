// The whole print's event sequence from each platform's push socket equals the sequence the poller
// derives from the command API for the same print (both on the manual clock, one derivation).
import assert from 'node:assert/strict';
import type { LivePlatform } from '../../src/client';
import { type LiveRig, names, PollDerivation, record, startRig, tick, until } from './live-helpers';

const PLATFORMS: LivePlatform[] = ['moonraker', 'octoprint', 'bambu', 'elegoo-cc2'];
/** Each platform as it pushes, and Moonraker with its readings asked for every 10 s (the state still pushed). */
const CASES: Array<{ kind: LivePlatform; readingsMs?: number; title: string }> = [
  ...PLATFORMS.map((kind) => ({ kind, title: kind })),
  { kind: 'moonraker', readingsMs: 10_000, title: 'moonraker, readings every 10 s' },
];

describe("client live: event sequence equals the poller's", () => {
  let rig: LiveRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  for (const { kind, readingsMs, title } of CASES) {
    it(`${title}: start, layers, progress, pause, resume, complete, bed cool-down`, async () => {
      rig = await startRig(kind);
      const r = rig;
      const live = r.live({ readingsMs });
      const rec = record(live);
      live.start();
      await until(() => rec.snapshots.length > 0, 'the first live snapshot');
      assert.equal(live.state.status, 'connected');
      const poll = new PollDerivation(r.connection, r.clock, r.printer.name);
      await poll.poll();

      r.printer.startPrint('benchy.gcode', { durationSec: 120, totalLayers: 12 });
      let paused = false;
      let resumed = false;
      for (let s = 0; s < 3600 && !poll.events.some((e) => e.event === 'bed-cooldown-complete'); s++) {
        await r.clock.advance(1000);
        await poll.poll();
        for (let i = 0; i < 5; i++) await tick();
        if (!paused && r.printer.state === 'printing' && poll.events.some((e) => e.event === 'third-layer-complete')) {
          paused = true;
          r.printer.pause();
        } else if (paused && !resumed && r.printer.state === 'paused') {
          resumed = true;
          r.printer.resume();
        }
      }
      // Pushes come at the printer's own pace (Bambu and CC2 once a second), readings on their period:
      // let the last one arrive.
      for (let s = 0; s < (readingsMs ?? 0) / 1000 + 3; s++) {
        await r.clock.advance(1000);
        for (let i = 0; i < 5; i++) await tick();
      }
      // Core OctoPrint reports no layers on its socket (only the plugin's command API does): the
      // layer events are the one part of the sequence an OctoPrint push cannot give.
      const expected = names(poll.events).filter((e) => kind !== 'octoprint' || !/^(first|third)-layer-complete$/.test(e));
      assert.ok(expected.includes('bed-cooldown-complete'), `the print ran to cool-down: ${expected.join(',')}`);
      assert.ok(expected.includes('print-paused') && expected.includes('print-resumed'));
      assert.ok(expected.filter((e) => e === 'print-progress').length >= 9);
      await until(() => rec.events.length >= expected.length, 'the live events').catch(() => undefined);
      assert.deepEqual(names(rec.events), expected);
      assert.ok(rec.events.every((e) => e.source === 'live'));
      assert.equal(rec.events.find((e) => e.event === 'print-started')?.fileName, 'benchy.gcode');
    });
  }

  for (const { kind, readingsMs, title } of CASES) {
    it(`${title}: a cancel gives exactly one print-failed, with the reason`, async () => {
      rig = await startRig(kind);
      const r = rig;
      const live = r.live({ readingsMs });
      const rec = record(live);
      live.start();
      await until(() => rec.snapshots.length > 0, 'the first live snapshot');
      r.printer.startPrint('cancel-me.gcode', { durationSec: 600, totalLayers: 20 });
      for (let s = 0; s < 600 && r.printer.state !== 'printing'; s++) {
        await r.clock.advance(1000);
        await tick();
      }
      for (let s = 0; s < 30; s++) {
        await r.clock.advance(1000);
        await tick();
      }
      r.printer.cancel();
      for (let s = 0; s < 5; s++) {
        await r.clock.advance(1000);
        await tick();
      }
      await until(() => rec.events.some((e) => e.event === 'print-failed'), 'print-failed');
      // Whatever else is on the wire (OctoPrint: PrintCancelled and PrintFailed), later pushes add nothing.
      for (let s = 0; s < 10; s++) {
        await r.clock.advance(1000);
        for (let i = 0; i < 5; i++) await tick();
      }
      const failed = rec.events.filter((e) => e.event === 'print-failed');
      assert.equal(failed.length, 1, names(rec.events).join(','));
      assert.equal(failed[0].error, 'cancelled');
      assert.equal(rec.events.filter((e) => e.event === 'print-started').length, 1);
    });
  }
});
