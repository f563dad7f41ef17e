import assert from 'node:assert/strict';
import { OctoEverywhereClient, OctoEverywhereError, boundaryOf, parseTransform } from '../../src/client';
import { json, startRecorder, type Recorder } from '../helpers/recorder';
import { SECRETS } from '../helpers/secrets';
import samples from '../fixtures/production-samples.json';

describe('client: command API', () => {
  let relay: Recorder;
  let client: OctoEverywhereClient;
  const envelope = (body: unknown) => (_req: unknown, res: import('node:http').ServerResponse) => json(res, 200, body, 'text/json');

  beforeEach(async () => {
    relay = await startRecorder(envelope(samples.commandApi.ok_empty));
    client = new OctoEverywhereClient({ url: `http://app-abc.localhost:${relay.port}`, authBearerToken: SECRETS.authBearerToken });
  });
  afterEach(async () => {
    await client.close();
    await relay.close();
  });

  it('reads status through /octoeverywhere-command-api/ with the relay auth header', async () => {
    relay.respond(envelope(samples.commandApi.status_moonraker));
    const status = await client.commands.status({ includeMaterialSystem: true });
    assert.equal(relay.requests[0].url, '/octoeverywhere-command-api/status?IncludeMaterialSystem=true');
    assert.equal(relay.requests[0].headers.authorization, `Bearer ${SECRETS.authBearerToken}`);
    assert.equal((status.JobStatus as { State: string }).State, 'printing');
  });

  it('sends typed arguments as a JSON body', async () => {
    await client.commands.setLight('chamber', true);
    await client.commands.pause({ smartPause: true, zLiftMm: 5 });
    await client.commands.setTemp({ bedC: 60, toolC: 215 });
    await client.commands.moveAxis('z', 10);
    await client.commands.start({ path: 'gcode/benchy.gcode' });
    const bodies = relay.requests.map((r) => [r.url, JSON.parse(r.body.toString())]);
    assert.deepEqual(bodies, [
      ['/octoeverywhere-command-api/set-light', { Name: 'chamber', On: true }],
      ['/octoeverywhere-command-api/pause', { SmartPause: true, ZLiftMm: 5 }],
      ['/octoeverywhere-command-api/set-temp', { BedC: 60, ToolC: 215 }],
      ['/octoeverywhere-command-api/move-axis', { Axis: 'Z', DistanceMm: 10 }],
      ['/octoeverywhere-command-api/start', { Path: 'gcode/benchy.gcode' }],
    ]);
    assert.ok(relay.requests.every((r) => r.headers['content-type'] === 'application/json'));
  });

  it('checks argument ranges before sending anything', async () => {
    const bad: Array<() => Promise<unknown>> = [
      () => client.commands.setTemp({ bedC: 76 }),
      () => client.commands.setTemp({ toolC: -1 }),
      () => client.commands.setTemp({}),
      () => client.commands.setLight('chamber', 'yes' as unknown as boolean),
      () => client.commands.moveAxis('W', 1),
      () => client.commands.moveAxis('X', Number.NaN),
      () => client.commands.extrude(1.5, 10),
      () => client.commands.start({ path: '' }),
      () => client.commands.snapshot(-1),
      () => client.commands.deleteFile('gcode/../etc/passwd'),
    ];
    for (const call of bad) await assert.rejects(call(), (e: OctoEverywhereError) => e.code === 'OE_INVALID_ARGUMENT' || e.code === 'OE_INVALID_PATH');
    assert.equal(relay.requests.length, 0);
  });

  it('turns envelope codes into errors with plain words', async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [samples.commandApi.error_wrong_state, 'OE_786', /not in a state/],
      [samples.commandApi.error_host_not_connected, 'OE_785', /not connected to the printer/],
      [samples.commandApi.error_unknown_command, 'OE_754', /unknown/],
      [{ Status: 788, Error: 'nope' }, 'OE_788', /not supported on this printer/],
      [{ Status: 400, Error: 'BedC out of range' }, 'OE_400', /arguments/],
      [{ Status: 799, Error: 'new' }, 'OE_799', /does not know/],
    ];
    for (const [body, code, text] of cases) {
      relay.respond(envelope(body));
      await assert.rejects(client.commands.pause(), (e: OctoEverywhereError) => e.code === code && text.test(e.message), code);
    }
  });

  it('returns the webcam list and a snapshot with its transform', async () => {
    relay.respond((req, res) => {
      if (req.url.startsWith('/octoeverywhere-command-api/webcam/list')) return json(res, 200, samples.commandApi.webcam_list, 'text/json');
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'x-oe-webcam-transform': 'fliph rotate=90' });
      res.end(Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    });
    const list = await client.commands.webcamList();
    assert.deepEqual(list.webcams[0], {
      name: 'Nozzle Cam',
      index: 0,
      flipH: false,
      flipV: true,
      rotation: 90,
      enabled: true,
      snapshotUrl: '/webcam/?action=snapshot',
      streamUrl: '/webcam/?action=stream',
    });
    const snap = await client.commands.snapshot(1);
    assert.equal(relay.requests[1].url, '/octoeverywhere-command-api/webcam/snapshot?index=1');
    assert.deepEqual(snap.transform, { flipH: true, flipV: false, rotation: 90, raw: 'fliph rotate=90' });
    assert.equal(snap.image.length, 4);
  });

  it('reports "no webcam" from the snapshot endpoint as OE_754', async () => {
    relay.respond((_req, res) => json(res, 200, { Status: 754, Error: 'No webcam' }, 'text/json'));
    await assert.rejects(client.commands.snapshot(), (e: OctoEverywhereError) => e.code === 'OE_754');
  });

  it('parses the transform header and stream boundaries', () => {
    assert.deepEqual(parseTransform(undefined), { flipH: false, flipV: false, rotation: 0, raw: 'none' });
    assert.deepEqual(parseTransform('flipv fliph rotate=270'), { flipH: true, flipV: true, rotation: 270, raw: 'flipv fliph rotate=270' });
    assert.equal(boundaryOf('multipart/x-mixed-replace; boundary=oestreamboundary'), 'oestreamboundary');
    assert.equal(boundaryOf('multipart/x-mixed-replace;boundary="--boundarydonotcross"'), 'boundarydonotcross');
  });
});
