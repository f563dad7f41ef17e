import assert from 'node:assert/strict';
import { decode } from 'jpeg-js';
import { Feature, LARGE_FRAME_WEBCAM } from '../../../src/simulator/printers';
import { collect, command, countParts, open, rig, send, type Rig } from './helpers';

const API = '/octoeverywhere-command-api/';

interface StatusResult {
  JobStatus: Record<string, unknown> & { State: string; CurrentPrint: Record<string, unknown> | null };
  OctoEverywhereStatus: Record<string, unknown> | null;
  PlatformVersion: string;
  Features: number;
  ListWebcams: { DefaultIndex: number; Webcams: Array<Record<string, unknown>> };
  MaterialSystem?: unknown;
}

describe('simulated OctoEverywhere command API', () => {
  let r: Rig;
  afterEach(async () => r.close());

  describe('routing and envelopes', () => {
    beforeEach(async () => {
      r = await rig('moonraker');
    });

    it('answers JSON commands with HTTP 200, text/json and the envelope, whatever the method', async () => {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const reply = await send(r.printer.url, method, `${API}ping`);
        assert.equal(reply.status, 200);
        assert.equal(reply.headers['content-type'], 'text/json');
        assert.deepEqual(reply.json(), { Status: 200, Result: { Message: 'Pong' } });
      }
    });

    it('routes by lower-cased path prefix', async () => {
      assert.equal((await command(r.printer.url, 'PING')).Status, 200);
      const mixedCase = await send(r.printer.url, 'GET', '/OctoEverywhere-Command-API/Ping/extra');
      assert.equal((mixedCase.json() as { Status: number }).Status, 200);
    });

    it('answers 754 for an unknown command', async () => {
      assert.deepEqual(await command(r.printer.url, 'no-such-command'), {
        Status: 754,
        Error: "The command path didn't match any known commands.",
      });
    });

    it('answers {} as the Result of a command without data', async () => {
      assert.deepEqual(await command(r.printer.url, 'set-light', { Name: 'chamber', On: true }), { Status: 200, Result: {} });
    });

    it('answers 751 for a body that is not JSON', async () => {
      assert.equal((await command(r.printer.url, 'set-light', '{"Name":')).Status, 751);
    });

    it('reads a JSON body typed and the query string as strings with lower-cased keys', async () => {
      // The query's On=true is the string "true": set-light needs a bool.
      const fromQuery = await command(r.printer.url, 'set-light?Name=chamber&On=true', undefined, 'GET');
      assert.equal(fromQuery.Status, 751);
      assert.match(fromQuery.Error ?? '', /On/);
      const fromBody = await command(r.printer.url, 'set-light', { Name: 'chamber', On: true });
      assert.equal(fromBody.Status, 200);
      assert.deepEqual((await status(r)).JobStatus.Lights, [{ Name: 'chamber', On: true }]);
      // Query keys are matched case-insensitively: IncludeMaterialSystem arrives as includematerialsystem.
      const withMaterial = await command(r.printer.url, 'status?IncludeMaterialSystem=true', undefined, 'GET');
      assert.ok('MaterialSystem' in (withMaterial.Result ?? {}));
      assert.ok(!('MaterialSystem' in ((await command(r.printer.url, 'status')).Result ?? {})));
    });

    it('answers 785 while the plugin cannot reach the printer host, except ping and webcams', async () => {
      r.printer.setHostConnected(false);
      assert.deepEqual(await command(r.printer.url, 'status'), { Status: 785, Error: 'Host not connected' });
      assert.equal((await command(r.printer.url, 'pause')).Status, 785);
      assert.equal((await command(r.printer.url, 'ping')).Status, 200);
      assert.equal((await command(r.printer.url, 'webcam/list')).Status, 200);
      r.printer.setHostConnected(true);
      assert.equal((await command(r.printer.url, 'status')).Status, 200);
    });
  });

  describe('status', () => {
    it('has the full Moonraker shape with SubState, Lights and a print while printing', async () => {
      r = await rig('moonraker');
      r.printer.startPrint('benchy.gcode', { durationSec: 3600, totalLayers: 100 });
      await r.clock.advance(20 * 60_000);
      const s = await status(r);
      assert.equal(s.JobStatus.State, 'printing');
      assert.ok('SubState' in s.JobStatus && 'Lights' in s.JobStatus);
      const print = s.JobStatus.CurrentPrint as Record<string, unknown> & { Temps: Record<string, unknown> };
      assert.deepEqual(Object.keys(print).sort(), [
        'CurrentLayer',
        'DurationSec',
        'EstTotalFilUsedMm',
        'EstTotalFilWeightMg',
        'FileName',
        'Progress',
        'Temps',
        'TimeLeftSec',
        'TotalLayers',
      ]);
      assert.deepEqual(Object.keys(print.Temps).sort(), ['BedActual', 'BedTarget', 'ChamberActual', 'ChamberTarget', 'HotendActual', 'HotendTarget']);
      assert.ok((print.Progress as number) > 25 && (print.Progress as number) < 35, `progress ${print.Progress}`);
      assert.equal(print.FileName, 'benchy.gcode');
      assert.ok((print.TimeLeftSec as number) > 2000);
      assert.equal(s.Features, 63);
      assert.equal(s.PlatformVersion, '0.12.0');
      const oe = s.OctoEverywhereStatus as { MostRecentPrintIdStr: string; Gadget: { IntervalSec: number } };
      assert.equal(typeof oe.MostRecentPrintIdStr, 'string');
      assert.equal(oe.Gadget.IntervalSec, 40);
      assert.deepEqual(s.ListWebcams, { DefaultIndex: 0, Webcams: [{ Name: 'Nozzle Cam', FlipH: false, FlipV: true, Rotation: 90, Enabled: true }] });
    });

    it('reports OctoPrint idle without SubState, Lights, print or OctoEverywhereStatus', async () => {
      r = await rig('octoprint');
      const s = await status(r);
      assert.deepEqual(s.JobStatus, { State: 'idle', Error: null, CurrentPrint: null });
      assert.equal(s.OctoEverywhereStatus, null);
      assert.equal(s.Features, 32);
    });

    it('gives Bambu its features and a material system on request', async () => {
      r = await rig('bambu');
      const reply = await command(r.printer.url, 'status', { IncludeMaterialSystem: true });
      const s = reply.Result as unknown as StatusResult;
      assert.equal(s.Features, 33);
      assert.ok(s.MaterialSystem && typeof s.MaterialSystem === 'object');
    });
  });

  describe('printer commands', () => {
    it('pauses, resumes and cancels, and answers 786 in a wrong state', async () => {
      r = await rig('moonraker');
      assert.deepEqual(await command(r.printer.url, 'resume'), { Status: 786, Error: 'The printer is not in a state to resume.' });
      assert.equal((await command(r.printer.url, 'cancel')).Status, 786);
      assert.equal((await command(r.printer.url, 'pause')).Status, 786);
      r.printer.startPrint();
      await r.clock.advance(120_000);
      const events: number[] = [];
      r.printer.on('event', (e: { EventType: number }) => events.push(e.EventType));
      assert.equal((await command(r.printer.url, 'pause', { DisableHotend: false, SuppressNotification: true })).Status, 200);
      assert.equal(r.printer.state, 'paused');
      assert.equal(r.printer.simulation.heaters.hotend.target, 215);
      assert.deepEqual(events, [], 'SuppressNotification pauses without the Paused event');
      assert.equal((await command(r.printer.url, 'pause')).Status, 786);
      assert.equal((await command(r.printer.url, 'home')).Status, 786);
      assert.equal((await command(r.printer.url, 'resume')).Status, 200);
      assert.equal((await command(r.printer.url, 'cancel')).Status, 200);
      assert.equal(r.printer.state, 'cancelled');
    });

    it('checks pause options are typed (751)', async () => {
      r = await rig('moonraker');
      r.printer.startPrint();
      await r.clock.advance(120_000);
      assert.equal((await command(r.printer.url, 'pause', { SmartPause: 'yes' })).Status, 751);
      assert.equal((await command(r.printer.url, 'pause?smartpause=true', undefined, 'GET')).Status, 751);
      assert.equal(r.printer.state, 'printing');
    });

    it('starts a print from a virtual path', async () => {
      r = await rig('moonraker');
      const reply = await command(r.printer.url, 'start', { Path: 'gcode/benchy.gcode' });
      assert.deepEqual(reply, { Status: 200, Result: { VirtualPath: 'gcode/benchy.gcode', PlatformPath: 'gcodes/benchy.gcode' } });
      assert.equal(r.printer.state, 'warmingup');
      assert.equal((await command(r.printer.url, 'start', { Path: 'gcode/benchy.gcode' })).Status, 786);
      assert.equal((await command(r.printer.url, 'start', {})).Status, 751);
    });

    it('answers 752 when the file to start does not exist; a bare name means gcode/', async () => {
      r = await rig('octoprint');
      assert.equal((await command(r.printer.url, 'start', { Path: 'gcode/missing.gcode' })).Status, 752);
      assert.equal((await command(r.printer.url, 'start', { Path: 'benchy.gcode' })).Status, 200);
    });

    it('moves, homes, extrudes and sets temperatures on Moonraker', async () => {
      r = await rig('moonraker');
      assert.equal((await command(r.printer.url, 'home')).Status, 200);
      assert.equal((await command(r.printer.url, 'move-axis', { Axis: 'Z', DistanceMm: 10 })).Status, 200);
      assert.equal(r.printer.simulation.position.z, 10);
      assert.equal((await command(r.printer.url, 'move-axis', { Axis: 'Q', DistanceMm: 10 })).Status, 751);
      assert.equal((await command(r.printer.url, 'move-axis?axis=X&distancemm=5', undefined, 'GET')).Status, 751);
      assert.equal((await command(r.printer.url, 'extrude', { Extruder: 0, DistanceMm: 5 })).Status, 200);
      assert.equal((await command(r.printer.url, 'extrude', { Extruder: 0 })).Status, 751);
      assert.equal((await command(r.printer.url, 'set-temp', { BedC: 60, ToolC: 200 })).Status, 200);
      assert.equal(r.printer.simulation.heaters.bed.target, 60);
      assert.equal(r.printer.simulation.heaters.hotend.target, 200);
      assert.equal((await command(r.printer.url, 'set-temp', { ChamberC: 40 })).Status, 200);
    });

    it('answers set-temp out of range or with nothing to set with a 400 envelope', async () => {
      r = await rig('moonraker');
      for (const body of [{ BedC: 76 }, { ToolC: 261 }, { ChamberC: -1 }, {}, { BedC: 50, ToolNumber: 3 }]) {
        const reply = await command(r.printer.url, 'set-temp', body);
        assert.equal(reply.Status, 400, JSON.stringify(body));
        assert.equal(typeof reply.Error, 'string');
      }
      assert.equal(r.printer.simulation.heaters.bed.target, 0, 'nothing was applied');
      assert.equal((await command(r.printer.url, 'set-temp', { BedC: 0, ToolC: 260 })).Status, 200);
    });

    it('answers 788 for commands outside the platform Features', async () => {
      const unsupported: Record<'octoprint' | 'bambu', string[]> = {
        octoprint: ['set-light', 'move-axis', 'home', 'extrude', 'set-temp'],
        bambu: ['move-axis', 'home', 'extrude', 'set-temp'],
      };
      for (const kind of ['octoprint', 'bambu'] as const) {
        r = await rig(kind);
        for (const path of unsupported[kind]) assert.equal((await command(r.printer.url, path, { BedC: 50 })).Status, 788, `${kind} ${path}`);
        await r.close();
      }
      r = await rig('bambu');
      assert.equal(Feature.Light & 33, Feature.Light);
      assert.equal((await command(r.printer.url, 'set-light', { Name: 'chamber_light', On: true })).Status, 200);
      assert.equal((await command(r.printer.url, 'set-light', { Name: 'nope', On: true })).Status, 751);
    });
  });

  describe('files', () => {
    beforeEach(async () => {
      r = await rig('moonraker');
    });

    it('lists, uploads (raw PUT), details, downloads (raw) and deletes', async () => {
      const listed = await command(r.printer.url, 'files/list', undefined, 'GET');
      const names = (listed.Result as { Files: Array<{ Name: string }> }).Files.map((f) => f.Name);
      assert.deepEqual(names.sort(), ['benchy.gcode', 'calibration-cube.gcode']);
      const config = await command(r.printer.url, 'files/list?root=config', undefined, 'GET');
      assert.deepEqual(
        (config.Result as { Files: Array<{ VirtualPath: string }> }).Files.map((f) => f.VirtualPath),
        ['config/printer.cfg'],
      );

      const payload = Buffer.from('G28\nG1 X10\n{"not":"json args"}');
      const up = await send(r.printer.url, 'PUT', `${API}files/upload?path=gcode/parts/bracket.gcode`, { body: payload });
      assert.deepEqual(up.json(), {
        Status: 200,
        Result: { VirtualPath: 'gcode/parts/bracket.gcode', PlatformPath: 'gcodes/parts/bracket.gcode', SizeBytes: payload.length },
      });
      const details = await command(r.printer.url, 'files/details?path=gcode/parts/bracket.gcode', undefined, 'GET');
      assert.equal((details.Result as { SizeBytes: number }).SizeBytes, payload.length);
      const inFolder = await command(r.printer.url, 'files/list?path=gcode/parts', undefined, 'GET');
      assert.equal((inFolder.Result as { Files: unknown[] }).Files.length, 1);

      const down = await send(r.printer.url, 'GET', `${API}files/download?path=gcode/parts/bracket.gcode`);
      assert.equal(down.status, 200);
      assert.equal(down.headers['content-type'], 'application/octet-stream');
      assert.deepEqual(down.body, payload);

      assert.equal((await command(r.printer.url, 'files/delete?path=gcode/parts/bracket.gcode')).Status, 200);
      assert.equal((await command(r.printer.url, 'files/details?path=gcode/parts/bracket.gcode', undefined, 'GET')).Status, 752);
      assert.equal((await command(r.printer.url, 'files/delete?path=gcode/parts/bracket.gcode')).Status, 752);
      assert.equal((await command(r.printer.url, 'files/list?root=nowhere', undefined, 'GET')).Status, 751);
    });

    it('reports raw-endpoint errors with the HTTP status = code, or 400 beyond 599', async () => {
      const missing = await send(r.printer.url, 'GET', `${API}files/download?path=gcode/missing.gcode`);
      assert.equal(missing.status, 404);
      assert.deepEqual({ ...(missing.json() as object), Error: 'x' }, { Status: 404, Error: 'x' });
      const noPath = await send(r.printer.url, 'GET', `${API}files/download`);
      assert.equal(noPath.status, 400);
      assert.equal((noPath.json() as { Status: number }).Status, 751);
      r.printer.setHostConnected(false);
      const offline = await send(r.printer.url, 'GET', `${API}files/download?path=gcode/benchy.gcode`);
      assert.equal(offline.status, 400);
      assert.equal((offline.json() as { Status: number }).Status, 785);
    });
  });

  describe('webcams', () => {
    it('lists webcams with their snapshot and stream URLs', async () => {
      r = await rig('octoprint', { webcams: [{ name: 'Front' }, { name: 'Top', flipH: true, rotation: 180 }] });
      const reply = await command(r.printer.url, 'webcam/list', undefined, 'GET');
      assert.deepEqual(reply.Result, {
        DefaultIndex: 0,
        Webcams: [
          {
            Name: 'Front',
            FlipH: false,
            FlipV: false,
            Rotation: 0,
            Enabled: true,
            SnapshotUrl: '/webcam/?action=snapshot',
            StreamUrl: '/webcam/?action=stream',
          },
          {
            Name: 'Top',
            FlipH: true,
            FlipV: false,
            Rotation: 180,
            Enabled: true,
            SnapshotUrl: '/webcam2/?action=snapshot',
            StreamUrl: '/webcam2/?action=stream',
          },
        ],
      });
    });

    it('serves a real JPEG snapshot with Content-Length and the transform header; bad indexes fall back to 0', async () => {
      r = await rig('octoprint', {
        webcams: [
          { name: 'Front', width: 320, height: 240 },
          { name: 'Top', flipH: true, rotation: 90, width: 160, height: 120 },
        ],
      });
      const snap = await send(r.printer.url, 'GET', `${API}webcam/snapshot?index=1`);
      assert.equal(snap.status, 200);
      assert.equal(snap.headers['content-type'], 'image/jpeg');
      assert.equal(Number(snap.headers['content-length']), snap.body.length);
      assert.equal(snap.headers['x-oe-webcam-transform'], 'fliph rotate=90');
      const image = decode(snap.body);
      assert.deepEqual([image.width, image.height], [160, 120]);
      for (const index of ['7', '-1', 'abc']) {
        const fallback = await send(r.printer.url, 'GET', `${API}webcam/snapshot?index=${index}`);
        assert.equal(fallback.headers['x-oe-webcam-transform'], 'none');
        assert.equal(decode(fallback.body).width, 320);
      }
    });

    it('shows a changing picture: new frames as time passes and as the print progresses', async () => {
      r = await rig('moonraker', { webcams: [{ width: 160, height: 120 }] });
      const first = (await send(r.printer.url, 'GET', `${API}webcam/snapshot`)).body;
      const again = (await send(r.printer.url, 'GET', `${API}webcam/snapshot`)).body;
      assert.deepEqual(first, again, 'same frame, same bytes (cached)');
      await r.clock.advance(1000);
      const next = (await send(r.printer.url, 'GET', `${API}webcam/snapshot`)).body;
      assert.notDeepEqual(next, first);
      assert.equal(r.printer.webcams[0].jpeg(), r.printer.webcams[0].jpeg(), 'one encode per frame');
      // A frozen camera still shows the print moving on.
      r.printer.freezeWebcams(true);
      r.printer.startPrint(undefined, { durationSec: 600 });
      const before = (await send(r.printer.url, 'GET', `${API}webcam/snapshot`)).body;
      await r.clock.advance(120_000);
      assert.ok(r.printer.simulation.progress > 1);
      assert.notDeepEqual((await send(r.printer.url, 'GET', `${API}webcam/snapshot`)).body, before);
    });

    it('answers 754 (as a raw error) when the printer has no webcam', async () => {
      r = await rig('moonraker', { webcams: [] });
      const snap = await send(r.printer.url, 'GET', `${API}webcam/snapshot`);
      assert.equal(snap.status, 400);
      assert.equal((snap.json() as { Status: number }).Status, 754);
      const stream = await send(r.printer.url, 'GET', `${API}webcam/stream`);
      assert.equal((stream.json() as { Status: number }).Status, 754);
      assert.deepEqual((await command(r.printer.url, 'webcam/list', undefined, 'GET')).Result, { DefaultIndex: 0, Webcams: [] });
    });

    it('can make ~200 KB frames for benchmarks', async () => {
      r = await rig('bambu', { webcams: [LARGE_FRAME_WEBCAM] });
      const snap = await send(r.printer.url, 'GET', `${API}webcam/snapshot`);
      assert.ok(snap.body.length > 150_000 && snap.body.length < 300_000, `${snap.body.length} bytes`);
      assert.deepEqual([decode(snap.body).width, decode(snap.body).height], [1280, 720]);
    });

    it('streams multipart with boundary oestreamboundary, the first frame twice, then new frames', async () => {
      r = await rig('moonraker', { webcams: [{ width: 160, height: 120 }] });
      const res = await open(r.printer.url, `${API}webcam/stream?index=0`);
      assert.equal(res.headers['content-type'], 'multipart/x-mixed-replace; boundary=oestreamboundary');
      const firstTwo = await collect(res, (b) => countParts(b, 'oestreamboundary') >= 2 && b.toString('latin1').endsWith('\r\n'));
      const parts = parseParts(firstTwo, 'oestreamboundary');
      assert.equal(parts.length, 2);
      assert.deepEqual(parts[0].jpeg, parts[1].jpeg, 'first frame sent twice');
      assert.equal(decode(parts[0].jpeg).width, 160);
      const more = collect(res, (b) => countParts(b, 'oestreamboundary') >= 1 && b.toString('latin1').endsWith('\r\n'));
      await r.clock.advance(1000);
      const third = parseParts(await more, 'oestreamboundary');
      assert.notDeepEqual(third[0].jpeg, parts[0].jpeg);
      res.destroy();
    });

    it('ends a stream after 60 s without a new frame', async () => {
      r = await rig('moonraker', { webcams: [{ width: 160, height: 120 }] });
      const res = await open(r.printer.url, `${API}webcam/stream`);
      const ended = new Promise<void>((resolve) => res.on('end', resolve));
      res.resume();
      r.printer.freezeWebcams(true);
      await r.clock.advance(59_000);
      assert.equal(res.complete, false);
      await r.clock.advance(2_000);
      await ended;
      assert.equal(r.clock.pendingTimers, 0, 'the stream timer is gone');
    });
  });
});

async function status(r: Rig): Promise<StatusResult> {
  const reply = await command(r.printer.url, 'status', undefined, 'GET');
  assert.equal(reply.Status, 200);
  return reply.Result as unknown as StatusResult;
}

/** Checks the exact part format and returns the JPEGs. */
function parseParts(bytes: Buffer, boundary: string): Array<{ jpeg: Buffer }> {
  const parts: Array<{ jpeg: Buffer }> = [];
  let at = 0;
  while (at < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', at);
    const head = bytes.subarray(at, headEnd).toString('latin1');
    const match = new RegExp(`^--${boundary}\\r\\nContent-Type: image/jpeg\\r\\nContent-Length: (\\d+)$`).exec(head);
    assert.ok(match, `part head ${JSON.stringify(head)}`);
    const length = Number(match[1]);
    const jpeg = bytes.subarray(headEnd + 4, headEnd + 4 + length);
    assert.equal(bytes.subarray(headEnd + 4 + length, headEnd + 6 + length).toString('latin1'), '\r\n');
    parts.push({ jpeg });
    at = headEnd + 6 + length;
  }
  return parts;
}
