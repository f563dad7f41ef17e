// Issue 7 end to end: a real Node-RED with this package, its editor in headless Chromium, the simulated
// OctoEverywhere. The user adds an App Connection from a printer-request node's config picker, clicks
// Connect, completes the portal in the pop-up, sees the fields filled, tests, deploys, and the request
// node gets a 200 from the simulated printer through the App Connection.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { type Simulator, startSimulator } from '../../src/simulator';
import type { NodeRedProcess } from '../helpers/node-red-process';
import { secretsIn, watchSecret } from '../helpers/secrets';
import { credentialsOf } from '../helpers/simulator';
import { ADMIN, artifactPath, browserAvailable, completePortal, launchBrowser, type LocalBrowser, startNodeRedWithPackage, VIEWER } from './support';

const SAVED_ID = 'saved-cfg';
const SHARED_ID = 'saved-shared';
/** Saved config nodes whose only non-default Advanced value is the one named (issue 13.6). */
const ADVANCED_ONE: Readonly<Record<string, { field: string; value: string }>> = {
  'adv-connection-id': { field: 'connectionId', value: 'c0ffee' },
  'adv-printer-ip': { field: 'printerLocalIp', value: '192.168.1.50' },
  'adv-app-id': { field: 'appId', value: 'nodered' },
};

const FLOW = [
  { id: 'tab', type: 'tab', label: 'Printer' },
  {
    id: 'inj',
    type: 'inject',
    z: 'tab',
    name: 'ask',
    props: [{ p: 'payload' }],
    payload: '',
    payloadType: 'date',
    repeat: '',
    once: false,
    x: 120,
    y: 100,
    wires: [['req']],
  },
  {
    id: 'req',
    type: 'octoeverywhere-printer-request',
    z: 'tab',
    name: 'server info',
    connection: '',
    method: 'GET',
    path: '/server/info',
    ret: 'obj',
    timeout: '',
    version: 1,
    x: 320,
    y: 100,
    wires: [['dbg']],
  },
  {
    id: 'dbg',
    type: 'debug',
    z: 'tab',
    name: 'status',
    active: true,
    tosidebar: true,
    console: false,
    complete: 'statusCode',
    targetType: 'msg',
    x: 520,
    y: 100,
    wires: [],
  },
];

describe('e2e: Connect with OctoEverywhere in the Node-RED editor', function () {
  this.timeout(120_000);
  let sim: Simulator;
  let nodeRed: NodeRedProcess;
  let browser: LocalBrowser;
  let page: Page;
  let saved: { url: string; user: string };

  before(async function () {
    if (!browserAvailable(this)) return;
    sim = await startSimulator();
    // A deployed config node of another printer, with a Service URL that is not the default.
    const keys = sim.createAppConnection(1, { appId: 'nodered' });
    saved = { url: keys.url, user: keys.authbasichttpuser ?? '' };
    const savedConfig = {
      id: SAVED_ID,
      type: 'octoeverywhere-app-connection',
      name: 'Saved printer',
      printerName: 'Prusa MK3S',
      connectionId: '',
      printerLocalIp: '',
      localUrl: '',
      authType: 'bearer',
      serviceUrl: sim.serviceUrl,
      appId: 'devtest',
      version: 1,
    };
    const sharedConfig = { ...savedConfig, id: SHARED_ID, name: 'Shared printer', serviceUrl: '' };
    const advancedOne = Object.entries(ADVANCED_ONE).map(([id, { field, value }]) => ({
      ...savedConfig,
      id,
      name: id,
      serviceUrl: 'https://octoeverywhere.com/',
      [field]: value,
    }));
    nodeRed = await startNodeRedWithPackage({
      flows: [...FLOW, savedConfig, sharedConfig, ...advancedOne],
      credentials: { [SAVED_ID]: { ...credentialsOf(keys) }, [SHARED_ID]: { ...credentialsOf(sim.sharedConnection(1)) } },
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  afterEach(async function () {
    // A picture of the failure, for a human; the assertions are on the DOM.
    if (this.currentTest?.state === 'failed' && page) await page.screenshot({ path: artifactPath('editor-connect-failure.png') }).catch(() => undefined);
  });
  after(async () => {
    await browser?.close();
    await nodeRed?.stop();
    await sim?.close();
  });

  it('connects a printer in one click and the deployed request node reaches it', async () => {
    await page.goto(`${nodeRed.url}/`);
    await page.waitForFunction(() => {
      const red = (window as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED;
      return Boolean(red?.nodes?.node('req'));
    });
    const types = await page.evaluate(
      () => (window as unknown as { RED: { nodes: { getType(t: string): unknown } } }).RED.nodes.getType('octoeverywhere-printer-request') !== undefined,
    );
    assert.ok(types, "Node-RED loaded the package's printer-request node");

    // Open the request node and add a new App Connection from its config picker.
    await page.dblclick('[id="req"] rect.red-ui-flow-node');
    await page.waitForSelector('#node-input-btn-connection-add');
    await page.click('#node-input-btn-connection-add');
    await page.waitForSelector('#node-config-oe-connect');
    // Service URL and App ID are Advanced settings (issue 13.6): collapsed for a new node.
    assert.equal(await page.isVisible('#node-config-input-serviceUrl'), false, 'Advanced is collapsed');
    await page.click('#node-config-oe-advanced-toggle');
    await page.fill('#node-config-input-serviceUrl', sim.serviceUrl);
    await page.fill('#node-config-input-appId', 'nodered');

    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#node-config-oe-connect')]);
    await popup.waitForURL(/\/appportal\/v1\//);
    const portal = new URL(popup.url());
    assert.equal(portal.searchParams.get('appid'), 'nodered');
    assert.match(portal.searchParams.get('returnUrl') ?? '', new RegExp(`^${nodeRed.url}/octoeverywhere/portal/callback\\?state=[A-Za-z0-9_-]{32}$`));
    assert.equal(await popup.evaluate(() => window.opener), null, 'the portal gets no handle on the editor');
    assert.equal(await popup.locator('#app-logo').evaluate((img) => (img as HTMLImageElement).naturalWidth > 0), true, 'the portal shows our logo');
    await completePortal(popup, 'Voron 2.4');
    await popup.waitForURL(/\/octoeverywhere\/portal\/callback/).catch(() => undefined);

    // The dialog fills itself in and says what happens to the secrets.
    await page.waitForSelector('#node-config-oe-portal-status.oe-ok');
    assert.match((await page.textContent('#node-config-oe-portal-status')) ?? '', /Connected to Voron 2\.4/);
    assert.match((await page.textContent('#node-config-oe-portal-note')) ?? '', /Deploy/);
    const url = await page.inputValue('#node-config-input-url');
    assert.match(url, /^http:\/\/app-[a-z0-9]{32}\.localhost:\d+$/);
    for (const field of ['appApiToken', 'authBearerToken', 'authBasicHttpPassword']) {
      const value = await page.inputValue(`#node-config-input-${field}`);
      watchSecret(value);
      assert.ok(value.length >= 8 && value !== '__PWRD__', `${field} is filled`);
    }
    assert.equal(await page.inputValue('#node-config-input-printerName'), 'Voron 2.4');
    assert.equal(await page.inputValue('#node-config-input-name'), 'Voron 2.4');

    // Test connection with the unsaved values: each part on its own line (issue 13.1).
    await page.click('#node-config-oe-test');
    await page.waitForSelector('#node-config-oe-test-result[data-state="ok"]');
    assert.match((await page.textContent('#node-config-oe-test-result [data-check="printer"]')) ?? '', /Voron 2\.4 is online/);
    assert.match((await page.textContent('#node-config-oe-test-result [data-check="relay"]')) ?? '', /^Relay: /);
    assert.match((await page.textContent('#node-config-oe-test-result [data-check="app-api"]')) ?? '', /App API token works/);
    const tray = page.locator('.red-ui-tray').last();
    await tray.screenshot({ path: artifactPath('app-connection-dialog-test.png') });
    await page.locator('#node-config-input-name').scrollIntoViewIfNeeded();
    await tray.screenshot({ path: artifactPath('app-connection-dialog.png') });

    // A mistyped Connection URL fails the relay line on its own, though the App API token still works.
    const typo = url.replace(/app-([a-z0-9])/, (_m, c: string) => `app-${c === 'a' ? 'b' : 'a'}`);
    await page.fill('#node-config-input-url', typo);
    await page.click('#node-config-oe-test');
    await page.waitForSelector('#node-config-oe-test-result[data-state="error"]');
    const result = page.locator('#node-config-oe-test-result');
    assert.match((await result.textContent()) ?? '', /^Not usable as it is:/);
    assert.equal(await result.locator('[data-check="relay"]').getAttribute('data-level'), 'error');
    assert.match(
      (await result.locator('[data-check="relay"]').textContent()) ?? '',
      /^Relay: the status command through the Connection URL failed \(OE_6\d\d\)\. \S/,
    );
    assert.equal(await result.locator('[data-check="app-api"]').getAttribute('data-level'), 'ok');
    assert.equal(await result.locator('[data-check="printer"]').getAttribute('data-level'), 'warn', 'never "Voron 2.4 is online" as an ok line');
    assert.match((await result.locator('[data-check="printer"]').textContent()) ?? '', /Voron 2\.4 is online at OctoEverywhere, but the nodes cannot reach it/);
    assert.deepEqual(secretsIn((await result.textContent()) ?? ''), [], 'the test shows no secret');
    await page.fill('#node-config-input-url', url);

    // Cancel would lose secrets that cannot be fetched again: the dialog asks first.
    await page.click('#node-config-dialog-cancel');
    const ask = page.locator('.red-ui-notification', { hasText: 'cannot show them again' });
    await ask.waitFor();
    await ask.getByRole('button', { name: 'Keep editing' }).click();
    await ask.waitFor({ state: 'detached' });
    assert.ok(await page.isVisible('#node-config-oe-connect'), 'still editing');

    // Add the config node, close the request node, deploy.
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-dialog-ok', { state: 'detached' });
    assert.equal((await page.inputValue('#node-input-connection')) !== '', true, 'the request node uses the new connection');
    await page.click('#node-dialog-ok');
    await page.click('#red-ui-header-button-deploy');
    await page.waitForSelector('.red-ui-notification-success, .red-ui-notification:has-text("Successfully deployed")');

    // Deployed: the flow file holds no secret, the credential file holds them (encrypted).
    const flowsText = fs.readFileSync(path.join(nodeRed.userDir, 'flows.json'), 'utf8');
    assert.deepEqual(secretsIn(flowsText), []);
    assert.ok(fs.existsSync(path.join(nodeRed.userDir, 'flows_cred.json')));

    // The inject button sends a message; the debug sidebar shows the printer's 200.
    await page.evaluate(() => (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('debug'));
    await page.click('[id="inj"] .red-ui-flow-node-button-button');
    const message = page.locator('.red-ui-debug-msg', { hasText: 'msg.statusCode' });
    await message.first().waitFor();
    assert.match((await message.first().textContent()) ?? '', /msg\.statusCode : number\s*200/);
    assert.deepEqual(browser.blocked, [], 'the browser asked nothing of the internet');
    assert.deepEqual(secretsIn(nodeRed.output()), [], 'Node-RED printed no secret');
  });

  /** Opens a config dialog straight from the editor's API: a new one, or a saved node's. */
  async function openConfig(id: string): Promise<void> {
    await page.goto(`${nodeRed.url}/`);
    await page.waitForFunction(() => Boolean((window as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED?.nodes?.node('req')));
    await page.evaluate((configId) => {
      (window as unknown as { RED: { editor: { editConfig(name: string, type: string, id: string): void } } }).RED.editor.editConfig(
        '',
        'octoeverywhere-app-connection',
        configId,
      );
    }, id);
    await page.waitForSelector('#node-config-input-url');
  }

  async function cancelDialog(): Promise<void> {
    await page.click('#node-config-dialog-cancel');
    const ask = page.locator('.red-ui-notification', { hasText: 'cannot show them again' });
    if (await ask.isVisible().catch(() => false)) await ask.getByRole('button', { name: 'Discard' }).click();
    await page.waitForSelector('#node-config-dialog-cancel', { state: 'detached' });
  }

  async function urlInvalid(value: string): Promise<boolean> {
    const field = page.locator('#node-config-input-url');
    await field.fill(value);
    await field.dispatchEvent('change');
    return field.evaluate((el) => el.classList.contains('input-error'));
  }

  it('issue 13.6: everyday fields first, Advanced collapsed for a new node, and the Connection URL checked inline', async () => {
    await openConfig('_ADD_');
    const order = await page.$$eval('.oe-app-connection [id^="node-config-input-"]', (els) => els.map((e) => e.id.replace('node-config-input-', '')));
    assert.ok(order.indexOf('url') < order.indexOf('localUrl') && order.indexOf('localUrl') < order.indexOf('connectionId'), order.join(','));
    assert.equal(await page.isVisible('#node-config-oe-advanced'), false, 'collapsed');
    for (const field of ['connectionId', 'printerLocalIp', 'appId', 'serviceUrl']) {
      assert.equal(await page.isVisible(`#node-config-input-${field}`), false, `${field} is under Advanced`);
    }
    for (const bad of ['ftp://x', 'not a url', 'http://192.168.1.5', 'https://user:pw@app-x.octoeverywhere.com']) {
      assert.equal(await urlInvalid(bad), true, `${bad} is refused`);
    }
    for (const good of ['https://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com', 'http://app-x.localhost:41234', '']) {
      assert.equal(await urlInvalid(good), false, `${good} is accepted`);
    }
    await page.click('#node-config-oe-advanced-toggle');
    assert.equal(await page.isVisible('#node-config-input-serviceUrl'), true, 'the toggle opens it');
    await cancelDialog();
  });

  it('issue 13.6: the dialog reads Connect, name, Connection URL, credentials, LAN URL, then Advanced with its four fields', async () => {
    await openConfig('_ADD_');
    const everyday = [
      'oe-connect',
      'input-name',
      'input-url',
      'input-authBearerToken',
      'input-authBasicHttpUser',
      'input-authBasicHttpPassword',
      'input-appApiToken',
      'input-localUrl',
    ];
    const advanced = ['input-connectionId', 'input-printerLocalIp', 'input-appId', 'input-serviceUrl'];
    // Every element with an id, in document order, and whether it sits in the Advanced section.
    const inDom = await page.$$eval('.oe-app-connection [id]', (els) =>
      els.map((e) => ({ id: e.id.replace('node-config-', ''), inAdvanced: e.closest('#node-config-oe-advanced') !== null })),
    );
    const at = (id: string): number => {
      const i = inDom.findIndex((e) => e.id === id);
      assert.ok(i >= 0, `#node-config-${id} is in the dialog`);
      return i;
    };
    const placed = {
      inOrder: everyday.every((id, i) => i === 0 || at(everyday[i - 1]) < at(id)),
      everydayOutside: everyday.filter((id) => inDom[at(id)].inAdvanced),
      lastEverydayBeforeToggle: at(everyday[everyday.length - 1]) < at('oe-advanced-toggle'),
      advancedInside: advanced.filter((id) => !inDom[at(id)].inAdvanced),
    };
    assert.deepEqual(placed, { inOrder: true, everydayOutside: [], lastEverydayBeforeToggle: true, advancedInside: [] });
    await cancelDialog();
  });

  for (const [id, { field, value }] of Object.entries(ADVANCED_ONE)) {
    it(`issue 13.6: a saved node whose ${field} is not the default (${value}) opens Advanced by itself`, async () => {
      await openConfig(id);
      assert.equal(await page.isVisible('#node-config-oe-advanced'), true, 'Advanced opened by itself');
      assert.equal(await page.inputValue(`#node-config-input-${field}`), value);
      assert.equal(await page.getAttribute('#node-config-oe-advanced-toggle', 'aria-expanded'), 'true');
      await cancelDialog();
    });
  }

  it('issues 13.6 and 14.3: a saved node with a non-default Service URL opens Advanced, and shows its Connection URL and Basic user', async () => {
    await openConfig(SAVED_ID);
    assert.equal(await page.isVisible('#node-config-input-serviceUrl'), true, 'Advanced opened by itself');
    await page.waitForFunction(() => (document.querySelector('#node-config-input-url') as HTMLInputElement | null)?.value !== '__PWRD__');
    assert.equal(await page.inputValue('#node-config-input-url'), saved.url);
    assert.equal(await page.inputValue('#node-config-input-authBasicHttpUser'), saved.user);
    assert.equal(await page.inputValue('#node-config-input-authBearerToken'), '__PWRD__', 'secrets stay placeholders');
    assert.equal(
      await page.locator('#node-config-oe-mode-app').evaluate((b) => b.classList.contains('selected')),
      true,
      'an App Connection (it has an App API token)',
    );
    await cancelDialog();

    // A saved Shared Connection (no App API token, a shared- URL) opens as one, though its URL is a password credential now.
    await openConfig(SHARED_ID);
    await page.waitForFunction(() => /shared-/.test((document.querySelector('#node-config-input-url') as HTMLInputElement | null)?.value ?? ''));
    assert.equal(await page.locator('#node-config-oe-mode-shared').evaluate((b) => b.classList.contains('selected')), true, 'a Shared Connection');
    assert.equal(await page.isVisible('#node-config-oe-advanced'), false, 'all Advanced values are the defaults');
    await cancelDialog();
  });

  it('issue 14.6: a pasted completion that points elsewhere is filled in only after the user confirms', async () => {
    const keys = sim.createAppConnection(0, { appId: 'nodered' });
    for (const v of [keys.authBearerToken, keys.appApiToken, keys.authbasichttppassword]) watchSecret(v);
    const query = new URLSearchParams(
      Object.entries({ ...keys, url: 'https://attacker.example' }).filter((e): e is [string, string] => typeof e[1] === 'string'),
    ).toString();
    await openConfig('_ADD_');
    await page.click('#node-config-oe-paste-toggle');

    await page.fill('#node-config-oe-completion', `x://done?${query}`);
    await page.click('#node-config-oe-use-completion');
    const ask = page.locator('.red-ui-notification', { hasText: 'attacker.example' });
    await ask.waitFor();
    assert.match((await ask.textContent()) ?? '', /not an OctoEverywhere App Connection/);
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await ask.waitFor({ state: 'detached' });
    assert.equal(await page.inputValue('#node-config-input-url'), '', 'nothing filled in');
    assert.equal(await page.inputValue('#node-config-input-authBearerToken'), '');
    assert.match((await page.textContent('#node-config-oe-paste-status')) ?? '', /Not used/);

    await page.fill('#node-config-oe-completion', `x://done?${query}`);
    await page.click('#node-config-oe-use-completion');
    await ask.waitFor();
    await ask.getByRole('button', { name: 'Use it anyway' }).click();
    await ask.waitFor({ state: 'detached' });
    assert.equal(await page.inputValue('#node-config-input-url'), 'https://attacker.example');
    assert.equal(await page.inputValue('#node-config-input-authBearerToken'), keys.authBearerToken);

    // The simulator's own completion is filled in without asking.
    const own = new URLSearchParams(Object.entries(keys).filter((e): e is [string, string] => typeof e[1] === 'string')).toString();
    await page.fill('#node-config-oe-completion', `x://done?${own}`);
    await page.click('#node-config-oe-use-completion');
    await page.waitForFunction((url) => (document.querySelector('#node-config-input-url') as HTMLInputElement | null)?.value === url, keys.url);
    assert.equal(await page.locator('.red-ui-notification', { hasText: 'not an OctoEverywhere' }).count(), 0);
    await cancelDialog();
    assert.deepEqual(browser.blocked, [], 'the browser asked nothing of the internet');
  });
});

describe('e2e: the config dialog for a read-only editor user (issue 14.3)', function () {
  this.timeout(120_000);
  let sim: Simulator;
  let nodeRed: NodeRedProcess;
  let browser: LocalBrowser;
  let page: Page;
  let url: string;

  before(async function () {
    if (!browserAvailable(this)) return;
    sim = await startSimulator();
    const keys = sim.createAppConnection(0, { appId: 'nodered' });
    url = keys.url;
    const config = {
      id: SAVED_ID,
      type: 'octoeverywhere-app-connection',
      name: 'Saved printer',
      printerName: 'Voron 2.4',
      connectionId: '',
      printerLocalIp: '',
      localUrl: '',
      authType: 'bearer',
      serviceUrl: sim.serviceUrl,
      appId: 'devtest',
      version: 1,
    };
    nodeRed = await startNodeRedWithPackage({ users: [ADMIN, VIEWER], flows: [...FLOW, config], credentials: { [SAVED_ID]: { ...credentialsOf(keys) } } });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    await nodeRed?.stop();
    await sim?.close();
  });

  it('shows the saved Connection URL and Basic user as hidden, and never receives them', async () => {
    const answers: string[] = [];
    page.on('response', (res) => {
      if (/\/(credentials|octoeverywhere)\//.test(res.url()))
        void res.text().then(
          (t) => answers.push(t),
          () => undefined,
        );
    });
    await page.goto(`${nodeRed.url}/`);
    await page.waitForSelector('#node-dialog-login-username');
    await page.fill('#node-dialog-login-username', VIEWER.username);
    await page.fill('#node-dialog-login-password', VIEWER.password);
    await page.click('#node-dialog-login-submit');
    await page.waitForFunction(() => Boolean((window as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED?.nodes?.node('req')));
    await page.evaluate((id) => {
      (window as unknown as { RED: { editor: { editConfig(name: string, type: string, id: string): void } } }).RED.editor.editConfig(
        '',
        'octoeverywhere-app-connection',
        id,
      );
    }, SAVED_ID);
    await page.waitForSelector('#node-config-oe-connect');
    await page.waitForFunction(
      () => (document.querySelector('#node-config-input-url') as HTMLInputElement | null)?.getAttribute('placeholder')?.includes('hidden') === true,
    );
    assert.equal(await page.inputValue('#node-config-input-url'), '');
    assert.equal(await page.inputValue('#node-config-input-authBasicHttpUser'), '');
    assert.match((await page.getAttribute('#node-config-input-authBasicHttpUser', 'placeholder')) ?? '', /hidden/);
    assert.ok(answers.length > 0, 'the dialog asked for them');
    assert.ok(
      answers.every((t) => !t.includes(url)),
      'no answer to this user held the Connection URL',
    );
    assert.deepEqual(secretsIn(answers.join('\n')), []);
  });
});
