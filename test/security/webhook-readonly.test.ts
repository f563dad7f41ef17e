// Issue 14.1: a read-only editor user must not get the webhook token (and so cannot forge print
// events). A real Node-RED with adminAuth (an admin and a read-only user), started on a flow and a
// credential file as an earlier version saved them (token stored while it was a `text` credential).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ADMIN, login, startNodeRedWithPackage, userDirWithPackage, VIEWER } from '../e2e/support';
import type { NodeRedProcess } from '../helpers/node-red-process';
import { secretsIn, watchSecret } from '../helpers/secrets';
import { delivery, deploy, emitted, HOOK_PATH, post, untilEmitted, untilListening, webhookFlow } from './webhook-support';

const TYPE = 'octoeverywhere-notification-webhook';
const SAVED_TOKEN = 'tok-Saved-Sentinel-5d6e7f8a9b0c1d2e3f4a';
const NEW_TOKEN = 'tok-New-Sentinel-a1b2c3d4e5f60718293a4b';
watchSecret(SAVED_TOKEN);
watchSecret(NEW_TOKEN);

/** flows_cred.json as Node-RED writes it (aes-256-ctr, key = sha256(credentialSecret); the helper's secret). */
function encryptedCredentials(credentials: Record<string, unknown>): string {
  const key = crypto.createHash('sha256').update('test-only-secret').digest();
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-ctr', key, iv);
  return JSON.stringify({ $: iv.toString('hex') + cipher.update(JSON.stringify(credentials), 'utf8', 'base64') + cipher.final('base64') });
}

describe('security: the webhook token under adminAuth (real Node-RED, read-only user)', function () {
  this.timeout(90_000);
  let nodeRed: NodeRedProcess;
  let adminToken: string;
  let viewerToken: string;
  let eventsFile: string;
  let flows: unknown[];

  before(async () => {
    const userDir = userDirWithPackage();
    eventsFile = path.join(userDir, 'events.ndjson');
    flows = webhookFlow(eventsFile).map((n) => {
      const { credentials: _none, ...node } = n as Record<string, unknown>;
      return node;
    });
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), encryptedCredentials({ oehook1: { token: SAVED_TOKEN } }));
    nodeRed = await startNodeRedWithPackage({ users: [ADMIN, VIEWER], userDir, flows });
    adminToken = await login(nodeRed, ADMIN);
    viewerToken = await login(nodeRed, VIEWER);
    await untilListening(nodeRed);
  });
  after(async () => {
    await nodeRed?.stop();
  });

  const get = (urlPath: string, bearer?: string): Promise<Response> =>
    fetch(`${nodeRed.url}${urlPath}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
  const tokenRoute = '/octoeverywhere/notification-webhook/oehook1/token';

  it('gives a read-only user neither the token nor the SecretKey: /credentials says only whether they are set', async () => {
    const res = await get(`/credentials/${TYPE}/oehook1`, viewerToken);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.deepEqual(JSON.parse(text), { has_token: true, has_secretKey: false });
    assert.deepEqual(secretsIn(text), []);
  });

  it('refuses the token route to a read-only user and to no user; gives the admin the saved token, uncached', async () => {
    const viewer = await get(tokenRoute, viewerToken);
    // Node-RED's needsPermission answers 401 for a signed-in user without the permission.
    assert.ok(viewer.status === 401 || viewer.status === 403, `read-only: ${viewer.status}`);
    assert.deepEqual(secretsIn(await viewer.text()), []);
    assert.equal((await get(tokenRoute)).status, 401, 'no user');
    const admin = await get(tokenRoute, adminToken);
    assert.equal(admin.status, 200);
    assert.equal(admin.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await admin.json(), { token: SAVED_TOKEN }, 'the token saved by the earlier version is kept');
    assert.equal((await get('/octoeverywhere/notification-webhook/nope/token', adminToken)).status, 404);
  });

  it('refuses a guessed or empty token with 401 and emits nothing; the saved token still works', async () => {
    for (const query of ['', '?token=', '?token=__PWRD__', `?token=${SAVED_TOKEN.slice(0, -1)}X`, '?token=true']) {
      const reply = await post(nodeRed.port, `${HOOK_PATH}${query}`, delivery({ EventType: 15, PrintId: 'forged' }));
      assert.deepEqual(reply, { status: 401, body: 'OE_WEBHOOK_UNAUTHORIZED' }, query);
    }
    assert.equal((await post(nodeRed.port, `${HOOK_PATH}?token=${SAVED_TOKEN}`, delivery({ PrintId: 'real-1' }))).status, 200);
    const events = await untilEmitted(eventsFile, 'real-1');
    assert.deepEqual(
      events.filter((e) => e.printId === 'forged'),
      [],
    );
  });

  it('keeps the saved token when the editor deploys __PWRD__ (unchanged), and takes a new one when given', async () => {
    const withCreds = (token: string): unknown[] =>
      flows.map((n) =>
        (n as { id: string }).id === 'oehook1' ? { ...(n as object), name: token === '__PWRD__' ? 'renamed' : 'new', credentials: { token } } : n,
      );
    await deploy(nodeRed, withCreds('__PWRD__'), '', adminToken);
    await untilListening(nodeRed);
    assert.equal((await post(nodeRed.port, `${HOOK_PATH}?token=${SAVED_TOKEN}`, delivery({ PrintId: 'real-2' }))).status, 200);
    await untilEmitted(eventsFile, 'real-2');
    assert.deepEqual(await (await get(tokenRoute, adminToken)).json(), { token: SAVED_TOKEN });

    await deploy(nodeRed, withCreds(NEW_TOKEN), '', adminToken);
    await untilListening(nodeRed);
    assert.equal((await post(nodeRed.port, `${HOOK_PATH}?token=${SAVED_TOKEN}`, delivery({ PrintId: 'old' }))).status, 401);
    assert.equal((await post(nodeRed.port, `${HOOK_PATH}?token=${NEW_TOKEN}`, delivery({ PrintId: 'real-3' }))).status, 200);
    await untilEmitted(eventsFile, 'real-3');
    assert.deepEqual(
      emitted(eventsFile).filter((e) => e.printId === 'old'),
      [],
    );
    const viewer = await (await get(`/credentials/${TYPE}/oehook1`, viewerToken)).text();
    assert.deepEqual(secretsIn(viewer), [], 'the new token is not shown to a read-only user either');
    assert.deepEqual(secretsIn(nodeRed.output()), [], 'Node-RED printed no token');
  });
});
