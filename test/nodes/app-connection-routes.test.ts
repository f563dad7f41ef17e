// The config node's admin routes in the real runtime (node-red-node-test-helper), against the
// simulator: portal start → callback → one read of the result, paste, Find Printer ID, Test connection.
// Permissions are tested with a real Node-RED and adminAuth in app-connection-permissions.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { helper, nodeModule } from '../helpers/nodes';
import { freePort } from '../helpers/node-red-process';
import { json, type Recorder, startRecorder } from '../helpers/recorder';
import { secretsIn } from '../helpers/secrets';
import { credentialsOf, sharedConnectionCredentials, watchConnectionSecrets } from '../helpers/simulator';
import { type CompletionKeys, type Simulator, startSimulator } from '../../src/simulator';
import { registerPortalRoutes } from '../../src/nodes/shared/portal-routes';
import { PLUGIN_VERSION } from '../../src/simulator/printers/platform';
import type { NodeAPI } from '../../src/nodes/shared/types';

const configModule = nodeModule('octoeverywhere-app-connection') as Parameters<typeof helper.load>[0];
const EDITOR = 'http://127.0.0.1:1880/prefix/ingress/';
const catalog = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'nodes', 'locales', 'en-US', 'octoeverywhere-app-connection.json'), 'utf8')) as {
  test: Record<string, Record<string, string>>;
};

type Body = Record<string, unknown>;

function completionQuery(keys: CompletionKeys | Record<string, string>): string {
  return new URLSearchParams(Object.entries(keys).filter((e): e is [string, string] => typeof e[1] === 'string')).toString();
}

/** Everything the runtime logged during the test, as one string. */
function logged(): string {
  return JSON.stringify((helper.log().args as unknown[][]).map((a) => a[0]));
}

describe('node: octoeverywhere-app-connection admin routes', () => {
  let sim: Simulator;

  before(async () => {
    sim = await startSimulator();
  });
  after(async () => {
    await sim.close();
  });
  afterEach(async () => {
    await helper.unload();
  });

  async function start(extra: Body = {}): Promise<{ state: string; portalUrl: string }> {
    const res = await helper
      .request()
      .post('/octoeverywhere/portal/start')
      .send({ editorUrl: EDITOR, serviceUrl: sim.serviceUrl, appId: 'nodered', ...extra });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { state: string; portalUrl: string };
  }

  describe('portal', () => {
    beforeEach(async () => {
      await helper.load(configModule, []);
    });

    it("starts the portal with a one-time return URL under the editor's own path, the package logo and the options", async () => {
      const printerId = sim.printers[1].printerId;
      const { state, portalUrl } = await start({ printerId, octoPrintApiKeyAppName: 'Node-RED' });
      assert.match(state, /^[A-Za-z0-9_-]{32}$/, '192 random bits, URL-safe');
      const url = new URL(portalUrl);
      assert.equal(`${url.origin}${url.pathname}`, `${sim.serviceUrl}/appportal/v1/`);
      assert.equal(url.searchParams.get('appid'), 'nodered');
      assert.equal(url.searchParams.get('printerId'), printerId);
      assert.equal(url.searchParams.get('octoPrintApiKeyAppName'), 'Node-RED');
      assert.equal(url.searchParams.get('returnUrl'), `${EDITOR}octoeverywhere/portal/callback?state=${state}`);
      assert.equal(url.searchParams.get('appLogoUrl'), `${EDITOR}octoeverywhere/portal/logo.svg`);
      const second = await start();
      assert.notEqual(second.state, state, 'every start has its own state');
    });

    it('refuses a start it cannot build, and an editor address that is not http(s)', async () => {
      const bad = await helper.request().post('/octoeverywhere/portal/start').send({ editorUrl: EDITOR, serviceUrl: sim.serviceUrl, appId: 'not valid!' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'OE_INVALID_ARGUMENT');
      assert.equal(bad.body.state, undefined);
      const editor = await helper.request().post('/octoeverywhere/portal/start').send({ editorUrl: 'javascript:alert(1)', appId: 'nodered' });
      assert.equal(editor.status, 400);
    });

    it('parks a completion for exactly one read; the callback page holds no secret and keeps it out of history and referrers', async () => {
      const { state } = await start();
      assert.deepEqual((await helper.request().get('/octoeverywhere/portal/result').query({ state })).body, { status: 'pending' });
      const keys = sim.createAppConnection(0, { appId: 'nodered' });
      watchConnectionSecrets(keys);
      const page = await helper.request().get(`/octoeverywhere/portal/callback?state=${state}&${completionQuery(keys)}`);
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /text\/html/);
      assert.equal(page.headers['cache-control'], 'no-store');
      assert.equal(page.headers['referrer-policy'], 'no-referrer');
      assert.match(page.text, /history\.replaceState/);
      assert.match(page.text, /window\.close\(\)/);
      assert.match(page.text, /id="oe-title">portal\.page\.connected</, 'the runtime catalogue key (the helper returns keys)');
      assert.deepEqual(secretsIn(page.text), []);

      const first = await helper.request().get('/octoeverywhere/portal/result').query({ state });
      assert.equal(first.status, 200);
      assert.equal(first.headers['cache-control'], 'no-store');
      assert.equal(first.body.status, 'connected');
      const c = first.body.connection as Body;
      assert.equal(c.id, keys.id);
      assert.equal(c.url, keys.url);
      assert.equal(c.printerName, 'Voron 2.4');
      assert.equal(c.appApiToken, keys.appApiToken);
      assert.equal(c.authBasicHttpUser, keys.authbasichttpuser);
      assert.equal(c.authBasicHttpPassword, keys.authbasichttppassword);
      assert.equal(c.authBearerToken, keys.authBearerToken);

      const again = await helper.request().get('/octoeverywhere/portal/result').query({ state });
      assert.equal(again.status, 404, 'the secrets are given to the editor once');
      assert.deepEqual(again.body, { status: 'unknown' });
      assert.deepEqual(secretsIn(logged()), [], 'nothing secret in the log');
    });

    it('answers 400 to an unknown, missing or reused state, and a replay changes nothing', async () => {
      const keys = sim.createAppConnection(1);
      watchConnectionSecrets(keys);
      const query = completionQuery(keys);
      const unknown = await helper.request().get(`/octoeverywhere/portal/callback?state=made-up-state&${query}`);
      assert.equal(unknown.status, 400);
      assert.match(unknown.text, /portal\.page\.expired/);
      assert.deepEqual(secretsIn(unknown.text), []);
      assert.equal((await helper.request().get(`/octoeverywhere/portal/callback?${query}`)).status, 400);

      const { state } = await start();
      assert.equal((await helper.request().get(`/octoeverywhere/portal/callback?state=${state}&${query}`)).status, 200);
      const other = sim.createAppConnection(0);
      watchConnectionSecrets(other);
      const replay = await helper.request().get(`/octoeverywhere/portal/callback?state=${state}&${completionQuery(other)}`);
      assert.equal(replay.status, 400, 'a state is used once');
      const result = await helper.request().get('/octoeverywhere/portal/result').query({ state });
      assert.equal((result.body.connection as Body).id, keys.id, 'the first completion stands');
    });

    it('reports a cancelled portal in plain words and as a failed result', async () => {
      const { state } = await start();
      const page = await helper.request().get(`/octoeverywhere/portal/callback?state=${state}&success=false`);
      assert.equal(page.status, 200);
      assert.match(page.text, /portal\.page\.failed/);
      const result = await helper.request().get('/octoeverywhere/portal/result').query({ state });
      assert.deepEqual(result.body, { status: 'failed', code: 'OE_PORTAL_FAILED', message: result.body.message });
      assert.equal((await helper.request().get('/octoeverywhere/portal/result').query({ state })).status, 404);
    });

    it('escapes what the portal sent when it shows it', async () => {
      const { state } = await start();
      const keys = { ...sim.createAppConnection(0), printername: '<img src=x onerror=alert(1)>' };
      watchConnectionSecrets(keys);
      // The helper's RED._ returns the key, so check the escaping on the failure path, which shows the client's message.
      const page = await helper.request().get(`/octoeverywhere/portal/callback?state=${state}&${completionQuery({ success: 'true', id: '<b>x</b>' })}`);
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.text, /<b>x<\/b>|<img/);
      await helper.request().get('/octoeverywhere/portal/result').query({ state });
    });

    it('serves the portal logo without a token', async () => {
      const res = await helper.request().get('/octoeverywhere/portal/logo.svg');
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /image\/svg\+xml/);
      assert.match(String(res.text ?? res.body), /<svg[^>]*width="100"/);
    });

    it("parses a pasted completion URL with the client's rules, and says what is wrong with a bad one", async () => {
      const keys = sim.createAppConnection(2);
      watchConnectionSecrets(keys);
      const ok = await helper
        .request()
        .post('/octoeverywhere/portal/parse')
        .send({ completion: `https://example.invalid/done?${completionQuery(keys)}` });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.connection.printerName, 'P1S');
      assert.equal(ok.body.connection.authBearerToken, keys.authBearerToken);
      const bad = await helper
        .request()
        .post('/octoeverywhere/portal/parse')
        .send({ completion: `https://example.invalid/done?success=true&id=1&authBearerToken=${keys.authBearerToken}` });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'OE_COMPLETION_INVALID');
      assert.match(bad.body.message, /url/);
      assert.deepEqual(secretsIn(JSON.stringify(bad.body)), [], 'the error never repeats a value');
    });

    it('finds the Printer ID of a LAN OctoPrint and of a Moonraker', async () => {
      for (const printer of [sim.printers[0], sim.printers[1]]) {
        const res = await helper.request().post('/octoeverywhere/app-connection/printer-id').send({ localUrl: printer.url });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.printerId, printer.printerId);
        assert.equal(res.body.platform, printer.kind);
      }
      const missing = await helper.request().post('/octoeverywhere/app-connection/printer-id').send({ localUrl: '' });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.code, 'OE_MISSING_URL');
    });
  });

  describe('portal state expiry (manual clock)', () => {
    let now = 1_000_000;
    beforeEach(async () => {
      // Only the routes, on the real runtime's admin app, with a clock the test moves.
      await helper.load([(RED: NodeAPI) => void registerPortalRoutes(RED, { now: () => now })], []);
    });

    it('answers 400 to a state older than ten minutes, and the editor learns it expired', async () => {
      const { state } = await start();
      now += 10 * 60_000;
      const keys = sim.createAppConnection(0);
      watchConnectionSecrets(keys);
      const late = await helper.request().get(`/octoeverywhere/portal/callback?state=${state}&${completionQuery(keys)}`);
      assert.equal(late.status, 400);
      assert.equal((await helper.request().get('/octoeverywhere/portal/result').query({ state })).status, 404);
    });

    it('forgets an unread result after two minutes', async () => {
      const { state } = await start();
      now += 9 * 60_000;
      const keys = sim.createAppConnection(0);
      watchConnectionSecrets(keys);
      assert.equal((await helper.request().get(`/octoeverywhere/portal/callback?state=${state}&${completionQuery(keys)}`)).status, 200);
      now += 2 * 60_000;
      assert.equal((await helper.request().get('/octoeverywhere/portal/result').query({ state })).status, 404);
    });
  });

  describe('test connection', () => {
    const configNode = { id: 'c1', type: 'octoeverywhere-app-connection', name: 'Voron', appId: 'nodered' };

    async function loadWith(keys: CompletionKeys, extra: Body = {}): Promise<void> {
      const node: { id: string; type: string } = { ...configNode, serviceUrl: sim.serviceUrl, ...extra } as typeof configNode;
      await helper.load(configModule, [node], { c1: credentialsOf(keys) });
    }

    function test(body: Body) {
      return helper
        .request()
        .post('/octoeverywhere/app-connection/test')
        .send({ serviceUrl: sim.serviceUrl, appId: 'nodered', authType: 'bearer', ...body });
    }

    type Check = { id: string; level: string; result: string; code?: string; args?: Record<string, unknown>; helpUrl?: string };
    function check(body: { checks: Check[] }, id: string): Check | undefined {
      return body.checks.find((c) => c.id === id);
    }
    /** Each check as id:level:result(:code), for one-line assertions. */
    function lines(body: { checks: Check[] }): string[] {
      return body.checks.map((c) => [c.id, c.level, c.result, ...(c.code ? [c.code] : [])].join(':'));
    }

    it('tests the deployed values when the dialog shows saved secrets (__PWRD__): relay, App APIs and the printer, each on its own', async () => {
      const keys = sim.createAppConnection(0, { appId: 'nodered' });
      await loadWith(keys);
      const res = await test({ id: 'c1', credentials: { url: '__PWRD__', authBearerToken: '__PWRD__', appApiToken: '__PWRD__' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.body.level, 'ok');
      assert.deepEqual(lines(res.body), ['relay:ok:ok', 'app-api:ok:ok', 'printer:ok:online']);
      const printer = check(res.body, 'printer')?.args ?? {};
      assert.equal(printer.printer, 'Voron 2.4');
      assert.equal(typeof printer.platform, 'string');
      assert.ok(Array.isArray(printer.features) && printer.features.includes('light'), JSON.stringify(printer.features));
      sim.printers[0].online = false;
      try {
        const offline = await test({ id: 'c1', credentials: { url: keys.url } });
        assert.equal(offline.body.level, 'error');
        assert.deepEqual(lines(offline.body), ['relay:error:failed:OE_601', 'app-api:ok:ok', 'printer:warn:offline']);
        assert.match(
          String(check(offline.body, 'relay')?.args?.message),
          /not connected to OctoEverywhere.*Check that the printer/,
          "the advice of the client's code table",
        );
      } finally {
        sim.printers[0].online = true;
      }
    });

    it('Bambu Lab and Elegoo CC2: says whether status nodes can go live (serial number entered, missing or malformed), subscribing to nothing', async () => {
      const keys = sim.createAppConnection(2, { appId: 'nodered' });
      watchConnectionSecrets(keys);
      await helper.load(configModule, []);
      const creds = { url: keys.url, authBearerToken: keys.authBearerToken, appApiToken: keys.appApiToken };
      const opened = sim.socketChaos.openedSockets;
      const missing = await test({ credentials: creds });
      assert.deepEqual(lines(missing.body), ['relay:ok:ok', 'app-api:ok:ok', 'printer:ok:online', 'live:warn:needs-serial:OE_LIVE_NEEDS_SERIAL']);
      assert.equal(check(missing.body, 'live')?.args?.platform, 'Bambu Lab');
      const ready = await test({ credentials: creds, serialNumber: ' 01P00A000000042 ' });
      assert.equal(ready.body.level, 'ok');
      assert.deepEqual(check(ready.body, 'live'), { id: 'live', level: 'ok', result: 'ready', args: { platform: 'Bambu Lab' } });
      const malformed = await test({ credentials: creds, serialNumber: 'device/#' });
      assert.deepEqual(lines(malformed.body).slice(-1), ['live:warn:serial-invalid:OE_SERIAL_NUMBER_INVALID']);
      assert.equal(sim.socketChaos.openedSockets, opened, "no MQTT session: a wrong serial would knock the printer's other clients off");

      const cc2Sim = await startSimulator({ printers: [{ kind: 'elegoo-cc2', name: 'CC2' }] });
      try {
        const cc2 = cc2Sim.createAppConnection(0, { appId: 'nodered' });
        watchConnectionSecrets(cc2);
        const res = await test({
          serviceUrl: cc2Sim.serviceUrl,
          credentials: { url: cc2.url, authBearerToken: cc2.authBearerToken, appApiToken: cc2.appApiToken },
          serialNumber: 'E2CC00000000001',
        });
        assert.deepEqual(check(res.body, 'live'), { id: 'live', level: 'ok', result: 'ready', args: { platform: 'Elegoo CC2' } });
      } finally {
        await cc2Sim.close();
      }
      // Moonraker has no serial number to ask for: no live line (the first test's lines).
    });

    it('issue 13.1: a mistyped Connection URL, or one where nothing listens, fails the relay even though the App API token works', async () => {
      const keys = sim.createAppConnection(0, { appId: 'nodered' });
      watchConnectionSecrets(keys);
      await helper.load(configModule, []);
      const wrong = keys.url.replace(/app-([a-z0-9])/, (_m, c: string) => `app-${c === 'a' ? 'b' : 'a'}`);
      assert.notEqual(wrong, keys.url);
      const typo = await test({ credentials: { url: wrong, authBearerToken: keys.authBearerToken, appApiToken: keys.appApiToken } });
      assert.equal(typo.body.level, 'error', JSON.stringify(typo.body));
      assert.equal(check(typo.body, 'relay')?.level, 'error');
      assert.match(String(check(typo.body, 'relay')?.code), /^OE_6\d\d$/);
      assert.equal(check(typo.body, 'app-api')?.level, 'ok');
      // The Info API still says the printer is online, but not as an ok line: the nodes cannot reach it.
      assert.deepEqual(lines(typo.body).slice(-1), ['printer:warn:unreached']);
      assert.equal(check(typo.body, 'printer')?.args?.printer, 'Voron 2.4');

      const closed = await freePort();
      const nothing = await test({ credentials: { url: `http://127.0.0.1:${closed}`, authBearerToken: keys.authBearerToken, appApiToken: keys.appApiToken } });
      assert.equal(nothing.body.level, 'error');
      assert.deepEqual(check(nothing.body, 'relay'), {
        id: 'relay',
        level: 'error',
        result: 'failed',
        code: 'OE_UNREACHABLE',
        args: { code: 'OE_UNREACHABLE', message: check(nothing.body, 'relay')?.args?.message },
      });
      assert.deepEqual(secretsIn(JSON.stringify([typo.body, nothing.body])), [], 'no secret is echoed');
    });

    it('tests unsaved dialog values, and an emptied field counts as empty', async () => {
      const keys = sim.createAppConnection(1, { appId: 'nodered' });
      watchConnectionSecrets(keys);
      await helper.load(configModule, []);
      const res = await test({ credentials: { url: keys.url, authBearerToken: keys.authBearerToken, appApiToken: keys.appApiToken } });
      assert.equal(res.body.level, 'ok');
      assert.equal(check(res.body, 'printer')?.args?.printer, 'Prusa MK3S');
      const cleared = await test({ credentials: { url: keys.url, authBearerToken: '', appApiToken: keys.appApiToken } });
      assert.deepEqual(lines(cleared.body), ['settings:error:invalid:OE_MISSING_CREDENTIALS']);
    });

    it('tests the LAN URL when one is set: answers, or does not (then requests go through OctoEverywhere)', async () => {
      const keys = sim.createAppConnection(0, { appId: 'nodered' });
      watchConnectionSecrets(keys);
      await helper.load(configModule, []);
      const credentials = { url: keys.url, authBearerToken: keys.authBearerToken, appApiToken: keys.appApiToken };
      const lan = await test({ credentials, localUrl: sim.printers[0].url });
      assert.deepEqual(check(lan.body, 'lan'), { id: 'lan', level: 'ok', result: 'ok', args: { status: check(lan.body, 'lan')?.args?.status } });
      const closed = await freePort();
      const down = await test({ credentials, localUrl: `http://127.0.0.1:${closed}` });
      assert.equal(down.body.level, 'warn');
      assert.equal(check(down.body, 'lan')?.code, 'OE_UNREACHABLE');
      assert.equal(check(down.body, 'relay')?.level, 'ok');

      // An OctoPrint's plugin says its version on the LAN; the printer line carries it.
      const octo = sim.createAppConnection(1, { appId: 'nodered' });
      watchConnectionSecrets(octo);
      const withPlugin = await test({
        credentials: { url: octo.url, authBearerToken: octo.authBearerToken, appApiToken: octo.appApiToken },
        localUrl: sim.printers[1].url,
      });
      assert.equal(check(withPlugin.body, 'lan')?.level, 'ok');
      assert.equal(check(withPlugin.body, 'printer')?.args?.plugin, PLUGIN_VERSION);
    });

    it('says 605 with the no-Supporter link and 604 with the reconnect advice, and a Shared Connection has no App APIs', async () => {
      const keys = sim.createAppConnection(0, { appId: 'nodered' });
      await loadWith(keys);
      sim.setSupporter(false);
      try {
        const res = await test({ id: 'c1' });
        const app = check(res.body, 'app-api');
        assert.equal(app?.code, 'OE_605');
        assert.equal(app?.helpUrl, 'https://octoeverywhere.com/appportal/v1/nosupporterperks?appid=nodered');
        assert.equal(res.body.level, 'error');
      } finally {
        sim.setSupporter(true);
      }
      sim.revoke(keys.id);
      const gone = await test({ id: 'c1' });
      assert.equal(check(gone.body, 'relay')?.code, 'OE_604');
      assert.equal(check(gone.body, 'app-api')?.code, 'OE_604');
      assert.match(String(check(gone.body, 'relay')?.args?.message), /Reconnect the printer/);

      const { url, authBasicHttpUser, authBasicHttpPassword } = sharedConnectionCredentials(sim);
      const shared = await test({ authType: 'basic', credentials: { url, authBasicHttpUser, authBasicHttpPassword } });
      assert.equal(shared.body.level, 'warn');
      assert.deepEqual(lines(shared.body), ['relay:ok:ok', 'app-api:warn:shared', 'printer:ok:online']);
      assert.deepEqual(secretsIn(logged()), []);
    });

    it('an App Connection URL without its App API token is not called a Shared Connection: the token is missing', async () => {
      const keys = sim.createAppConnection(0, { appId: 'nodered' });
      watchConnectionSecrets(keys);
      await helper.load(configModule, []);
      const res = await test({ credentials: { url: keys.url, authBearerToken: keys.authBearerToken, appApiToken: '' } });
      assert.equal(res.body.level, 'warn');
      assert.deepEqual(lines(res.body), ['relay:ok:ok', 'app-api:warn:no-token', 'printer:ok:online']);
      assert.match(catalog.test['app-api']['no-token'], /App API token/);
    });

    describe('issue 14.4: saved secrets only go to the saved addresses', () => {
      let recorder: Recorder;
      beforeEach(async () => {
        recorder = await startRecorder((_req, res) => json(res, 200, {}));
      });
      afterEach(async () => {
        await recorder.close();
      });

      for (const changed of ['url', 'serviceUrl', 'localUrl'] as const) {
        it(`sends no saved secret when the dialog changed the ${changed}, and says they must be entered again`, async () => {
          const keys = sim.createAppConnection(0, { appId: 'nodered' });
          await loadWith(keys, { localUrl: sim.printers[0].url });
          const elsewhere = `http://127.0.0.1:${recorder.port}`;
          const body: Body = {
            id: 'c1',
            localUrl: sim.printers[0].url,
            credentials: {
              url: '__PWRD__',
              authBearerToken: '__PWRD__',
              appApiToken: '__PWRD__',
              authBasicHttpUser: '__PWRD__',
              authBasicHttpPassword: '__PWRD__',
              octoPrintApiKey: '__PWRD__',
            },
          };
          if (changed === 'url') (body.credentials as Body).url = elsewhere;
          else body[changed] = elsewhere;
          const res = await test(body);
          assert.equal(res.status, 200);
          assert.deepEqual(
            secretsIn(JSON.stringify(recorder.requests.map((r) => ({ url: r.url, headers: r.headers, body: r.body.toString() })))),
            [],
            'no saved secret reached the changed address',
          );
          assert.deepEqual(res.body, { level: 'error', checks: [{ id: 'secrets', level: 'error', result: 'not-sent', code: 'OE_SECRETS_NOT_SENT' }] });
          assert.equal(recorder.requests.length, 0);
        });
      }

      it("sends the dialog's own new secrets to a changed address (and tests them), never the saved ones", async () => {
        const keys = sim.createAppConnection(0, { appId: 'nodered' });
        await loadWith(keys);
        const fresh = sim.createAppConnection(1, { appId: 'nodered' });
        watchConnectionSecrets(fresh);
        const res = await test({ id: 'c1', credentials: { url: fresh.url, authBearerToken: fresh.authBearerToken, appApiToken: fresh.appApiToken } });
        assert.equal(res.body.level, 'ok');
        assert.equal(check(res.body, 'printer')?.args?.printer, 'Prusa MK3S');
      });

      it("treats an undeployed node's id as having no saved secrets", async () => {
        await helper.load(configModule, []);
        const res = await test({ id: 'never-deployed', credentials: { url: `http://127.0.0.1:${recorder.port}`, authBearerToken: '__PWRD__' } });
        assert.deepEqual(lines(res.body), ['settings:error:invalid:OE_MISSING_CREDENTIALS']);
        assert.equal(recorder.requests.length, 0);
      });
    });
  });

  describe('issue 14.3: the saved Connection URL and Basic user for the dialog', () => {
    it("gives a deployed config node's url and Basic user (never a secret), no-store; nothing for other ids", async () => {
      const keys = sim.createAppConnection(0, { appId: 'nodered' });
      const nodes = [
        { id: 'c1', type: 'octoeverywhere-app-connection', name: 'Voron', serviceUrl: sim.serviceUrl },
        { id: 'other', type: 'octoeverywhere-app-connection', name: 'empty' },
      ];
      await helper.load(configModule, nodes as Parameters<typeof helper.load>[1], { c1: credentialsOf(keys) });
      const res = await helper.request().get('/octoeverywhere/app-connection/c1/private');
      assert.equal(res.status, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.deepEqual(res.body, { url: keys.url, authBasicHttpUser: keys.authbasichttpuser });
      assert.deepEqual(secretsIn(JSON.stringify(res.body).replace(keys.authbasichttpuser ?? '', '')), [], 'only the two values');
      assert.deepEqual((await helper.request().get('/octoeverywhere/app-connection/other/private')).body, { url: '', authBasicHttpUser: '' });
      assert.equal((await helper.request().get('/octoeverywhere/app-connection/nope/private')).status, 404);
    });
  });

  describe('issue 14.6: a completion that points somewhere else', () => {
    beforeEach(async () => {
      await helper.load(configModule, []);
    });

    it('flags a pasted completion whose url is not an OctoEverywhere (or local) host', async () => {
      const keys = sim.createAppConnection(0);
      watchConnectionSecrets(keys);
      const own = await helper
        .request()
        .post('/octoeverywhere/portal/parse')
        .send({ completion: `x://done?${completionQuery(keys)}` });
      assert.equal(own.body.trustedHost, true, "the simulator's host is this machine");
      const evil = await helper
        .request()
        .post('/octoeverywhere/portal/parse')
        .send({ completion: `x://done?${completionQuery({ ...keys, url: 'https://attacker.example' })}` });
      assert.equal(evil.status, 200);
      assert.equal(evil.body.trustedHost, false);
      assert.equal(evil.body.connection.url, 'https://attacker.example');
      const real = await helper
        .request()
        .post('/octoeverywhere/portal/parse')
        .send({ completion: `x://done?${completionQuery({ ...keys, url: 'https://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com' })}` });
      assert.equal(real.body.trustedHost, true);
    });

    it("flags the portal callback's result the same way", async () => {
      const { state } = await start();
      const keys = sim.createAppConnection(0, { appId: 'nodered' });
      watchConnectionSecrets(keys);
      await helper.request().get(`/octoeverywhere/portal/callback?state=${state}&${completionQuery({ ...keys, url: 'https://attacker.example' })}`);
      const result = await helper.request().get('/octoeverywhere/portal/result').query({ state });
      assert.equal(result.body.status, 'connected');
      assert.equal(result.body.trustedHost, false);
    });
  });
});
