// Moonraker with a readings period (LiveConnectionOptions.readingsMs): the printer's state is still
// pushed and reported within a second, with readings of that moment; the readings in between come
// once per period instead of at Klipper's own pace; the period can change on a running connection.
import assert from 'node:assert/strict';
import type { LiveConnection, PrinterSnapshot } from '../../src/client';
import { type LiveRig, record, type Recorder, startRig, tick } from './live-helpers';

/** Moves the manual clock a second at a time, letting socket I/O run. */
async function seconds(rig: LiveRig, n: number): Promise<void> {
  for (let s = 0; s < n; s++) {
    await rig.clock.advance(1000);
    for (let i = 0; i < 5; i++) await tick();
  }
}

const last = (r: Recorder): PrinterSnapshot => {
  const s = r.snapshots.at(-1);
  assert.ok(s, 'a snapshot');
  return s;
};

describe('client live: Moonraker readings once per period', () => {
  let rig: LiveRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  /** Two connections to one printing printer: one as it pushes, one with readings every 10 s. */
  async function printingPair(): Promise<{ r: LiveRig; pushed: Recorder; periodic: Recorder; periodicLive: LiveConnection }> {
    rig = await startRig('moonraker');
    const r = rig;
    const pushed = record(r.live());
    const periodicLive = r.live({ readingsMs: 10_000 });
    const periodic = record(periodicLive);
    for (const live of r.lives) live.start();
    r.printer.startPrint('farm.gcode', { durationSec: 3600, totalLayers: 200 });
    for (let s = 0; s < 600 && !(r.printer.state === 'printing' && pushed.snapshots.at(-1)?.state === 'printing'); s++) await seconds(r, 1);
    await seconds(r, 12);
    assert.equal(last(periodic).state, 'printing');
    return { r, pushed, periodic, periodicLive };
  }

  it('reports the readings once per period, not at every push, and keeps them current', async () => {
    const { r, pushed, periodic } = await printingPair();
    const p0 = pushed.snapshots.length;
    const q0 = periodic.snapshots.length;
    await seconds(r, 60);
    const pushes = pushed.snapshots.length - p0;
    const reads = periodic.snapshots.length - q0;
    assert.ok(pushes >= 50, `the pushed connection reports about every second (${pushes})`);
    assert.ok(reads >= 5 && reads <= 7, `readings every 10 s: ${reads} in 60 s`);
    const a = last(pushed);
    const b = last(periodic);
    assert.ok(
      b.durationSec !== null && a.durationSec !== null && a.durationSec - b.durationSec <= 10,
      `at most a period behind: ${a.durationSec} vs ${b.durationSec}`,
    );
    assert.ok((b.progress ?? 0) > 0 && b.temperatures.hotend?.actual !== null && b.temperatures.bed?.target !== null);
  });

  it('reports a state change within a second, with readings of that moment', async () => {
    const { r, pushed, periodic } = await printingPair();
    const before = periodic.snapshots.length;
    // Half-way between two readings: the pause itself is pushed.
    await seconds(r, 4);
    r.printer.pause();
    await seconds(r, 1);
    const paused = periodic.snapshots.slice(before).find((s) => s.state === 'paused');
    assert.ok(paused, 'the pause within a second');
    assert.equal(paused.durationSec, last(pushed).durationSec, 'with the duration of the moment');
    assert.equal(paused.progress, last(pushed).progress);
  });

  it('goes back to the pushes when the period is taken away, and to the period when it is given again', async () => {
    const { r, periodic, periodicLive } = await printingPair();
    periodicLive.setReadingsMs(undefined);
    await seconds(r, 2);
    const q0 = periodic.snapshots.length;
    await seconds(r, 20);
    assert.ok(periodic.snapshots.length - q0 >= 15, `pushed again: ${periodic.snapshots.length - q0} in 20 s`);
    periodicLive.setReadingsMs(10_000);
    await seconds(r, 2);
    const q1 = periodic.snapshots.length;
    await seconds(r, 30);
    assert.ok(periodic.snapshots.length - q1 <= 4, `once per period again: ${periodic.snapshots.length - q1} in 30 s`);
    assert.equal(periodicLive.state.status, 'connected');
  });

  it('after Klipper restarts, subscribes to the state again and keeps reading once per period', async () => {
    const { r, periodic, periodicLive } = await printingPair();
    r.printer.setHostConnected(false);
    await seconds(r, 3);
    r.printer.setHostConnected(true);
    // Klipper's ready notice, the new subscription and its first readings.
    await seconds(r, 5);
    const q0 = periodic.snapshots.length;
    await seconds(r, 40);
    const reads = periodic.snapshots.length - q0;
    assert.ok(reads >= 3 && reads <= 6, `readings every 10 s after the restart: ${reads} in 40 s`);
    assert.equal(last(periodic).state, 'printing');
    assert.equal(periodicLive.state.status, 'connected');
  });

  it('leaves no readings timer behind when it stops', async () => {
    const { r } = await printingPair();
    for (const live of r.lives) live.stop();
    await seconds(r, 1);
    // The simulator's own print keeps one timer; nothing of the connections is left.
    const held = r.clock.pendingTimers;
    await seconds(r, 30);
    assert.equal(r.clock.pendingTimers, held);
    assert.ok(r.lives.every((l) => l.pendingTimers === 0));
  });
});
