// `npm start` (scripts/start.js) run for real: its simulator, a real Node-RED, a temporary user dir.
// A start re-points only the config node that still points at a simulator an earlier start deployed;
// a printer the user connected (even on the demo's own config node) keeps its settings and secrets,
// also in a user dir made by an earlier version with the published credential secret.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type Simulator, startSimulator } from '../../src/simulator';
import { startNodeRed, tempDir } from '../helpers/node-red-process';
import { credentialsOf } from '../helpers/simulator';
import { secretsIn } from '../helpers/secrets';
import { type Demo, type FlowNode, flowsOf, startDemo } from './support';

const ROOT = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain .js script of the repository
const setup = require('../../scripts/demo-setup.js') as {
  SECRET_FILE: string;
  PUBLISHED_SECRET: string;
  prepareUserDir(userDir: string, options: { root: string; port: number }): { migrated: boolean };
};
const DEMO_FLOW = JSON.parse(fs.readFileSync(path.join(ROOT, 'scripts', 'demo-flow.json'), 'utf8')) as FlowNode[];
const DEMO = 'oe-demo-connection';

async function deploy(url: string, flows: FlowNode[]): Promise<void> {
  const res = await fetch(`${url}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify({ flows }),
  });
  assert.equal(res.status, 200, await res.text());
}

/** An http endpoint `route` that asks the printer through `connection`: 200 only if its stored credentials work. */
function checkTab(connection: string, route: string): FlowNode[] {
  const id = (name: string): string => `${route.slice(1)}-${name}`;
  return [
    { id: id('tab'), type: 'tab', label: route },
    { id: id('in'), type: 'http in', z: id('tab'), name: '', url: route, method: 'get', upload: false, swaggerDoc: '', x: 100, y: 40, wires: [[id('req')]] },
    {
      id: id('req'),
      type: 'octoeverywhere-printer-request',
      z: id('tab'),
      name: '',
      connection,
      method: 'GET',
      path: '/server/info',
      ret: 'obj',
      timeout: '',
      version: 1,
      x: 300,
      y: 40,
      wires: [[id('res')]],
    },
    { id: id('res'), type: 'http response', z: id('tab'), name: '', statusCode: '', headers: {}, x: 500, y: 40, wires: [] },
  ];
}

/**
 * The status of GET `url`, once its http in route exists: a deploy answers before its flows have
 * started (@node-red/runtime flows/index.js), so a 404 right after one only means "not yet".
 */
async function statusOnceRouted(url: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await fetch(url);
    await res.arrayBuffer();
    if (res.status !== 404 || Date.now() > deadline) return res.status;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The user's own printer (the simulator `real` stands in for octoeverywhere.com), on the config node `id`. */
function realPrinter(real: Simulator, id: string, name: string): FlowNode {
  const k = real.createAppConnection(0);
  return {
    id,
    type: 'octoeverywhere-app-connection',
    name,
    printerName: k.printername,
    connectionId: k.id,
    printerLocalIp: '',
    localUrl: '',
    authType: 'bearer',
    serviceUrl: real.serviceUrl,
    appId: 'devtest',
    version: 1,
    credentials: credentialsOf(k),
  };
}

describe('npm start (scripts/start.js)', function () {
  this.timeout(180_000);
  let real: Simulator;
  const demos: Demo[] = [];

  before(async () => {
    real = await startSimulator();
  });
  afterEach(async () => {
    for (const d of demos.splice(0)) {
      assert.deepEqual(secretsIn(d.output()), [], 'npm start and its Node-RED print no credential');
      await d.stop();
    }
  });
  after(async () => {
    await real?.close();
  });

  it('makes a random credential secret once per user dir, readable only by the user, and settings.js uses it', () => {
    const a = tempDir('oe-demo-');
    const b = tempDir('oe-demo-');
    setup.prepareUserDir(a, { root: ROOT, port: 1880 });
    const file = path.join(a, setup.SECRET_FILE);
    const secret = fs.readFileSync(file, 'utf8').trim();
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    setup.prepareUserDir(a, { root: ROOT, port: 1881 });
    assert.equal(fs.readFileSync(file, 'utf8').trim(), secret, 'made once, then reused');
    setup.prepareUserDir(b, { root: ROOT, port: 1880 });
    assert.notEqual(fs.readFileSync(path.join(b, setup.SECRET_FILE), 'utf8').trim(), secret, 'each user dir has its own');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the settings.js a start wrote, as Node-RED reads it
    const settings = require(path.join(a, 'settings.js')) as { credentialSecret: string; uiPort: number };
    assert.equal(settings.credentialSecret, secret);
    assert.notEqual(settings.credentialSecret, setup.PUBLISHED_SECRET);
  });

  it('re-points the demo printer on the next start and leaves a printer the user added', async () => {
    const userDir = tempDir('oe-demo-');
    const first = await startDemo(userDir);
    demos.push(first);
    let { flows } = await flowsOf(first.url);
    assert.equal(flows.find((n) => n.id === DEMO)?.serviceUrl, first.serviceUrl, 'the first start deploys the demo flow at its simulator');
    const secret = fs.readFileSync(path.join(userDir, setup.SECRET_FILE), 'utf8');
    // The user adds their own printer beside the demo's and deploys.
    await deploy(first.url, [...flows, realPrinter(real, 'my-printer', 'My Voron'), ...checkTab('my-printer', '/real-check')]);
    await first.stop();
    demos.length = 0;

    const second = await startDemo(userDir);
    demos.push(second);
    assert.notEqual(second.serviceUrl, first.serviceUrl, 'a new simulator');
    ({ flows } = await flowsOf(second.url));
    assert.equal(flows.find((n) => n.id === DEMO)?.serviceUrl, second.serviceUrl, 'the demo printer follows the new simulator');
    const mine = flows.find((n) => n.id === 'my-printer');
    assert.equal(mine?.serviceUrl, real.serviceUrl, "the user's printer is untouched");
    assert.match(
      second.output(),
      /Left config node "My Voron" \(my-printer\) as it is: it points at http:\/\/127\.0\.0\.1:\d+ \(connection [^)]+\), not at the simulator an earlier npm start deployed/,
    );
    assert.equal(await statusOnceRouted(`${second.url}/real-check`), 200, "the user's printer still answers with its own credentials");
    assert.equal(fs.readFileSync(path.join(userDir, setup.SECRET_FILE), 'utf8'), secret, 'the secret is reused');

    // Now the user connects their own printer on the demo's config node itself, as its comment says.
    await deploy(second.url, [
      ...flows.map((n) => (n.id === DEMO ? realPrinter(real, DEMO, 'Demo printer (simulator)') : n)),
      ...checkTab(DEMO, '/demo-check'),
    ]);
    await second.stop();
    demos.length = 0;

    const third = await startDemo(userDir);
    demos.push(third);
    ({ flows } = await flowsOf(third.url));
    assert.equal(flows.find((n) => n.id === DEMO)?.serviceUrl, real.serviceUrl, 'the printer connected on the demo node is untouched');
    assert.match(third.output(), /Left config node "Demo printer \(simulator\)" \(oe-demo-connection\) as it is: it points at/);
    assert.match(third.output(), /No demo printer to connect/);
    assert.equal(await statusOnceRouted(`${third.url}/demo-check`), 200, 'and answers with its own credentials');

    // The way back to the demo: delete that config node (the demo's nodes still use its id) and start again.
    await deploy(
      third.url,
      flows.filter((n) => n.id !== DEMO),
    );
    await third.stop();
    demos.length = 0;
    const fourth = await startDemo(userDir);
    demos.push(fourth);
    ({ flows } = await flowsOf(fourth.url));
    assert.equal(flows.find((n) => n.id === DEMO)?.serviceUrl, fourth.serviceUrl, "the demo printer is back, at this start's simulator");
    assert.equal(flows.find((n) => n.id === 'my-printer')?.serviceUrl, real.serviceUrl, "the user's printer is still untouched");
  });

  it('keeps a printer connected on the demo node, and its secrets, in a user dir made with the published key', async () => {
    // A user dir as earlier versions left it: settings with the published secret, and a user who followed
    // the demo's comment and connected their own printer on the demo's config node.
    const userDir = tempDir('oe-demo-');
    fs.mkdirSync(path.join(userDir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(userDir, 'node_modules', 'node-red-contrib-octoeverywhere'), 'dir');
    fs.writeFileSync(
      path.join(userDir, 'package.json'),
      JSON.stringify({ name: 'octoeverywhere-demo', private: true, dependencies: { 'node-red-contrib-octoeverywhere': '*' } }),
    );
    const old = await startNodeRed({ userDir, settings: `credentialSecret: '${setup.PUBLISHED_SECRET}'` });
    try {
      const demoFlow = DEMO_FLOW.map((n) => (n.id === DEMO ? realPrinter(real, DEMO, 'Demo printer (simulator)') : n));
      await deploy(old.url, [...demoFlow, ...checkTab(DEMO, '/real-check')]);
      assert.equal(await statusOnceRouted(`${old.url}/real-check`), 200, old.output());
    } finally {
      await old.stop();
    }
    assert.ok(!fs.existsSync(path.join(userDir, setup.SECRET_FILE)));

    const demo = await startDemo(userDir);
    demos.push(demo);
    assert.match(demo.output(), /Re-encrypted .*flows_cred\.json/);
    assert.doesNotMatch(demo.output(), /could not be decrypted|Failed to decrypt/i);
    const { flows } = await flowsOf(demo.url);
    const node = flows.find((n) => n.id === DEMO);
    assert.equal(node?.serviceUrl, real.serviceUrl, 'the printer the user connected on the demo node is untouched');
    assert.match(demo.output(), /Left config node "Demo printer \(simulator\)" \(oe-demo-connection\) as it is: no earlier npm start recorded deploying it/);
    assert.equal(await statusOnceRouted(`${demo.url}/real-check`), 200, `its credentials survived the new key:\n${demo.output()}`);
  });
});
