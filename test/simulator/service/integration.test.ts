// The service in front of the project's real simulated printers (src/simulator/printers).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createClock, localhostLookup, type ManagedClock, type Simulator, startSimulator } from '../../../src/simulator/index';
import { bearer, request } from './helpers';

describe('simulator service: with the real simulated printers', () => {
  let clock: ManagedClock;
  let sim: Simulator;

  before(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({ clock });
  });
  after(async () => {
    await sim.close();
    clock.dispose();
  });

  it('seeds Voron 2.4 (moonraker), Prusa MK3S (octoprint) and P1S (bambu) with 60-char Printer IDs', () => {
    assert.deepEqual(
      sim.printers.map((p) => [p.name, p.kind]),
      [
        ['Voron 2.4', 'moonraker'],
        ['Prusa MK3S', 'octoprint'],
        ['P1S', 'bambu'],
      ],
    );
    for (const p of sim.printers) assert.match(p.printerId, /^[A-Z0-9]{60}$/);
  });

  it("relays the printers' native and command APIs", async () => {
    const voron = sim.createAppConnection(0);
    const info = await request(`${voron.url}/printer/info`, { headers: { authorization: bearer(voron.authBearerToken) } });
    assert.equal(info.status, 200);
    assert.ok(info.json().result);
    const status = await request(`${voron.url}/octoeverywhere-command-api/status`, { headers: { authorization: bearer(voron.authBearerToken) } });
    assert.equal(status.status, 200);
    assert.equal(status.json().Status, 200);

    const prusa = sim.createAppConnection(1, { octoPrintApiKeyAppName: 'Node-RED' });
    assert.ok(prusa.octoPrintApiKey);
    const auth = bearer(prusa.authBearerToken);
    assert.equal((await request(`${prusa.url}/api/version`, { headers: { authorization: auth, 'x-api-key': prusa.octoPrintApiKey ?? '' } })).status, 200);
    assert.notEqual((await request(`${prusa.url}/api/version`, { headers: { authorization: auth } })).status, 200, "the printer's own auth still applies");
  });

  it("relays Moonraker's JSON-RPC WebSocket", async () => {
    const voron = sim.createAppConnection(0);
    const ws = new WebSocket(`${voron.url.replace('http', 'ws')}/websocket`, {
      headers: { authorization: bearer(voron.authBearerToken) },
      lookup: localhostLookup,
    } as WebSocket.ClientOptions);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'server.connection.identify', params: {}, id: 7 }));
    const reply = await new Promise<Record<string, unknown>>((resolve) =>
      ws.once('message', (d) => resolve(JSON.parse(d.toString()) as Record<string, unknown>)),
    );
    assert.equal(reply.id, 7);
    ws.close();
  });

  it('reports Gadget from the print simulation and delivers its events to a webhook', async () => {
    const received: Array<Record<string, unknown>> = [];
    const target = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>);
        res.end();
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    try {
      const p1s = sim.createAppConnection(2);
      const hook = `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`;
      const set = await request(`${sim.serviceUrl}/api/appconnection/SetNotificationWebhook`, {
        method: 'POST',
        body: JSON.stringify({ AppToken: p1s.appApiToken, WebhookUrl: hook, InclusiveEventTypesFilter: [1] }),
      });
      assert.equal(set.status, 200);
      assert.ok(sim.printers[2].startPrint('cube.3mf'));
      await clock.advance(5_000);
      await sim.flushWebhooks();
      assert.equal(received[0]?.EventType, 1);
      assert.equal(received[0]?.PrinterName, 'P1S');
      const gadget = await request(`${sim.serviceUrl}/api/gadget/GetStatusFromAppConnection`, { method: 'POST', headers: { apptoken: p1s.appApiToken } });
      assert.deepEqual(gadget.json().Result, sim.printers[2].gadget());
    } finally {
      target.closeAllConnections();
      await new Promise<void>((resolve) => target.close(() => resolve()));
    }
  });
});
