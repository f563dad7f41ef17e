import assert from 'node:assert/strict';
import { deriveEvents, offlineJobStatus, type DeriveMemory, type GadgetStatus, type JobState, type PrinterSnapshot } from '../../src/client';

const ACTIVE: JobState[] = ['warmingup', 'printing', 'paused', 'resuming'];

function snap(state: JobState, extra: Partial<PrinterSnapshot> = {}): PrinterSnapshot {
  return {
    ...offlineJobStatus(),
    state,
    printing: ACTIVE.includes(state),
    printId: state === 'idle' ? null : 'p1',
    fileName: state === 'idle' ? null : 'cube.gcode',
    online: true,
    printerName: 'Voron',
    gadget: null,
    limits: null,
    polledAt: 0,
    temperatures: { bed: { actual: 60, target: 60 }, hotend: { actual: 215, target: 215 }, chamber: null },
    ...extra,
  };
}
const gadget = (state: number, rating: number, statusColor: GadgetStatus['statusColor']): GadgetStatus => ({
  state,
  stateName: 'active',
  status: '',
  statusColor,
  rating,
});

/** Feeds snapshots in order and returns the event names of each step after the first. */
function run(snapshots: PrinterSnapshot[], bedCooldownC?: number): string[][] {
  let memory: DeriveMemory | undefined;
  const steps: string[][] = [];
  for (const s of snapshots) {
    const r = deriveEvents(memory, s, { bedCooldownC });
    memory = r.memory;
    steps.push(r.events.map((e) => e.event));
  }
  return steps;
}

describe('client: events derived from snapshots', () => {
  it('says nothing on the first snapshot, whatever it shows', () => {
    assert.deepEqual(run([snap('printing', { progress: 55, currentLayer: 40 })]), [[]]);
    assert.deepEqual(run([snap('paused', { gadget: gadget(4, 1, 'r') })]), [[]]);
  });

  it('derives a whole print, each transition once', () => {
    const p = (progress: number, currentLayer: number, extra: Partial<PrinterSnapshot> = {}) =>
      snap('printing', { progress, currentLayer, totalLayers: 50, ...extra });
    const steps = run([
      snap('idle'),
      snap('warmingup', { progress: 0, currentLayer: 0 }),
      p(1, 1),
      p(3, 2),
      p(3, 2),
      p(8, 5),
      p(12, 6),
      p(25, 13, { gadget: gadget(3, 3, 'y') }),
      p(26, 14, { gadget: gadget(3, 3, 'y') }),
      snap('paused', { progress: 26, currentLayer: 14 }),
      snap('paused', { progress: 26, currentLayer: 14 }),
      snap('resuming', { progress: 26, currentLayer: 14 }),
      p(100, 50),
      snap('complete', { progress: 100, temperatures: { bed: { actual: 55, target: 0 }, hotend: { actual: 100, target: 0 }, chamber: null } }),
      snap('complete', { progress: 100, temperatures: { bed: { actual: 39.5, target: 0 }, hotend: { actual: 30, target: 0 }, chamber: null } }),
      snap('complete', { progress: 100, temperatures: { bed: { actual: 30, target: 0 }, hotend: { actual: 25, target: 0 }, chamber: null } }),
    ]);
    assert.deepEqual(steps, [
      [],
      ['print-started'],
      [],
      ['first-layer-complete'],
      [],
      ['third-layer-complete'],
      ['print-progress'],
      ['print-progress', 'gadget-warning'],
      [],
      ['print-paused'],
      [],
      ['print-resumed'],
      ['print-progress'],
      ['print-complete'],
      ['bed-cooldown-complete'],
      [],
    ]);
  });

  it('fills the event with the printer fields, source poll', () => {
    let memory: DeriveMemory | undefined = deriveEvents(undefined, snap('idle')).memory;
    const r = deriveEvents(memory, snap('printing', { progress: 12.7, durationSec: 90, timeLeftSec: null, currentLayer: 2, totalLayers: 9 }));
    memory = r.memory;
    assert.deepEqual(r.events[0], {
      eventType: 1,
      event: 'print-started',
      source: 'poll',
      printerName: 'Voron',
      printId: 'p1',
      fileName: 'cube.gcode',
      progress: 12,
      durationSec: 90,
      timeRemainingSec: -1,
      currentLayer: 2,
      totalLayers: 9,
    });
    assert.ok(memory);
  });

  it('tells a Gadget pause from a user pause, even when Gadget answers a poll later', () => {
    const g4 = gadget(4, 1, 'r');
    assert.deepEqual(run([snap('printing'), snap('paused', { gadget: g4 }), snap('paused', { gadget: g4 })]), [[], ['gadget-paused-print'], []]);
    assert.deepEqual(run([snap('printing'), snap('paused'), snap('paused', { gadget: g4 })]), [[], ['print-paused'], ['gadget-paused-print']]);
    const stillBad = gadget(3, 1, 'r');
    assert.deepEqual(
      run([
        snap('printing'),
        snap('paused', { gadget: g4 }),
        snap('printing', { gadget: stillBad }),
        snap('printing', { gadget: gadget(3, 8, 'g') }),
        snap('printing', { gadget: stillBad }),
      ]),
      [[], ['gadget-paused-print'], ['print-resumed'], [], ['gadget-warning']],
      'the verdict that paused the print is not warned about again after the resume',
    );
  });

  it('re-arms the Gadget warning only after a good verdict, not after a poll without Gadget', () => {
    const warn = gadget(3, 3, 'y');
    const good = gadget(3, 8, 'g');
    const steps = run([
      snap('printing'),
      snap('printing', { gadget: warn }),
      snap('printing'),
      snap('printing', { gadget: warn }),
      snap('printing', { gadget: good }),
      snap('printing', { gadget: warn }),
    ]);
    assert.deepEqual(steps, [[], ['gadget-warning'], [], [], [], ['gadget-warning']]);
  });

  it('reports cancels and printer errors as failures, with the reason', () => {
    assert.deepEqual(run([snap('printing'), snap('cancelled')]), [[], ['print-failed']]);
    let m = deriveEvents(undefined, snap('printing')).memory;
    const err = deriveEvents(m, snap('error', { error: 'heater fault' }));
    assert.deepEqual(
      err.events.map((e) => [e.event, e.error]),
      [
        ['error', 'heater fault'],
        ['print-failed', 'heater fault'],
      ],
    );
    m = deriveEvents(undefined, snap('printing', { progress: 40 })).memory;
    assert.deepEqual(
      deriveEvents(m, snap('idle')).events.map((e) => [e.event, e.error]),
      [['print-failed', 'cancelled']],
      'OctoPrint goes back to idle after a cancel',
    );
    m = deriveEvents(undefined, snap('printing', { progress: 99.9 })).memory;
    assert.deepEqual(
      deriveEvents(m, snap('idle')).events.map((e) => e.event),
      ['print-complete'],
    );
  });

  it('sees a new print id as a new print, even when the whole print happened between polls', () => {
    assert.deepEqual(run([snap('complete', { printId: 'a' }), snap('printing', { printId: 'b' })]), [[], ['print-started']]);
    assert.deepEqual(run([snap('complete', { printId: 'a' }), snap('complete', { printId: 'b' })]), [[], ['print-started', 'print-complete']]);
  });

  it('skips offline snapshots and reports what changed meanwhile once the printer is back', () => {
    const offline: PrinterSnapshot = { ...snap('idle'), ...offlineJobStatus(), online: false };
    assert.deepEqual(run([snap('printing'), offline, offline, snap('complete')]), [[], [], [], ['print-complete']]);
  });

  it('uses the configured bed cool-down temperature', () => {
    const cool = (actual: number) => snap('complete', { temperatures: { bed: { actual, target: 0 }, hotend: { actual: 30, target: 0 }, chamber: null } });
    assert.deepEqual(run([snap('printing'), cool(45), cool(34)], 35), [[], ['print-complete'], ['bed-cooldown-complete']]);
    assert.deepEqual(run([snap('printing'), cool(36)], 35), [[], ['print-complete']]);
  });
});
