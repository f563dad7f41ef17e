import assert from 'node:assert/strict';
import { OctoEverywhereClient, OctoEverywhereError } from '../../src/client';
import { parseGadget, parseInfo, toDate } from '../../src/client/app-api';
import { json, startRecorder, type Recorder } from '../helpers/recorder';
import { SECRETS } from '../helpers/secrets';
import samples from '../fixtures/production-samples.json';

describe('client: App APIs', () => {
  let service: Recorder;
  let client: OctoEverywhereClient;

  beforeEach(async () => {
    service = await startRecorder();
    client = new OctoEverywhereClient({
      url: 'https://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com',
      authBearerToken: SECRETS.authBearerToken,
      appApiToken: SECRETS.appApiToken,
      serviceUrl: `http://127.0.0.1:${service.port}`,
      appId: 'nodered',
    });
  });
  afterEach(async () => {
    await client.close();
    await service.close();
  });

  it('reads Info in the production (enveloped) shape, with the AppToken header', async () => {
    service.respond((_req, res) => json(res, 200, samples.info.enveloped));
    const info = await client.app.info();
    assert.equal(service.requests[0].method, 'GET');
    assert.equal(service.requests[0].url, '/api/appconnection/info');
    assert.equal(service.requests[0].headers.apptoken, SECRETS.appApiToken);
    assert.equal(service.requests[0].headers.authorization, undefined, 'relay credentials never go to the App APIs');
    assert.equal(info.printerName, 'Voron 2.4');
    assert.equal(info.isOnline, true);
    assert.equal(info.lastDisconnectTime, null, '0001-01-01 means never');
    assert.equal(info.lastConnectionTime?.toISOString(), '2026-11-20T09:51:17.614Z');
    assert.equal(info.limits.maxUploadFileSizeBytes, 524288000);
    assert.equal(info.limits.webcamStreamTimeWindowSeconds, undefined);
  });

  it('reads Info in the documented bare shape and tolerates numbers as strings or floats', () => {
    const bare = parseInfo(samples.info.bare);
    assert.equal(bare.isOnline, false);
    assert.equal(bare.userFacingPrinterUrl, 'https://octoeverywhere.com/view/Voron%202.4');
    const odd = parseInfo({
      PrinterName: 'x',
      IsOnline: 'true',
      PrinterLimits: { MaxDownloadFileSizeBytes: '1048576', MaxSingleWebcamStreamLengthSeconds: 120.0 },
    });
    assert.equal(odd.limits.maxDownloadFileSizeBytes, 1048576);
    assert.equal(odd.limits.maxSingleWebcamStreamLengthSeconds, 120);
    assert.equal(odd.isOnline, true);
  });

  it('treats a date without a zone as UTC', () => {
    assert.equal(toDate('2026-11-19T01:25:30')?.toISOString(), '2026-11-19T01:25:30.000Z');
    assert.equal(toDate('0001-01-01T00:00:00Z'), null);
    assert.equal(toDate('garbage'), null);
  });

  it("reads Gadget status in both shapes without confusing the envelope Status with Gadget's", async () => {
    service.respond((_req, res) => json(res, 200, samples.gadget.enveloped));
    const g = await client.app.gadgetStatus();
    assert.equal(service.requests[0].method, 'POST');
    assert.equal(service.requests[0].url, '/api/gadget/GetStatusFromAppConnection');
    assert.deepEqual(g, { state: 3, stateName: 'active', status: 'Monitoring Possible Failure', statusColor: 'y', rating: 4 });
    assert.deepEqual(parseGadget(samples.gadget.bare), { state: 3, stateName: 'active', status: 'Looking Good', statusColor: 'g', rating: 8 });
    assert.equal(parseGadget({ State: '0', Status: '', StatusColor: 'w' }).stateName, 'disabled');
  });

  it('creates Live Links with the documented body and checks expiry hours first', async () => {
    service.respond((_req, res) => json(res, 200, samples.liveLink.bare));
    const link = await client.app.createLiveLink({ expirationHours: 48 });
    assert.deepEqual(JSON.parse(service.requests[0].body.toString()), { ExpirationHours: 48 });
    assert.deepEqual(link, { liveId: 'q8Zr2Kd7', url: 'https://octoeverywhere.com/live/q8Zr2Kd7', shortUrl: 'https://oe.ink/l/q8Zr2Kd7' });
    await client.app.createLiveLink({ endWhenCurrentPrintIsComplete: true, expirationHours: 5 });
    assert.deepEqual(JSON.parse(service.requests[1].body.toString()), { EndWhenCurrentPrintIsComplete: true });
    for (const bad of [0, 17521, 1.5]) {
      await assert.rejects(client.app.createLiveLink({ expirationHours: bad }), (e: OctoEverywhereError) => e.code === 'OE_INVALID_ARGUMENT');
    }
    assert.equal(service.requests.length, 2);
  });

  it("maps App API error statuses to coded errors (613, 605 with the App ID's link, 400)", async () => {
    for (const [status, code] of [
      [613, 'OE_613'],
      [605, 'OE_605'],
      [400, 'OE_400'],
      [604, 'OE_604'],
      [500, 'OE_500'],
    ] as const) {
      service.respond((_req, res) => json(res, status, { Status: status, Error: 'x' }));
      await assert.rejects(client.app.createLiveLink({ endWhenCurrentPrintIsComplete: true }), (e: OctoEverywhereError) => {
        assert.equal(e.code, code);
        if (status === 605) assert.equal(e.helpUrl, 'https://octoeverywhere.com/appportal/v1/nosupporterperks?appid=nodered');
        return true;
      });
    }
  });

  it('sets, deletes and tests the notification webhook', async () => {
    service.respond((req, res) => json(res, 200, req.url.includes('Test') ? { Status: 200, Result: { WebhookStatusCode: 200 } } : {}));
    await client.app.setNotificationWebhook('https://home.example/hook?token=abc', [7, 8]);
    assert.deepEqual(JSON.parse(service.requests[0].body.toString()), { WebhookUrl: 'https://home.example/hook?token=abc', InclusiveEventTypesFilter: [7, 8] });
    await client.app.setNotificationWebhook('https://home.example/hook', []);
    assert.deepEqual(JSON.parse(service.requests[1].body.toString()), { WebhookUrl: 'https://home.example/hook' });
    await client.app.deleteNotificationWebhook();
    assert.equal(service.requests[2].url, '/api/appconnection/DeleteNotificationWebhook');
    const test = await client.app.testWebhook();
    assert.equal(service.requests[3].method, 'GET');
    assert.equal(test.statusCode, 200);
  });

  it('a Shared Connection says plainly that the App APIs need an App Connection, without sending', async () => {
    const shared = new OctoEverywhereClient({
      url: 'https://shared-abc.octoeverywhere.com',
      authBearerToken: 'x',
      serviceUrl: `http://127.0.0.1:${service.port}`,
    });
    try {
      for (const call of [
        () => shared.app.info(),
        () => shared.app.gadgetStatus(),
        () => shared.app.createLiveLink(),
        () => shared.app.setNotificationWebhook('https://x.example/h'),
      ]) {
        await assert.rejects(call(), (e: OctoEverywhereError) => e.code === 'OE_APP_CONNECTION_REQUIRED' && /App Connection/.test(e.message));
      }
      assert.equal(service.requests.length, 0);
    } finally {
      await shared.close();
    }
  });

  it('cancels a call when its signal aborts', async () => {
    service.respond(() => undefined);
    const controller = new AbortController();
    const pending = client.app.info({ signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(pending, (e: OctoEverywhereError) => e.code === 'OE_ABORTED');
  });

  it('rejects an answer that is not JSON with OE_INVALID_RESPONSE', async () => {
    service.respond((_req, res) => res.end('<html>'));
    await assert.rejects(client.app.info(), (e: OctoEverywhereError) => e.code === 'OE_INVALID_RESPONSE');
  });
});
