// The config node's admin routes in the real runtime (node-red-node-test-helper), against the
// simulator: portal start → callback → one read of the result, paste, Find Printer ID, Test connection.
// Permissions are tested with a real Node-RED and adminAuth in app-connection-permissions.test.ts.
import assert from 'node:assert/strict';
import { helper, nodeModule } from '../helpers/nodes';
import { secretsIn } from '../helpers/secrets';
import { credentialsOf, sharedConnectionCredentials, watchConnectionSecrets } from '../helpers/simulator';
import { type CompletionKeys, type Simulator, startSimulator } from '../../src/simulator';
import { registerPortalRoutes } from '../../src/nodes/shared/portal-routes';
import type { NodeAPI } from '../../src/nodes/shared/types';

const configModule = nodeModule('octoeverywhere-app-connection') as Parameters<typeof helper.load>[0];
const EDITOR = 'http://127.0.0.1:1880/prefix/ingress/';

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
    const res = await helper.request().post('/octoeverywhere/portal/start').send({ editorUrl: EDITOR, serviceUrl: sim.serviceUrl, appId: 'nodered', ...extra });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { state: string; portalUrl: string };
  }

  describe('portal', () => {
    beforeEach(async () => {
      await helper.load(configModule, []);
    });

    it('starts the portal with a one-time return URL under the editor\'s own path, the package logo and the options', async () => {
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

    it('parses a pasted completion URL with the client\'s rules, and says what is wrong with a bad one', async () => {
      const keys = sim.createAppConnection(2);
      watchConnectionSecrets(keys);
      const ok = await helper.request().post('/octoeverywhere/portal/parse').send({ completion: `https://example.invalid/done?${completionQuery(keys)}` });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.connection.printerName, 'P1S');
      assert.equal(ok.body.connection.authBearerToken, keys.authBearerToken);
      const bad = await helper.request().post('/octoeverywhere/portal/parse').send({ completion: `https://example.invalid/done?success=true&id=1&authBearerToken=${keys.authBearerToken}` });
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

    async function loadWith(keys: CompletionKeys): Promise<void> {
      const node: { id: string; type: string } = { ...configNode, serviceUrl: sim.serviceUrl } as typeof configNode;
      await helper.load(configModule, [node], { c1: credentialsOf(keys) });
    }

    function test(body: Body) {
      return helper.request().post('/octoeverywhere/app-connection/test').send({ serviceUrl: sim.serviceUrl, appId: 'nodered', authType: 'bearer', ...body });
    }

    it('tests the deployed values when the dialog shows saved secrets (__PWRD__)', async () => {
      const keys = sim.createAppConnection(0, { appId: 'nodered' });
      await loadWith(keys);
      const res = await test({ id: 'c1', credentials: { url: keys.url, authBearerToken: '__PWRD__', appApiToken: '__PWRD__' } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { state: 'online', printerName: 'Voron 2.4' });
      sim.printers[0].online = false;
      try {
        assert.equal((await test({ id: 'c1' })).body.state, 'offline');
      } finally {
        sim.printers[0].online = true;
      }
    });

    it('tests unsaved dialog values, and an emptied field counts as empty', async () => {
      const keys = sim.createAppConnection(1, { appId: 'nodered' });
      watchConnectionSecrets(keys);
      await helper.load(configModule, []);
      const res = await test({ credentials: { url: keys.url, authBearerToken: keys.authBearerToken, appApiToken: keys.appApiToken } });
      assert.deepEqual(res.body, { state: 'online', printerName: 'Prusa MK3S' });
      const cleared = await test({ credentials: { url: keys.url, authBearerToken: '', appApiToken: keys.appApiToken } });
      assert.equal(cleared.body.state, 'invalid');
      assert.equal(cleared.body.code, 'OE_MISSING_CREDENTIALS');
    });

    it('says 605 with the no-Supporter link, 603/604 as reconnect, and pings a Shared Connection', async () => {
      const keys = sim.createAppConnection(0, { appId: 'nodered' });
      await loadWith(keys);
      sim.setSupporter(false);
      try {
        const res = await test({ id: 'c1' });
        assert.equal(res.body.state, 'no-supporter');
        assert.equal(res.body.code, 'OE_605');
        assert.equal(res.body.helpUrl, 'https://octoeverywhere.com/appportal/v1/nosupporterperks?appid=nodered');
      } finally {
        sim.setSupporter(true);
      }
      sim.revoke(keys.id);
      const gone = await test({ id: 'c1' });
      assert.equal(gone.body.state, 'reconnect');
      assert.equal(gone.body.code, 'OE_604');

      const { url, authBasicHttpUser, authBasicHttpPassword } = sharedConnectionCredentials(sim);
      const ping = await test({ authType: 'basic', credentials: { url, authBasicHttpUser, authBasicHttpPassword } });
      assert.deepEqual(ping.body, { state: 'shared' });
      assert.deepEqual(secretsIn(logged()), []);
    });
  });
});
