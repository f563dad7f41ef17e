import assert from 'node:assert/strict';
import { parseJobStatus, sameSnapshot, offlineJobStatus, type PrinterSnapshot } from '../../src/client';
import samples from '../fixtures/production-samples.json';

describe('client: status snapshot', () => {
  it('normalises a printing Moonraker status into our names', () => {
    const s = parseJobStatus(samples.commandApi.status_moonraker.Result);
    assert.deepEqual(s, {
      state: 'printing',
      subState: null,
      error: null,
      printing: true,
      printId: 'a-print-id',
      fileName: 'benchy.gcode',
      progress: 42.5,
      durationSec: 3600,
      timeLeftSec: 4800,
      currentLayer: 62,
      totalLayers: 145,
      temperatures: { bed: { actual: 60.1, target: 60 }, hotend: { actual: 219.8, target: 220 }, chamber: { actual: 38.2, target: 40 } },
      lights: [{ name: 'chamber', on: true }],
      features: 63,
      platformVersion: '0.12.0',
    });
  });

  it('reads an idle OctoPrint status with no print, no lights and no chamber as nulls', () => {
    const s = parseJobStatus(samples.commandApi.status_octoprint_idle.Result);
    assert.equal(s.state, 'idle');
    assert.equal(s.printing, false);
    assert.equal(s.progress, null);
    assert.equal(s.printId, null);
    assert.equal(s.temperatures.chamber, null);
    assert.deepEqual(s.lights, []);
    assert.equal(s.features, 32);
  });

  it('accepts numbers as strings, an unknown time left (-1) and unknown states', () => {
    const s = parseJobStatus({ JobStatus: { State: 'Paused', CurrentPrint: { Progress: '12.5', TimeLeftSec: -1, CurrentLayer: '7.0' } } });
    assert.equal(s.state, 'paused');
    assert.equal(s.printing, true);
    assert.equal(s.progress, 12.5);
    assert.equal(s.timeLeftSec, null);
    assert.equal(s.currentLayer, 7);
    assert.equal(parseJobStatus({ JobStatus: { State: 'levitating' } }).state, 'unknown');
    assert.equal(parseJobStatus({}).state, 'unknown');
  });

  it('compares snapshots without their poll time', () => {
    const base: PrinterSnapshot = { ...offlineJobStatus(), online: true, printerName: 'P', gadget: null, limits: null, polledAt: 1 };
    assert.ok(sameSnapshot(base, { ...base, polledAt: 2 }));
    assert.ok(!sameSnapshot(base, { ...base, progress: 3 }));
  });

  it('compares snapshots member by member as their JSON would: nested, arrays, undefined members, key order', () => {
    const base: PrinterSnapshot = {
      ...offlineJobStatus(),
      online: true,
      printerName: 'P',
      gadget: null,
      limits: null,
      polledAt: 1,
      temperatures: { bed: { actual: 60, target: 60 }, hotend: { actual: 215, target: 215 }, chamber: null },
      lights: [{ name: 'Chamber', on: false }],
    };
    const copy = (): PrinterSnapshot => JSON.parse(JSON.stringify(base)) as PrinterSnapshot;
    assert.ok(sameSnapshot(base, copy()));
    assert.ok(!sameSnapshot(base, { ...copy(), temperatures: { ...base.temperatures, bed: { actual: 59.9, target: 60 } } }));
    assert.ok(!sameSnapshot(base, { ...copy(), temperatures: { ...base.temperatures, chamber: { actual: 20, target: null } } }));
    assert.ok(!sameSnapshot(base, { ...copy(), lights: [{ name: 'Chamber', on: true }] }));
    assert.ok(!sameSnapshot(base, { ...copy(), lights: [] }));
    // JSON drops undefined members and does not care which member came first.
    assert.ok(sameSnapshot(base, { ...copy(), extra: undefined } as PrinterSnapshot));
    assert.ok(!sameSnapshot(base, { ...copy(), extra: 1 } as PrinterSnapshot));
    const reordered = Object.fromEntries(Object.entries(copy()).reverse()) as unknown as PrinterSnapshot;
    assert.ok(sameSnapshot(base, reordered));
  });
});
