// The config node's admin routes in a real Node-RED with adminAuth and this package installed: who may
// call which route, the open callback, and that the real process logs no secret.
import assert from 'node:assert/strict';
import { ADMIN, login, startNodeRedWithPackage, VIEWER } from '../e2e/support';
import type { NodeRedProcess } from '../helpers/node-red-process';
import { secretsIn } from '../helpers/secrets';
import { credentialsOf, watchConnectionSecrets } from '../helpers/simulator';
import { type Simulator, startSimulator } from '../../src/simulator';

describe('node: octoeverywhere-app-connection admin routes under adminAuth (real Node-RED)', function () {
  this.timeout(90_000);
  let sim: Simulator;
  let nodeRed: NodeRedProcess;
  let adminToken: string;
  let viewerToken: string;

  before(async () => {
    sim = await startSimulator();
    nodeRed = await startNodeRedWithPackage({ users: [ADMIN, VIEWER] });
    adminToken = await login(nodeRed, ADMIN);
    viewerToken = await login(nodeRed, VIEWER);
  });
  after(async () => {
    await nodeRed?.stop();
    await sim?.close();
  });

  function call(path: string, token: string | undefined, body?: unknown): Promise<Response> {
    return fetch(`${nodeRed.url}/octoeverywhere/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
  }

  const startBody = () => ({ editorUrl: `${nodeRed.url}/`, serviceUrl: sim.serviceUrl, appId: 'nodered' });

  it('refuses every route that makes or returns a secret to a caller without write permission', async () => {
    const routes: Array<[string, unknown]> = [
      ['portal/start', startBody()],
      ['portal/result?state=x', undefined],
      ['portal/parse', { completion: 'success=true' }],
      ['app-connection/printer-id', { localUrl: sim.printers[0].url }],
      ['app-connection/test', { credentials: {} }],
      ['app-connection/x/private', undefined],
    ];
    for (const [path, body] of routes) {
      const anonymous = await call(path, undefined, body);
      assert.equal(anonymous.status, 401, `${path} without a token`);
      const viewer = await call(path, viewerToken, body);
      assert.ok(viewer.status === 401 || viewer.status === 403, `${path} as a read-only user: ${viewer.status}`);
    }
    assert.equal((await call('portal/start', adminToken, startBody())).status, 200);
  });

  it('lets the portal land on the callback without a token, and gives the result to the editor once', async () => {
    const started = await call('portal/start', adminToken, startBody());
    const { state, portalUrl } = (await started.json()) as { state: string; portalUrl: string };
    assert.equal(new URL(portalUrl).searchParams.get('returnUrl'), `${nodeRed.url}/octoeverywhere/portal/callback?state=${state}`);

    const keys = sim.createAppConnection(0, { appId: 'nodered' });
    watchConnectionSecrets(keys);
    const completion = new URLSearchParams(Object.entries(keys).filter((e): e is [string, string] => typeof e[1] === 'string')).toString();

    const forged = await fetch(`${nodeRed.url}/octoeverywhere/portal/callback?state=forged&${completion}`);
    assert.equal(forged.status, 400, 'open, but the state is the authority');
    assert.equal((await call(`portal/result?state=${state}`, viewerToken)).status === 200, false, 'a read-only user cannot read it');

    const page = await fetch(`${nodeRed.url}/octoeverywhere/portal/callback?state=${state}&${completion}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Connected to Voron 2\.4/, 'the catalogue text, with the printer name');
    assert.deepEqual(secretsIn(html), []);
    assert.equal((await fetch(`${nodeRed.url}/octoeverywhere/portal/callback?state=${state}&${completion}`)).status, 400, 'used once');

    const result = await call(`portal/result?state=${state}`, adminToken);
    assert.equal(result.status, 200);
    const body = (await result.json()) as { status: string; connection: { appApiToken: string } };
    assert.equal(body.status, 'connected');
    assert.equal(body.connection.appApiToken, keys.appApiToken);
    assert.equal((await call(`portal/result?state=${state}`, adminToken)).status, 404, 'read once');

    const logo = await fetch(`${nodeRed.url}/octoeverywhere/portal/logo.svg`);
    assert.equal(logo.status, 200, 'the portal shows the logo without a token');
    assert.deepEqual(secretsIn(nodeRed.output()), [], 'Node-RED printed no secret');
  });
});

describe('node: octoeverywhere-app-connection private values under adminAuth (issue 14.3, real Node-RED)', function () {
  this.timeout(90_000);
  let sim: Simulator;
  let nodeRed: NodeRedProcess;
  let adminToken: string;
  let viewerToken: string;
  let url: string;
  let basicUser: string;

  before(async () => {
    sim = await startSimulator();
    const keys = sim.createAppConnection(0, { appId: 'nodered' });
    url = keys.url;
    basicUser = keys.authbasichttpuser ?? '';
    assert.ok(basicUser.length > 0);
    // A flow saved by an earlier version, when url and authBasicHttpUser were text credentials:
    // Node-RED stores every credential the same way, whatever its type.
    const flows = [
      { id: 'tab', type: 'tab', label: 'Printer' },
      {
        id: 'cfg',
        type: 'octoeverywhere-app-connection',
        name: 'Voron',
        printerName: 'Voron 2.4',
        serviceUrl: sim.serviceUrl,
        appId: 'nodered',
        authType: 'bearer',
        version: 1,
      },
      {
        id: 'inj',
        type: 'inject',
        z: 'tab',
        props: [{ p: 'payload' }],
        payload: '',
        payloadType: 'date',
        repeat: '',
        once: false,
        x: 100,
        y: 100,
        wires: [['req']],
      },
      {
        id: 'req',
        type: 'octoeverywhere-printer-request',
        z: 'tab',
        connection: 'cfg',
        method: 'GET',
        path: '/server/info',
        ret: 'obj',
        timeout: '',
        version: 1,
        x: 300,
        y: 100,
        wires: [['dbg']],
      },
      {
        id: 'dbg',
        type: 'debug',
        z: 'tab',
        name: 'answer',
        active: true,
        tosidebar: false,
        console: true,
        complete: 'statusCode',
        targetType: 'msg',
        x: 500,
        y: 100,
        wires: [],
      },
    ];
    nodeRed = await startNodeRedWithPackage({ users: [ADMIN, VIEWER], flows, credentials: { cfg: { ...credentialsOf(keys) } } });
    adminToken = await login(nodeRed, ADMIN);
    viewerToken = await login(nodeRed, VIEWER);
  });
  after(async () => {
    await nodeRed?.stop();
    await sim?.close();
  });

  function get(path: string, token: string): Promise<Response> {
    return fetch(`${nodeRed.url}/${path}`, { headers: { authorization: `Bearer ${token}` } });
  }

  it('gives a read-only user neither the Connection URL nor the Basic user, from /credentials or from the private route', async () => {
    const creds = await get('credentials/octoeverywhere-app-connection/cfg', viewerToken);
    assert.equal(creds.status, 200, 'Node-RED lets a read-only user read the credentials route');
    const text = await creds.text();
    assert.ok(!text.includes(url), 'no Connection URL');
    assert.ok(!text.includes(basicUser), 'no Basic user');
    assert.equal((JSON.parse(text) as Record<string, unknown>).has_url, true, 'only that it is set');
    // Node-RED's needsPermission answers a lacking permission with 401 (not 403).
    const route = await get('octoeverywhere/app-connection/cfg/private', viewerToken);
    assert.ok(route.status === 401 || route.status === 403, `read-only: ${route.status}`);
    const body = await route.text();
    assert.ok(!body.includes(url) && !body.includes(basicUser));
  });

  it('gives a user with write permission exactly the two values from the private route, not from /credentials', async () => {
    const creds = await (await get('credentials/octoeverywhere-app-connection/cfg', adminToken)).text();
    assert.ok(!creds.includes(url) && !creds.includes(basicUser));
    const res = await get('octoeverywhere/app-connection/cfg/private', adminToken);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { url, authBasicHttpUser: basicUser });
    assert.equal((await get('octoeverywhere/app-connection/req/private', adminToken)).status, 404, 'only our config type');
  });

  it('keeps an old flow with these credentials working: the request node reaches the printer, the test uses them', async () => {
    const inject = await fetch(`${nodeRed.url}/inject/inj`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(inject.status, 200);
    const tested = await fetch(`${nodeRed.url}/octoeverywhere/app-connection/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'cfg',
        serviceUrl: sim.serviceUrl,
        appId: 'nodered',
        credentials: {
          url: '__PWRD__',
          authBasicHttpUser: '__PWRD__',
          authBasicHttpPassword: '__PWRD__',
          authBearerToken: '__PWRD__',
          appApiToken: '__PWRD__',
          octoPrintApiKey: '__PWRD__',
        },
      }),
    });
    assert.equal(((await tested.json()) as { level: string }).level, 'ok');
    // The debug node logs msg.statusCode to the console; the request went over real HTTP already.
    for (let i = 0; i < 100 && !/\[debug:answer\][^\n]*\n?\s*200\b/.test(nodeRed.output()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(nodeRed.output(), /\[debug:answer\][^\n]*\n?\s*200\b/);
    assert.deepEqual(secretsIn(nodeRed.output()), [], 'Node-RED printed no secret');
  });
});
