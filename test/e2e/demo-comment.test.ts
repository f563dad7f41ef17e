// Issue 13.2 end to end: the npm start demo's comment tells a user how to connect their own printer
// on the demo's config node. Its steps, done in Chromium in the order written, connect that printer
// (the portal opened is the Service URL's, not the demo simulator's), and the next npm start leaves
// the node and its secrets alone. A second simulator stands in for octoeverywhere.com.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { type Simulator, startSimulator } from '../../src/simulator';
import { tempDir } from '../helpers/node-red-process';
import { secretsIn, watchSecret } from '../helpers/secrets';
import { type Demo, flowsOf, startDemo } from '../demo/support';
import { artifactPath, browserAvailable, completePortal, launchBrowser, type LocalBrowser } from './support';

const DEMO = 'oe-demo-connection';
const COMMENT = 'oe-demo-comment';

type Red = {
  nodes: { node(id: string): { info?: string } | null };
  editor: { editConfig(name: string, type: string, id: string): void };
};

describe('e2e: the npm start demo comment, followed step by step (issue 13.2)', function () {
  this.timeout(240_000);
  let real: Simulator;
  let browser: LocalBrowser;
  let page: Page;
  const demos: Demo[] = [];

  before(async function () {
    if (!browserAvailable(this)) return;
    real = await startSimulator();
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) await page.screenshot({ path: artifactPath('demo-comment-failure.png') }).catch(() => undefined);
  });
  after(async () => {
    for (const d of demos.splice(0)) await d.stop();
    await browser?.close();
    await real?.close();
  });

  it("connects the user's printer on the demo node in the order written, and the next start leaves it", async () => {
    const userDir = tempDir('oe-demo-');
    const first = await startDemo(userDir);
    demos.push(first);
    await page.goto(`${first.url}/`);
    await page.waitForFunction((id) => Boolean((window as unknown as { RED?: Red }).RED?.nodes?.node(id)), DEMO);

    // The steps as the comment gives them: Service URL (under Advanced), then Connect and Update, then Deploy.
    const info = await page.evaluate((id) => (window as unknown as { RED: Red }).RED.nodes.node(id)?.info ?? '', COMMENT);
    const steps = info.slice(info.indexOf('**Your own printer instead**'));
    const at = (text: string): number => {
      const i = steps.indexOf(text);
      assert.ok(i >= 0, `the comment's steps mention ${text}:\n${steps}`);
      return i;
    };
    assert.ok(
      at('Service URL') < at('**Connect with OctoEverywhere**') && at('**Advanced**') < at('**Connect with OctoEverywhere**'),
      'the Service URL (under Advanced) comes before Connect',
    );
    assert.ok(at('**Connect with OctoEverywhere**') < at('**Update**') && at('**Update**') < at('**Deploy**'), 'then Update, then Deploy');

    // 1. Open the demo printer's config node: its Service URL (the demo simulator's) is not the
    //    default, so Advanced is open; set it to the service the user's printer is on.
    await page.evaluate((id) => (window as unknown as { RED: Red }).RED.editor.editConfig('', 'octoeverywhere-app-connection', id), DEMO);
    await page.waitForSelector('#node-config-input-serviceUrl');
    assert.equal(await page.isVisible('#node-config-input-serviceUrl'), true, 'Advanced is open by itself');
    assert.equal(await page.inputValue('#node-config-input-serviceUrl'), first.serviceUrl);
    await page.fill('#node-config-input-serviceUrl', real.serviceUrl);

    // 2. Connect opens that service's portal (not the demo simulator's); then Update.
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#node-config-oe-connect')]);
    await popup.waitForURL(/\/appportal\/v1\//);
    assert.equal(new URL(popup.url()).origin, new URL(real.serviceUrl).origin, "the portal of the Service URL's service");
    const printer = real.printers[0].name;
    await completePortal(popup, printer);
    await page.waitForSelector('#node-config-oe-portal-status.oe-ok');
    for (const field of ['authBearerToken', 'authBasicHttpPassword', 'appApiToken']) watchSecret(await page.inputValue(`#node-config-input-${field}`));
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-dialog-ok', { state: 'detached' });

    // 3. Deploy.
    await page.click('#red-ui-header-button-deploy');
    await page.waitForSelector('.red-ui-notification-success, .red-ui-notification:has-text("Successfully deployed")');
    let node = (await flowsOf(first.url)).flows.find((n) => n.id === DEMO);
    assert.equal(node?.serviceUrl, real.serviceUrl);
    assert.ok(typeof node?.connectionId === 'string' && node.connectionId !== '', "the portal's connection id");
    const connectionId = node?.connectionId;
    await first.stop();

    // The next start leaves it, says so, and its saved secrets still reach the user's printer.
    const second = await startDemo(userDir);
    demos.push(second);
    assert.match(second.output(), /Left config node "[^"]+" \(oe-demo-connection\) as it is: it points at/);
    node = (await flowsOf(second.url)).flows.find((n) => n.id === DEMO);
    assert.equal(node?.serviceUrl, real.serviceUrl, 'untouched');
    assert.equal(node?.connectionId, connectionId);
    const res = await fetch(`${second.url}/octoeverywhere/app-connection/test`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        id: DEMO,
        authType: 'bearer',
        serviceUrl: real.serviceUrl,
        appId: node?.appId,
        localUrl: '',
        credentials: {
          url: '__PWRD__',
          authBearerToken: '__PWRD__',
          authBasicHttpUser: '__PWRD__',
          authBasicHttpPassword: '__PWRD__',
          appApiToken: '__PWRD__',
        },
      }),
    });
    const answer = (await res.json()) as { level: string; checks: Array<{ id: string; level: string; args?: { printer?: string } }> };
    assert.equal(answer.level, 'ok', JSON.stringify(answer));
    assert.equal(answer.checks.find((c) => c.id === 'printer')?.args?.printer, printer, "the user's printer, with the secrets saved in step 3");
    assert.deepEqual(secretsIn(first.output() + second.output()), [], 'npm start and its Node-RED print no credential');
    // (The demo's editor may ask the palette catalogue, so that Manage palette can install Dashboard 2:
    // the browser blocks it here, and the steps never needed it.)
    assert.deepEqual(
      browser.blocked.filter((origin) => origin !== 'https://catalogue.nodered.org'),
      [],
      'nothing else left this machine',
    );
  });
});
