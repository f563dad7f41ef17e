import assert from 'node:assert/strict';
import { createClock, type ManagedClock, type Simulator, startSimulator, type CompletionKeys } from '../../../src/simulator/index';
import { type Reply, request } from './helpers';
import { StandInPrinter, standInFactory } from './stand-in-printer';

describe('simulator service: App APIs', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  let printer: StandInPrinter;
  let conn: CompletionKeys;

  const info = (token = conn.appApiToken): Promise<Reply> => request(`${sim.serviceUrl}/api/appconnection/info`, { headers: token ? { apptoken: token } : {} });
  const post = (path: string, body: object, headers: Record<string, string> = { apptoken: conn.appApiToken }): Promise<Reply> =>
    request(`${sim.serviceUrl}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

  beforeEach(async () => {
    clock = createClock({ mode: 'manual', startMs: Date.UTC(2026, 10, 20, 9, 51, 17, 614) });
    sim = await startSimulator({ clock, startPrinter: standInFactory, printers: [{ kind: 'moonraker', name: 'Voron 2.4' }] });
    printer = sim.printers[0] as StandInPrinter;
    conn = sim.createAppConnection(0);
  });
  afterEach(async () => {
    await sim.close();
    clock.dispose();
  });

  it('Info answers in the production envelope by default', async () => {
    const reply = await info();
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json(), {
      Status: 200,
      Error: '',
      IsUserError: false,
      Result: {
        LastConnectionTimeUtc: '2026-11-20T09:51:17.6140000Z',
        LastDisconnectTimeUtc: '0001-01-01T00:00:00',
        IsOnline: true,
        PrinterName: 'Voron 2.4',
        PrinterLocalIp: '192.168.1.77',
        UserFacingPrinterUrl: `${sim.serviceUrl}/view/Voron%202.4`,
        PrinterLimits: {
          MaxDownloadFileSizeBytes: 104857600,
          MaxUploadFileSizeBytes: 104857600,
          MaxSingleWebcamStreamLengthSeconds: 120,
          MaxTotalWebcamStreamTimePerTimeWindowSeconds: null,
          WebcamStreamTimeWindow: null,
        },
      },
    });
  });

  it('Info answers bare after the switch, and reports an offline printer with its disconnect time', async () => {
    sim.setAppApiShape('bare');
    await info();
    printer.online = false;
    await clock.advance(60_000);
    const body = (await info()).json();
    assert.equal(body.IsOnline, false);
    assert.equal(body.Result, undefined);
    assert.match(String(body.LastDisconnectTimeUtc), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  });

  it('answers 400 without an AppToken, 603 for an unknown or removed one, 604 revoked, 605 without Supporter', async () => {
    const missing = await info('');
    assert.equal(missing.status, 400);
    assert.equal(missing.json().IsUserError, true);
    assert.equal((await info('not-a-token')).status, 603);
    sim.setSupporter(false);
    assert.equal((await info()).status, 605);
    assert.equal((await post('/api/gadget/GetStatusFromAppConnection', {})).status, 605);
    sim.setSupporter(true);
    sim.revoke(conn.id);
    const revoked = await info();
    assert.equal(revoked.status, 604);
    assert.equal(revoked.json().Status, 604);
    const other = sim.createAppConnection(0);
    sim.remove(other.id);
    assert.equal((await info(other.appApiToken)).status, 603);
  });

  it('accepts the AppToken in the JSON body of the POST APIs', async () => {
    const reply = await post('/api/gadget/GetStatusFromAppConnection', { AppToken: conn.appApiToken }, {});
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json().Result, printer.gadget());
  });

  it("Gadget reports the printer's simulation and answers 601 while it is offline", async () => {
    printer.startPrint();
    printer.scriptGadget('warn');
    const body = (await post('/api/gadget/GetStatusFromAppConnection', {})).json<{ Status: number; Result: Record<string, unknown> }>();
    assert.equal(body.Status, 200);
    assert.deepEqual(body.Result, { State: 3, Status: 'Possible Failure', StatusColor: 'y', Rating: 3 });
    sim.setAppApiShape('bare');
    assert.deepEqual((await post('/api/gadget/GetStatusFromAppConnection', {})).json(), body.Result);
    printer.online = false;
    assert.equal((await post('/api/gadget/GetStatusFromAppConnection', {})).status, 601);
  });

  it('creates Live Links, checks ExpirationHours and answers 613 with no print to end with', async () => {
    const created = await post('/api/live/createfromappconnection', {});
    assert.equal(created.status, 200);
    const link = created.json<{ Result: { LiveId: string; Url: string; ShortUrl: string } }>().Result;
    assert.match(link.LiveId, /^[A-Za-z0-9]+$/);
    assert.equal(link.Url, `${sim.serviceUrl}/live/${link.LiveId}`);
    assert.equal((await request(link.Url)).status, 200);
    assert.equal((await request(link.ShortUrl)).status, 302);
    await clock.advance(24 * 3600_000 + 1);
    assert.equal((await request(link.Url)).status, 404, 'expired after the default 24 h');

    assert.equal((await post('/api/live/createfromappconnection', { ExpirationHours: 17520 })).status, 200);
    assert.equal((await post('/api/live/createfromappconnection', { ExpirationHours: 0 })).status, 400);
    assert.equal((await post('/api/live/createfromappconnection', { ExpirationHours: 17521 })).status, 400);
    assert.equal((await post('/api/live/createfromappconnection', { EndWhenCurrentPrintIsComplete: true })).status, 613);
    printer.startPrint();
    assert.equal((await post('/api/live/createfromappconnection', { EndWhenCurrentPrintIsComplete: true, ExpirationHours: 0 })).status, 200);
  });

  it('refuses the wrong method and invalid JSON', async () => {
    assert.equal((await request(`${sim.serviceUrl}/api/appconnection/info`, { method: 'POST', headers: { apptoken: conn.appApiToken } })).status, 405);
    const bad = await request(`${sim.serviceUrl}/api/gadget/GetStatusFromAppConnection`, {
      method: 'POST',
      body: '{',
      headers: { apptoken: conn.appApiToken },
    });
    assert.equal(bad.status, 400);
  });

  it('a Shared Connection has no appApiToken', () => {
    assert.equal(
      Object.keys(sim.sharedConnection(0)).some((k) => k.toLowerCase() === 'appapitoken'),
      false,
    );
  });
});
