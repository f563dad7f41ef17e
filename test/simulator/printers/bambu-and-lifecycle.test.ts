import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { collect, countParts, open, rig, send, type Rig } from './helpers';

describe('simulated Bambu companion', () => {
  let r: Rig;
  afterEach(async () => r.close());

  it('answers any GET outside the command API with the local web API', async () => {
    r = await rig('bambu');
    const reply = await send(r.printer.url, 'GET', '/anything');
    assert.deepEqual(reply.json(), { PluginId: r.printer.printerId, IsConnectedToOctoEverywhere: true, IsConnectedToPrinter: true, IsAccountLinked: true });
    r.printer.online = false;
    r.printer.setHostConnected(false);
    const offline = (await send(r.printer.url, 'GET', '/')).json() as Record<string, boolean>;
    assert.equal(offline.IsConnectedToOctoEverywhere, false);
    assert.equal(offline.IsConnectedToPrinter, false);
  });

  it('points its webcam list at the command API', async () => {
    r = await rig('bambu');
    const list = (await send(r.printer.url, 'GET', '/octoeverywhere-command-api/webcam/list')).json() as {
      Result: { Webcams: Array<{ SnapshotUrl: string }> };
    };
    assert.equal(list.Result.Webcams[0].SnapshotUrl, '/octoeverywhere-command-api/webcam/snapshot?index=0');
  });

  it('keeps serving while flagged offline or timing out (the relay acts on those flags)', async () => {
    r = await rig('bambu');
    r.printer.online = false;
    r.printer.pluginTimeout = true;
    assert.equal((await send(r.printer.url, 'GET', '/octoeverywhere-command-api/ping')).status, 200);
  });
});

describe('simulated printer close()', () => {
  for (const kind of ['octoprint', 'moonraker', 'bambu'] as const) {
    it(`${kind}: ends streams and sockets, stops every timer and frees the port`, async () => {
      const r: Rig = await rig(kind, { webcams: [{ width: 64, height: 48 }] });
      r.printer.startPrint();
      await r.clock.advance(5_000);
      const stream = await open(r.printer.url, '/octoeverywhere-command-api/webcam/stream');
      await collect(stream, (b) => countParts(b, 'oestreamboundary') >= 2);
      const streamEnded = new Promise<void>((resolve) => stream.on('close', resolve));
      stream.resume();
      const socketPath = kind === 'octoprint' ? '/sockjs/websocket' : kind === 'moonraker' ? '/websocket' : undefined;
      let socketClosed: Promise<void> = Promise.resolve();
      if (socketPath) {
        const socket = new WebSocket(`${r.printer.url.replace('http', 'ws')}${socketPath}`);
        await new Promise((resolve) => socket.once('open', resolve));
        if (kind === 'moonraker')
          socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'printer.objects.subscribe', params: { objects: { print_stats: null } }, id: 1 }));
        socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      }
      const url = r.printer.url;
      await r.printer.close();
      await Promise.all([streamEnded, socketClosed]);
      assert.equal(r.clock.pendingTimers, 0, 'no simulation, push or stream timer left');
      await assert.rejects(send(url, 'GET', '/'), /ECONNREFUSED/);
      await r.printer.close(); // twice is fine
      r.clock.dispose();
    });
  }
});
