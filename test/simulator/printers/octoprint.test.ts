import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { PLUGIN_VERSION } from '../../../src/simulator/printers';
import { collect, countParts, nextMessage, open, rig, send, type Rig } from './helpers';

describe('simulated OctoPrint', () => {
  let r: Rig;
  let key: Record<string, string>;
  beforeEach(async () => {
    r = await rig('octoprint', { apiKey: 'TESTKEY', webcams: [{ width: 160, height: 120 }] });
    key = { 'X-Api-Key': 'TESTKEY' };
  });
  afterEach(async () => r.close());

  it('tells its Printer ID without an API key', async () => {
    const reply = await send(r.printer.url, 'GET', '/api/plugin/octoeverywhere');
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json(), { PluginVersion: PLUGIN_VERSION, PrinterId: r.printer.printerId });
    assert.match(r.printer.printerId, /^[A-Z0-9]{60}$/);
  });

  it('requires X-Api-Key: 401 without, 403 with a wrong one; app keys work too', async () => {
    assert.equal((await send(r.printer.url, 'GET', '/api/version')).status, 401);
    assert.equal((await send(r.printer.url, 'GET', '/api/version', { headers: { 'X-Api-Key': 'nope' } })).status, 403);
    const version = await send(r.printer.url, 'GET', '/api/version', { headers: key });
    assert.deepEqual(version.json(), { api: '0.1', server: '1.11.2', text: 'OctoPrint 1.11.2' });
    const appKey = r.printer.createApiKey('Node-RED');
    assert.ok(appKey);
    assert.equal((await send(r.printer.url, 'GET', '/api/printer', { headers: { 'X-Api-Key': appKey } })).status, 200);
    assert.equal((await send(r.printer.url, 'GET', `/api/job?apikey=${appKey}`)).status, 200);
  });

  it('reports job, printer and connection in OctoPrint shapes', async () => {
    r.printer.startPrint('benchy.gcode', { durationSec: 3600 });
    await r.clock.advance(30 * 60_000);
    const job = (await send(r.printer.url, 'GET', '/api/job', { headers: key })).json() as {
      job: { file: { name: string } };
      progress: { completion: number; printTimeLeft: number };
      state: string;
    };
    assert.equal(job.state, 'Printing');
    assert.equal(job.job.file.name, 'benchy.gcode');
    assert.ok(job.progress.completion > 40 && job.progress.completion < 50);
    const printer = (await send(r.printer.url, 'GET', '/api/printer', { headers: key })).json() as {
      temperature: { bed: { actual: number; target: number }; tool0: { target: number } };
      state: { flags: { printing: boolean } };
    };
    assert.equal(printer.temperature.tool0.target, 215);
    assert.equal(printer.state.flags.printing, true);
    const connection = (await send(r.printer.url, 'GET', '/api/connection', { headers: key })).json() as { current: { state: string } };
    assert.equal(connection.current.state, 'Printing');
  });

  it('controls the job through POST /api/job, 409 in a wrong state', async () => {
    const post = (body: unknown) =>
      send(r.printer.url, 'POST', '/api/job', { headers: { ...key, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post({ command: 'cancel' })).status, 409);
    assert.equal((await post({ command: 'start' })).status, 204);
    await r.clock.advance(120_000);
    assert.equal((await post({ command: 'pause', action: 'pause' })).status, 204);
    assert.equal(r.printer.state, 'paused');
    assert.equal((await post({ command: 'pause', action: 'resume' })).status, 204);
    assert.equal((await post({ command: 'cancel' })).status, 204);
    assert.equal(r.printer.state, 'idle');
  });

  it('lists files and keeps a multipart upload', async () => {
    const boundary = '----simtest';
    const body = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="part.gcode"\r\nContent-Type: application/octet-stream\r\n\r\nG28\r\nG1 X1\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="print"\r\n\r\ntrue\r\n--${boundary}--\r\n`,
    );
    const up = await send(r.printer.url, 'POST', '/api/files/local', {
      headers: { ...key, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    assert.equal(up.status, 201);
    assert.equal((up.json() as { files: { local: { name: string } } }).files.local.name, 'part.gcode');
    assert.deepEqual(r.printer.files.get('gcode', 'part.gcode')?.data.toString(), 'G28\r\nG1 X1');
    assert.equal(r.printer.state, 'warmingup', 'print=true starts it');
    const files = (await send(r.printer.url, 'GET', '/api/files', { headers: key })).json() as { files: Array<{ name: string; origin: string }> };
    assert.ok(files.files.some((f) => f.name === 'part.gcode' && f.origin === 'local'));
  });

  it('pushes connected, then history/current and events after {"auth": "user:session"}', async () => {
    const login = await send(r.printer.url, 'POST', '/api/login', { headers: { ...key, 'Content-Type': 'application/json' }, body: '{"passive":true}' });
    assert.equal(login.status, 200);
    const { name, session } = login.json() as { name: string; session: string };
    const socket = new WebSocket(`${r.printer.url.replace('http', 'ws')}/sockjs/websocket`);
    const connected = await nextMessage<{ connected: { version: string } }>(socket, (m) => 'connected' in m);
    assert.equal(connected.connected.version, '1.11.2');
    const history = nextMessage(socket, (m) => 'history' in m);
    socket.send(JSON.stringify({ auth: `${name}:${session}` }));
    await history;
    const started = nextMessage<{ event: { type: string; payload: { name: string } } }>(socket, (m) => 'event' in m);
    r.printer.startPrint('benchy.gcode');
    const event = await started;
    assert.deepEqual([event.event.type, event.event.payload.name], ['PrintStarted', 'benchy.gcode']);
    const current = nextMessage<{ current: { state: { text: string } } }>(socket, (m) => 'current' in m);
    await r.clock.advance(1000);
    assert.equal((await current).current.state.text, 'Printing');
    const cancelled = nextMessage<{ event: { type: string; payload: { reason: string } } }>(
      socket,
      (m) => 'event' in m && (m.event as { type: string }).type === 'PrintFailed',
    );
    r.printer.cancel();
    assert.equal((await cancelled).event.payload.reason, 'cancelled');
    socket.close();
  });

  it('ignores a socket auth with an unknown session (no current pushes)', async () => {
    const socket = new WebSocket(`${r.printer.url.replace('http', 'ws')}/sockjs/websocket`);
    const received: string[] = [];
    socket.on('message', (d) => received.push(Object.keys(JSON.parse(d.toString()))[0]));
    await nextMessage(socket, (m) => 'connected' in m);
    socket.send(JSON.stringify({ auth: 'admin:forged' }));
    r.printer.startPrint();
    await r.clock.advance(5_000);
    assert.deepEqual(received, ['connected']);
    socket.close();
  });

  it('serves mjpg-streamer snapshots and streams with boundary boundarydonotcross', async () => {
    const snap = await send(r.printer.url, 'GET', '/webcam/?action=snapshot');
    assert.equal(snap.status, 200);
    assert.equal(snap.headers['content-type'], 'image/jpeg');
    assert.equal(snap.body[0], 0xff);
    assert.equal(snap.body[1], 0xd8);
    const res = await open(r.printer.url, '/webcam/?action=stream');
    assert.equal(res.headers['content-type'], 'multipart/x-mixed-replace; boundary=boundarydonotcross');
    const bytes = await collect(res, (b) => countParts(b, 'boundarydonotcross') >= 1 && b.toString('latin1').endsWith('\r\n'));
    assert.match(bytes.toString('latin1'), /^--boundarydonotcross\r\nContent-Type: image\/jpeg\r\nContent-Length: \d+\r\nX-Timestamp: [\d.]+\r\n\r\n\xff\xd8/);
    assert.equal(countParts(bytes, 'boundarydonotcross'), 1, 'mjpg-streamer sends the first frame once');
    res.destroy();
    assert.equal((await send(r.printer.url, 'GET', '/webcam2/?action=snapshot')).status, 404);
  });
});
