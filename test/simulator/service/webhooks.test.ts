import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClock, type ManagedClock, type Simulator, startSimulator, type CompletionKeys } from '../../../src/simulator/index';
import { type Reply, request } from './helpers';
import { StandInPrinter, standInFactory } from './stand-in-printer';

/** A webhook receiver that records what it got and answers with `status` (or never, when hang is set). */
class Receiver {
  readonly received: Array<{ url: string; body: Record<string, unknown> }> = [];
  status = 200;
  hang = false;
  url = '';
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.received.push({ url: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
      if (!this.hang) res.writeHead(this.status).end();
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const DAY = 24 * 3600_000;

describe('simulator service: webhooks', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  let printer: StandInPrinter;
  let conn: CompletionKeys;
  let receiver: Receiver;

  const setWebhook = (body: object): Promise<Reply> =>
    request(`${sim.serviceUrl}/api/appconnection/SetNotificationWebhook`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { apptoken: conn.appApiToken },
    });
  const testWebhook = (): Promise<Reply> => request(`${sim.serviceUrl}/api/appconnection/TestWebhook`, { headers: { apptoken: conn.appApiToken } });

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({ clock, startPrinter: standInFactory, printers: [{ kind: 'moonraker', name: 'Voron 2.4' }] });
    printer = sim.printers[0] as StandInPrinter;
    conn = sim.createAppConnection(0);
    receiver = await new Receiver().start();
  });
  afterEach(async () => {
    await sim.close();
    await receiver.close();
    clock.dispose();
  });

  it('delivers print events to the URL exactly as given, with the section-5 body', async () => {
    assert.equal((await setWebhook({ WebhookUrl: `${receiver.url}/hook?token=s3cret&x=1` })).status, 200);
    printer.startPrint('benchy.gcode');
    await sim.flushWebhooks();
    assert.equal(receiver.received.length, 1);
    const { url, body } = receiver.received[0];
    assert.equal(url, '/hook?token=s3cret&x=1');
    assert.equal(body.PrinterId, printer.printerId);
    assert.equal(body.PrinterName, 'Voron 2.4');
    assert.equal(body.EventType, 1);
    assert.equal(body.FileName, 'benchy.gcode');
    assert.equal(body.SecretKey, undefined, 'SecretKey is for user webhooks only');
    assert.match(String(body.SnapshotUrl), new RegExp(`^${sim.serviceUrl}/snapshot/`));
    assert.match(String(body.QuickViewUrl), new RegExp(`^${sim.serviceUrl}/quickview/`));
    assert.deepEqual(
      sim.webhookDeliveries.map((d) => [d.connectionId, d.status]),
      [[conn.id, 200]],
    );
  });

  it('honours InclusiveEventTypesFilter (empty = all) and stops after Delete', async () => {
    await setWebhook({ WebhookUrl: `${receiver.url}/f`, InclusiveEventTypesFilter: [4] });
    printer.startPrint();
    printer.pause();
    await sim.flushWebhooks();
    assert.deepEqual(
      receiver.received.map((r) => r.body.EventType),
      [4],
    );
    await setWebhook({ WebhookUrl: `${receiver.url}/f`, InclusiveEventTypesFilter: [] });
    printer.resume();
    await sim.flushWebhooks();
    assert.deepEqual(
      receiver.received.map((r) => r.body.EventType),
      [4, 5],
    );
    const deleted = await request(`${sim.serviceUrl}/api/appconnection/DeleteNotificationWebhook`, { method: 'POST', headers: { apptoken: conn.appApiToken } });
    assert.equal(deleted.status, 200);
    printer.cancel();
    await sim.flushWebhooks();
    assert.equal(receiver.received.length, 2);
  });

  it('accepts only HTTPS URLs (HTTP on loopback) and a list of event numbers', async () => {
    assert.equal((await setWebhook({ WebhookUrl: 'http://example.com/hook' })).status, 400);
    assert.equal((await setWebhook({ WebhookUrl: 'not a url' })).status, 400);
    assert.equal((await setWebhook({ WebhookUrl: 'https://example.com/hook' })).status, 200);
    assert.equal((await setWebhook({ WebhookUrl: `${receiver.url}/`, InclusiveEventTypesFilter: ['x'] })).status, 400);
  });

  it('forgets a registration 180 simulated days after the last Set', async () => {
    await setWebhook({ WebhookUrl: `${receiver.url}/a` });
    await clock.advance(179 * DAY);
    await setWebhook({ WebhookUrl: `${receiver.url}/a` });
    await clock.advance(179 * DAY);
    printer.startPrint();
    await sim.flushWebhooks();
    assert.equal(receiver.received.length, 1, 'renewed by the second Set');
    await clock.advance(1 * DAY + 1);
    printer.pause();
    await sim.flushWebhooks();
    assert.equal(receiver.received.length, 1, 'expired');
    assert.equal((await testWebhook()).status, 400);
  });

  it('Test delivers a Test Notification whatever the filter and answers the status it got', async () => {
    assert.equal((await testWebhook()).status, 400, 'nothing set yet');
    await setWebhook({ WebhookUrl: `${receiver.url}/t`, InclusiveEventTypesFilter: [2] });
    receiver.status = 418;
    const reply = await testWebhook();
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json().Result, { StatusCode: 418 });
    assert.equal(receiver.received[0].body.EventType, 16);
  });

  it('disables a registration after more than 5 failures in a row', async () => {
    await setWebhook({ WebhookUrl: `${receiver.url}/d` });
    receiver.status = 500;
    printer.startPrint();
    for (let i = 0; i < 4; i++) {
      printer.pause();
      printer.resume();
    }
    await sim.flushWebhooks();
    assert.equal(receiver.received.length, 6, 'the 7th and later events are not attempted');
    assert.deepEqual(
      sim.webhookDeliveries.map((d) => d.status),
      [500, 500, 500, 500, 500, 500],
    );
  });

  it('a success resets the failure count', async () => {
    await setWebhook({ WebhookUrl: `${receiver.url}/r` });
    receiver.status = 500;
    for (let i = 0; i < 5; i++) printer.emitEvent({ EventType: 6, Progress: i * 10 });
    await sim.flushWebhooks();
    receiver.status = 200;
    printer.emitEvent({ EventType: 6, Progress: 50 });
    await sim.flushWebhooks();
    receiver.status = 500;
    for (let i = 0; i < 5; i++) printer.emitEvent({ EventType: 6, Progress: 60 });
    await sim.flushWebhooks();
    printer.emitEvent({ EventType: 2 });
    await sim.flushWebhooks();
    assert.equal(receiver.received.length, 12, 'still enabled after 5 + 1 ok + 5 failures');
  });

  it('gives up on a slow target after the delivery timeout and records an error', async () => {
    sim.chaos.webhookTimeoutMs = 50;
    receiver.hang = true;
    await setWebhook({ WebhookUrl: `${receiver.url}/slow` });
    printer.startPrint();
    await sim.flushWebhooks();
    assert.equal(sim.webhookDeliveries[0].status, 'error');
  });

  it('delivers to LAN user webhooks with their SecretKey', async () => {
    const id = sim.addUserWebhook(printer, `${receiver.url}/lan`, 'my-lan-secret');
    printer.injectError('Nozzle temperature malfunction', '0300-0100-0001');
    await sim.flushWebhooks();
    assert.deepEqual(receiver.received[0].body, {
      ...receiver.received[0].body,
      PrinterId: printer.printerId,
      SecretKey: 'my-lan-secret',
      EventType: 9,
      Error: 'Nozzle temperature malfunction',
      PlatformErrorCode: '0300-0100-0001',
    });
    assert.equal(sim.webhookDeliveries[0].connectionId, id);
  });

  it('does not deliver for a revoked connection', async () => {
    await setWebhook({ WebhookUrl: `${receiver.url}/x` });
    sim.revoke(conn.id);
    printer.startPrint();
    await sim.flushWebhooks();
    assert.equal(receiver.received.length, 0);
  });
});
