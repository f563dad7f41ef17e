// The live connection's supervision against the simulator: failed upgrades, heartbeats, reconnects
// (drops, relay restarts, printer link drops, Klipper restarts) and what they must not do — re-fire
// print events or reconnect after a code that needs the user.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { AppConnection, type LiveState, realClock } from '../../src/client';
import { openPrinterSocket } from '../../src/client/live/printer-socket';
import { type LiveRig, names, record, type Recorder, startRig, tick, until } from './live-helpers';

const stopped = (r: Recorder): LiveState[] => r.states.filter((s) => s.status === 'stopped');

/** Moves the manual clock a second at a time, letting socket I/O run, until `done()` (or `maxSec`). */
async function run(rig: LiveRig, maxSec: number, done: () => boolean = () => false): Promise<void> {
  for (let s = 0; s < maxSec && !done(); s++) {
    await rig.clock.advance(1000);
    for (let i = 0; i < 5; i++) await tick();
  }
}

/** Until the print is printing and its first progress event has come. */
async function printing(rig: LiveRig, rec: Recorder): Promise<void> {
  rig.printer.startPrint('long.gcode', { durationSec: 3600, totalLayers: 100 });
  await run(rig, 900, () => rig.printer.state === 'printing' && rec.events.some((e) => e.event === 'print-started'));
  assert.equal(rig.printer.state, 'printing');
}

describe('client live: supervision', () => {
  let rig: LiveRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  for (const kind of ['moonraker', 'bambu'] as const) {
    it(`${kind}: 606 on the upgrade stops with one error, the same as on HTTP, and never retries`, async () => {
      rig = await startRig(kind, { connection: { authBearerToken: 'not-the-token' } });
      const live = rig.live();
      const rec = record(live);
      live.start();
      await until(() => stopped(rec).length > 0, 'the stop');
      const state = stopped(rec)[0];
      assert.ok(state.status === 'stopped' && state.error);
      assert.equal(state.error.code, 'OE_606');
      assert.equal(state.error.behaviour, 'reconnect');
      assert.equal(state.error.status, 606);
      assert.equal(live.pendingTimers, 0);
      await run(rig, 120);
      assert.equal(rec.states.filter((s) => s.status === 'connecting').length, 1, 'one attempt only');
      assert.equal(stopped(rec).length, 1, 'one error');
    });
  }

  for (const kind of ['moonraker', 'elegoo-cc2'] as const) {
    it(`${kind}: an offline printer (601 on the upgrade) is retried with back-off until it is back; stop closes cleanly`, async () => {
      rig = await startRig(kind);
      const r = rig;
      r.printer.online = false;
      const live = r.live();
      const rec = record(live);
      live.start();
      await until(() => rec.states.some((s) => s.status === 'connecting' && s.error !== undefined), 'the refused upgrade');
      const refused = rec.states.find((s) => s.status === 'connecting' && s.error !== undefined);
      assert.ok(
        refused?.status === 'connecting' && refused.error?.code === 'OE_601' && refused.error.behaviour === 'offline' && refused.retryInMs !== undefined,
      );
      assert.equal(live.pendingTimers, 1, 'one retry timer');
      r.printer.online = true;
      await run(r, 60, () => rec.snapshots.length > 0);
      assert.equal(live.state.status, 'connected');
      assert.ok(r.sim.socketChaos.openSockets > 0);
      live.stop();
      assert.equal(live.pendingTimers, 0);
      await until(() => r.sim.socketChaos.openSockets === 0, 'the socket to close');
      assert.equal(stopped(rec).length, 1);
      assert.equal((stopped(rec)[0] as { error?: unknown }).error, undefined, 'a stop of our own carries no error');
    });
  }

  it('moonraker: a stalled socket is noticed within two heartbeats and replaced', async () => {
    rig = await startRig('moonraker');
    const r = rig;
    const live = r.live({ heartbeatMs: 10_000 });
    const rec = record(live);
    live.start();
    await until(() => rec.snapshots.length > 0, 'the first snapshot');
    r.sim.chaos.stallSockets = true;
    await run(r, 25, () => rec.states.some((s) => s.status === 'connecting' && s.error?.code === 'OE_SOCKET_STALLED'));
    const noticed = rec.states.find((s) => s.status === 'connecting' && s.error?.code === 'OE_SOCKET_STALLED');
    assert.ok(noticed, rec.states.map((s) => s.status).join(','));
    r.sim.chaos.stallSockets = false;
    const before = rec.snapshots.length;
    r.printer.startPrint('after-stall.gcode', { durationSec: 600 });
    await run(r, 120, () => live.state.status === 'connected' && rec.snapshots.length > before);
    assert.equal(live.state.status, 'connected');
    assert.ok(rec.snapshots.length > before, 'statuses flow again on the new socket');
  });

  for (const answered of [true, false]) {
    it(`moonraker: ${answered ? 'where the edge answers pings, a heartbeat sends the printer nothing else' : 'where the edge lets pings go unanswered, a server.info each heartbeat keeps the socket'}`, async () => {
      rig = await startRig('moonraker');
      const r = rig;
      r.sim.chaos.unansweredPings = !answered;
      const live = r.live({ heartbeatMs: 10_000 });
      const rec = record(live);
      live.start();
      await until(() => rec.snapshots.length > 0, 'the first snapshot');
      // Past the first heartbeat: before its ping nothing says whether pings are answered.
      await run(r, 13);
      const before = r.sim.socketChaos.framesToPrinters;
      await run(r, 60);
      const sent = r.sim.socketChaos.framesToPrinters - before;
      // An idle printer with its state pushed: only keepalives would cross.
      if (answered) assert.equal(sent, 0, 'the pongs prove the socket');
      else assert.ok(sent >= 5 && sent <= 7, `a keepalive call every 10 s: ${sent} in 60 s`);
      assert.equal(live.state.status, 'connected');
      assert.equal(rec.states.filter((s) => s.status === 'connecting').length, 1, 'the same socket throughout');
    });
  }

  for (const kind of ['moonraker', 'octoprint'] as const) {
    it(`${kind}: a socket opened while the relay is stalled asks again once the stall ends, on the same socket`, async () => {
      rig = await startRig(kind);
      const r = rig;
      r.sim.chaos.stallSockets = true;
      const live = r.live({ heartbeatMs: 10_000 });
      const rec = record(live);
      live.start();
      // Open, but the opening requests (identify/subscribe, or subscribe/auth) were lost in the stall.
      await run(r, 5, () => live.state.status === 'connected');
      assert.equal(live.state.status, 'connected');
      await run(r, 3);
      assert.equal(rec.snapshots.length, 0);
      r.sim.chaos.stallSockets = false;
      // The next heartbeat finds the pong and no status yet: it sends them again.
      await run(r, 15, () => rec.snapshots.length > 0);
      assert.ok(rec.snapshots.length > 0, 'statuses flow once the stall ends');
      assert.equal(rec.states.filter((s) => s.status === 'connecting').length, 1, 'the same socket: no reconnect was needed');
    });
  }

  it("octoprint: the frame that comes with the upgrade's answer is not lost (the version in OctoPrint's `connected`)", async () => {
    rig = await startRig('octoprint');
    const live = rig.live();
    const rec = record(live);
    live.start();
    await until(() => rec.snapshots.length > 0, 'the first snapshot');
    assert.match(String(rec.snapshots[0]?.platformVersion), /^\d+\.\d+/);
  });

  it('bambu: a stalled MQTT proxy session (no PINGRESP) is noticed and replaced', async () => {
    rig = await startRig('bambu');
    const r = rig;
    const live = r.live({ heartbeatMs: 10_000 });
    const rec = record(live);
    live.start();
    await until(() => rec.snapshots.length > 0, 'the first snapshot');
    r.sim.chaos.stallSockets = true;
    await run(r, 30, () => rec.states.some((s) => s.status === 'connecting' && s.error !== undefined));
    const noticed = rec.states.find((s) => s.status === 'connecting' && s.error !== undefined);
    assert.ok(
      noticed?.status === 'connecting' && noticed.error?.code === 'OE_SOCKET_STALLED',
      rec.states.map((s) => (s.status === 'connecting' ? s.error?.code : s.status)).join(','),
    );
    r.sim.chaos.stallSockets = false;
    const before = rec.snapshots.length;
    r.printer.startPrint('after-stall.3mf', { durationSec: 600 });
    await run(r, 120, () => live.state.status === 'connected' && rec.snapshots.length > before);
    assert.ok(rec.snapshots.length > before);
  });

  for (const kind of ['moonraker', 'octoprint', 'bambu', 'elegoo-cc2'] as const) {
    it(`${kind}: a relay restart and a dropped socket mid-print re-fire nothing; the print's events go on`, async () => {
      rig = await startRig(kind);
      const r = rig;
      // The shortest back-off (1 s), so attempts certainly meet the restarting relay's refusals.
      const live = r.live({ random: () => 0 });
      const rec = record(live);
      live.start();
      await until(() => rec.snapshots.length > 0, 'the first snapshot');
      await printing(r, rec);

      r.sim.socketChaos.restartRelay();
      await run(
        r,
        90,
        () =>
          rec.states.some((s) => s.status === 'connecting' && s.error !== undefined) &&
          live.state.status === 'connected' &&
          rec.snapshots.at(-1)?.printing === true,
      );
      assert.equal(live.state.status, 'connected');
      // The refused upgrades were the HTTP 601 error: offline, retried.
      const refused = rec.states.find((s) => s.status === 'connecting' && s.error?.code === 'OE_601');
      assert.ok(
        refused?.status === 'connecting' && refused.error?.behaviour === 'offline',
        rec.states.map((s) => (s.status === 'connecting' ? s.error?.code : s.status)).join(','),
      );
      r.sim.socketChaos.drop();
      await run(r, 90, () => rec.states.filter((s) => s.status === 'connecting' && s.error !== undefined).length >= 2 && live.state.status === 'connected');
      assert.equal(live.state.status, 'connected');
      const progress = rec.events.filter((e) => e.event === 'print-progress').length;
      await run(r, 900, () => rec.events.filter((e) => e.event === 'print-progress').length > progress);
      assert.equal(rec.events.filter((e) => e.event === 'print-started').length, 1, names(rec.events).join(','));
      assert.ok(rec.events.filter((e) => e.event === 'print-progress').length > progress, 'the print is still followed');
      assert.equal(stopped(rec).length, 0);
    });
  }

  it('moonraker: a redeploy mid-print (a new live connection) announces nothing already true', async () => {
    rig = await startRig('moonraker');
    const r = rig;
    const first = r.live();
    const rec1 = record(first);
    first.start();
    await until(() => rec1.snapshots.length > 0, 'the first snapshot');
    await printing(r, rec1);
    first.stop();
    assert.equal(first.pendingTimers, 0);
    const second = r.live();
    const rec2 = record(second);
    second.start();
    await until(() => rec2.snapshots.length > 0, "the second connection's snapshot");
    await run(r, 900, () => rec2.events.some((e) => e.event === 'print-progress'));
    assert.ok(rec2.events.some((e) => e.event === 'print-progress'));
    assert.equal(rec2.events.filter((e) => e.event === 'print-started').length, 0, names(rec2.events).join(','));
  });

  it('bambu: when the printer link drops the proxy closes; the session comes back once the link does', async () => {
    rig = await startRig('bambu');
    const r = rig;
    const live = r.live();
    const rec = record(live);
    live.start();
    await until(() => rec.snapshots.length > 0, 'the first snapshot');
    r.sim.socketChaos.setPrinterLink(0, false);
    await until(() => live.state.status === 'connecting', 'the session to close');
    // While the link is down the proxy answers CONNACK 3: offline, retried.
    await run(r, 60, () => rec.states.some((s) => s.status === 'connecting' && s.error?.code === 'OE_MQTT_PRINTER_UNAVAILABLE'));
    assert.ok(
      rec.states.some((s) => s.status === 'connecting' && s.error?.behaviour === 'offline'),
      rec.states.map((s) => (s.status === 'connecting' ? s.error?.code : s.status)).join(','),
    );
    r.sim.socketChaos.setPrinterLink(0, true);
    const before = rec.snapshots.length;
    r.printer.startPrint('relinked.3mf', { durationSec: 600 });
    await run(r, 120, () => live.state.status === 'connected' && rec.snapshots.length > before);
    assert.equal(live.state.status, 'connected');
    assert.ok(rec.snapshots.length > before);
    assert.equal(stopped(rec).length, 0);
  });

  it('bambu: a wrong serial number stops with one error after two tries instead of knocking every client of the printer off again and again', async () => {
    rig = await startRig('bambu');
    const r = rig;
    const good = r.live({ random: () => 0 });
    const goodRec = record(good);
    good.start();
    await until(() => goodRec.snapshots.length > 0, 'the good session');
    const wrong = r.live({ serialNumber: '01P00A999999999' });
    const wrongRec = record(wrong);
    wrong.start();
    await run(r, 60, () => stopped(wrongRec).length > 0);
    await run(r, 60);
    const state = stopped(wrongRec)[0];
    assert.ok(state?.status === 'stopped' && state.error?.code === 'OE_MQTT_SUBSCRIBE_REFUSED', wrongRec.states.map((s) => s.status).join(','));
    assert.match(state.error.message, /serial number/);
    // Two sessions ended right after subscribing (one could be a network drop), then no more attempts.
    assert.equal(wrongRec.states.filter((s) => s.status === 'connected').length, 2);
    // Each wrong subscription dropped the shared upstream; the good session came back and stayed.
    assert.ok(goodRec.states.filter((s) => s.status === 'connecting' && s.error?.code === 'OE_SOCKET_CLOSED').length <= 2);
    assert.equal(good.state.status, 'connected');
  });

  it('moonraker: says when Klipper disconnects and subscribes again when it is ready', async () => {
    rig = await startRig('moonraker');
    const r = rig;
    const live = r.live();
    const rec = record(live);
    live.start();
    await until(() => rec.snapshots.length > 0, 'the first snapshot');
    r.printer.setHostConnected(false);
    await until(() => rec.hosts.includes('disconnected'), 'the disconnect notice');
    r.printer.setHostConnected(true);
    await until(() => rec.hosts.includes('ready'), 'the ready notice');
    const before = rec.snapshots.length;
    r.printer.startPrint('after-restart.gcode', { durationSec: 600 });
    await run(r, 30, () => rec.snapshots.length > before && rec.events.some((e) => e.event === 'print-started'));
    assert.ok(
      rec.events.some((e) => e.event === 'print-started'),
      'the new subscription reports the print',
    );
    assert.equal(live.state.status, 'connected');
  });

  it('moonraker: connecting while Klipper is down waits for it (asking every 2 s), then subscribes', async () => {
    rig = await startRig('moonraker');
    const r = rig;
    r.printer.setHostConnected(false);
    const live = r.live();
    const rec = record(live);
    live.start();
    await until(() => rec.hosts.includes('disconnected'), 'the notice that Klipper is not there');
    await run(r, 5);
    assert.equal(rec.snapshots.length, 0, 'no status without Klipper');
    r.printer.setHostConnected(true);
    await run(r, 5, () => rec.snapshots.length > 0);
    assert.ok(rec.snapshots.length > 0);
    assert.equal(live.state.status, 'connected');
  });

  it('elegoo-cc2: stays registered with the printer past its 65 s client timeout (PING every heartbeat)', async () => {
    rig = await startRig('elegoo-cc2');
    const r = rig;
    const live = r.live();
    const rec = record(live);
    live.start();
    await until(() => rec.snapshots.length > 0, 'the first snapshot');
    const broker = r.printer.mqtt as unknown as { registeredClients: string[] };
    assert.equal(broker.registeredClients.length, 1);
    await run(r, 200);
    assert.equal(broker.registeredClients.length, 1, 'still registered');
    r.printer.startPrint('kept.gcode', { durationSec: 600 });
    await run(r, 5, () => rec.events.some((e) => e.event === 'print-started'));
    assert.ok(rec.events.some((e) => e.event === 'print-started'));
    assert.equal(rec.states.filter((s) => s.status === 'connecting').length, 1, 'one session all along');
  });

  it('octoprint: without an API key the live socket says so once and does not try', async () => {
    rig = await startRig('octoprint', { apiKey: false });
    const live = rig.live();
    const rec = record(live);
    live.start();
    live.start();
    const unsupported = rec.states.filter((s) => s.status === 'unsupported');
    assert.equal(unsupported.length, 2, 'said once per start, without a socket');
    assert.ok(unsupported[0].status === 'unsupported' && unsupported[0].code === 'OE_LIVE_NEEDS_API_KEY');
    assert.equal(rec.states.filter((s) => s.status === 'connecting').length, 0);
    assert.equal(live.pendingTimers, 0);
  });

  it('bambu: without a serial number the session is unsupported (no API returns it)', async () => {
    rig = await startRig('bambu');
    const live = rig.live({ serialNumber: '' });
    const rec = record(live);
    live.start();
    assert.ok(rec.states[0]?.status === 'unsupported' && rec.states[0].code === 'OE_LIVE_NEEDS_SERIAL');
  });

  it('moonraker: uses the LAN URL while it answers', async () => {
    rig = await startRig('moonraker', {});
    const lan = new AppConnection({ url: rig.connection.baseUrl, authBearerToken: 'unused-on-the-lan', localUrl: rig.printer.url });
    const live = rig.live({ connection: lan });
    const rec = record(live);
    live.start();
    await until(() => rec.snapshots.length > 0, 'the first snapshot');
    assert.ok(live.state.status === 'connected' && live.state.via === 'local');
    live.stop();
    await lan.close();
  });
});

describe('client live: the printer socket', () => {
  it('sends the LAN only the printer key, never the OctoEverywhere credentials; falls back to the relay when the LAN is down', async () => {
    const seen: Array<Record<string, string | string[] | undefined>> = [];
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (_ws, req) => seen.push(req.headers));
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as AddressInfo).port;
    const relay = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    const relayed: Array<Record<string, string | string[] | undefined>> = [];
    relay.on('connection', (_ws, req) => relayed.push(req.headers));
    await new Promise((resolve) => relay.once('listening', resolve));
    const relayPort = (relay.address() as AddressInfo).port;
    const connection = new AppConnection({
      url: `http://app-lan.localhost:${relayPort}`,
      authBearerToken: 'oe-secret-token',
      octoPrintApiKey: 'printer-key',
      localUrl: `http://127.0.0.1:${port}`,
    });
    const ctx = { connection, clock: realClock, clientName: 't', preferLocal: true, heartbeatMs: 15_000, memo: {}, local: { downUntilMs: 0 } };
    try {
      const lan = await openPrinterSocket(ctx, '/websocket', { protocols: ['a', 'b'] });
      assert.equal(lan.via, 'local');
      lan.ws.terminate();
      await until(() => seen.length > 0, 'the LAN handshake');
      assert.equal(seen[0].authorization, undefined);
      assert.equal(seen[0]['x-api-key'], 'printer-key');
      assert.equal(seen[0]['sec-websocket-protocol'], 'a,b');
      // The one LAN header rule, the HTTP requests' too; a copy, so no caller can change it.
      connection.localAuthHeaders().Authorization = 'x';
      assert.deepEqual(connection.localAuthHeaders(), { 'X-Api-Key': 'printer-key' });

      await new Promise((resolve) => server.close(resolve));
      const relayedSocket = await openPrinterSocket(ctx, '/websocket');
      assert.equal(relayedSocket.via, 'relay');
      relayedSocket.ws.terminate();
      await until(() => relayed.length > 0, 'the relay handshake');
      assert.equal(relayed[0].authorization, 'Bearer oe-secret-token');
      assert.ok(ctx.local.downUntilMs > Date.now(), 'the LAN is left alone for a while');
    } finally {
      server.close();
      relay.close();
      await connection.close();
    }
  });
});
