// The config node's admin routes in a real Node-RED with adminAuth and this package installed: who may
// call which route, the open callback, and that the real process logs no secret.
import assert from 'node:assert/strict';
import { ADMIN, login, startNodeRedWithPackage, VIEWER } from '../e2e/support';
import type { NodeRedProcess } from '../helpers/node-red-process';
import { secretsIn } from '../helpers/secrets';
import { watchConnectionSecrets } from '../helpers/simulator';
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
