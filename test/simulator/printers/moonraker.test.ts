import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { nextMessage, rig, send, type Rig } from './helpers';

interface RpcReply {
  jsonrpc: string;
  id?: number;
  result?: { eventtime: number; status: Record<string, Record<string, unknown>> };
  error?: { code: number; message: string };
}

describe('simulated Moonraker', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig('moonraker', { webcams: [{ name: 'Nozzle Cam', flipV: true, width: 160, height: 120 }] });
  });
  afterEach(async () => r.close());

  const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const reply = await send(r.printer.url, 'GET', path);
    return { status: reply.status, body: reply.json() as Record<string, unknown> };
  };

  it('answers /printer/info', async () => {
    const { body } = await get('/printer/info');
    const info = body.result as { state: string; app: string; software_version: string };
    assert.equal(info.state, 'ready');
    assert.equal(info.app, 'Klipper');
  });

  it('answers object queries in Moonraker shapes, with attribute filters', async () => {
    r.printer.startPrint('benchy.gcode', { durationSec: 1000, totalLayers: 50 });
    await r.clock.advance(600_000);
    const { body } = await get('/printer/objects/query?print_stats&virtual_sdcard');
    const status = (body.result as { status: { print_stats: Record<string, unknown>; virtual_sdcard: Record<string, unknown> } }).status;
    assert.deepEqual(Object.keys(status).sort(), ['print_stats', 'virtual_sdcard']);
    assert.equal(status.print_stats.state, 'printing');
    assert.equal(status.print_stats.filename, 'benchy.gcode');
    assert.deepEqual(Object.keys(status.print_stats.info as object), ['total_layer', 'current_layer']);
    assert.ok((status.virtual_sdcard.progress as number) > 0.4 && (status.virtual_sdcard.progress as number) < 0.6);
    assert.equal(status.virtual_sdcard.is_active, true);
    const filtered = await get('/printer/objects/query?print_stats=state,filename');
    assert.deepEqual((filtered.body.result as { status: unknown }).status, { print_stats: { state: 'printing', filename: 'benchy.gcode' } });
  });

  it('lists webcams', async () => {
    const { body } = await get('/server/webcams/list');
    const [cam] = (body.result as { webcams: Array<Record<string, unknown>> }).webcams;
    assert.equal(cam.name, 'Nozzle Cam');
    assert.equal(cam.snapshot_url, '/webcam/?action=snapshot');
    assert.equal(cam.stream_url, '/webcam/?action=stream');
    assert.equal(cam.flip_vertical, true);
    assert.equal((await send(r.printer.url, 'GET', '/webcam/?action=snapshot')).headers['content-type'], 'image/jpeg');
  });

  it('keeps the Printer ID in the octoeverywhere database namespace', async () => {
    const { status, body } = await get('/server/database/item?namespace=octoeverywhere&key=public.printerId');
    assert.equal(status, 200);
    assert.deepEqual(body, { result: { namespace: 'octoeverywhere', key: 'public.printerId', value: r.printer.printerId } });
    assert.equal((await get('/server/database/item?namespace=octoeverywhere&key=other')).status, 404);
    assert.equal((await get('/server/database/item?namespace=elsewhere&key=public.printerId')).status, 404);
  });

  it('speaks JSON-RPC 2.0 over /websocket: subscribe, notify_status_update, notify_klippy_*', async () => {
    const socket = new WebSocket(`${r.printer.url.replace('http', 'ws')}/websocket`);
    await new Promise((resolve) => socket.once('open', resolve));
    const subscribed = nextMessage<RpcReply>(socket, (m) => m.id === 1);
    socket.send(
      JSON.stringify({ jsonrpc: '2.0', method: 'printer.objects.subscribe', params: { objects: { print_stats: ['state'], virtual_sdcard: null } }, id: 1 }),
    );
    const reply = await subscribed;
    assert.deepEqual(reply.result?.status.print_stats, { state: 'standby' });
    assert.equal(reply.result?.status.virtual_sdcard.is_active, false);

    const update = nextMessage<{ method: string; params: [Record<string, Record<string, unknown>>, number] }>(
      socket,
      (m) => m.method === 'notify_status_update',
    );
    r.printer.startPrint();
    const notification = await update;
    assert.deepEqual(notification.params[0].print_stats, { state: 'printing' }, 'only the changed, subscribed attributes');
    assert.equal(typeof notification.params[1], 'number');

    const down = nextMessage(socket, (m) => m.method === 'notify_klippy_disconnected');
    r.printer.setHostConnected(false);
    await down;
    const ready = nextMessage(socket, (m) => m.method === 'notify_klippy_ready');
    r.printer.setHostConnected(true);
    await ready;

    const unknown = nextMessage<RpcReply>(socket, (m) => m.id === 2);
    socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'no.such.method', id: 2 }));
    assert.equal((await unknown).error?.code, -32601);
    const info = nextMessage<RpcReply>(socket, (m) => m.id === 3);
    socket.send(
      JSON.stringify({ jsonrpc: '2.0', method: 'server.database.get_item', params: { namespace: 'octoeverywhere', key: 'public.printerId' }, id: 3 }),
    );
    assert.deepEqual((await info).result, { namespace: 'octoeverywhere', key: 'public.printerId', value: r.printer.printerId });
    const parseError = nextMessage<RpcReply>(socket, (m) => m.id === null);
    socket.send('{nope');
    assert.equal((await parseError).error?.code, -32700);
    socket.close();
  });

  it('requires X-Api-Key over REST and the socket when configured with a key', async () => {
    await r.close();
    r = await rig('moonraker', { apiKey: 'MOONKEY' });
    assert.equal((await send(r.printer.url, 'GET', '/printer/info')).status, 401);
    assert.equal((await send(r.printer.url, 'GET', '/printer/info', { headers: { 'X-Api-Key': 'MOONKEY' } })).status, 200);
    const refused = new WebSocket(`${r.printer.url.replace('http', 'ws')}/websocket`);
    const status = await new Promise<number | undefined>((resolve) => refused.on('unexpected-response', (_req, res) => resolve(res.statusCode)));
    assert.equal(status, 401);
    // Aborting a refused handshake makes ws report an error; that is the expected outcome here.
    refused.on('error', () => undefined);
    refused.terminate();
  });
});
