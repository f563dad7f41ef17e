// Issue 16, editor side: a real Node-RED with this package and its editor in headless Chromium. The
// status node's dialog offers the mode (poll / live / auto): a node from the palette gets auto, a flow
// saved before `mode` opens as poll, and the choice is saved by Deploy. The config node's Serial number
// (Bambu Lab / Elegoo CC2) sits under Advanced, is checked inline, and is saved trimmed and shown again.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { NodeRedProcess } from '../helpers/node-red-process';
import { artifactPath, browserAvailable, launchBrowser, type LocalBrowser, startNodeRedWithPackage } from './support';

const STATUS = 'octoeverywhere-status-poll';
const CONFIG = 'octoeverywhere-app-connection';
const FLOW = [
  { id: 'tab', type: 'tab', label: 'Printer' },
  {
    id: 'c1',
    type: CONFIG,
    name: 'P1S',
    printerName: 'P1S',
    connectionId: '',
    printerLocalIp: '',
    localUrl: '',
    authType: 'bearer',
    // The default, so Advanced starts collapsed; without an App API token nothing is asked of it.
    serviceUrl: 'https://octoeverywhere.com',
    appId: 'devtest',
    version: 1,
  },
  // Saved by the first release: no version, no mode.
  {
    id: 'p-old',
    type: STATUS,
    z: 'tab',
    name: 'old status',
    connection: 'c1',
    interval: 60,
    output: 'change',
    bedCooldownC: 40,
    x: 200,
    y: 80,
    wires: [[], []],
  },
];
// A loopback address where nothing listens: the deployed nodes' polls stay on this machine.
const CREDENTIALS = { c1: { url: 'http://127.0.0.1:9', authBearerToken: 'bearer-status-mode-e2e' } };

type Saved = Array<Record<string, unknown>>;

describe('e2e: the status node mode and the serial number in the Node-RED editor', function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess;
  let browser: LocalBrowser;
  let page: Page;

  before(async function () {
    if (!browserAvailable(this)) return;
    nodeRed = await startNodeRedWithPackage({ flows: FLOW, credentials: CREDENTIALS });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) await page.screenshot({ path: artifactPath('editor-status-mode-failure.png') }).catch(() => undefined);
  });
  after(async () => {
    await browser?.close();
    await nodeRed?.stop();
  });

  const saved = (): Saved => JSON.parse(fs.readFileSync(path.join(nodeRed.userDir, 'flows.json'), 'utf8')) as Saved;

  async function openEditor(): Promise<void> {
    await page.goto(`${nodeRed.url}/`);
    await page.waitForFunction(() => Boolean((window as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED?.nodes?.node('p-old')));
    await page.waitForFunction(
      () =>
        !document.querySelector('#red-ui-loading-progress') ||
        getComputedStyle(document.querySelector('#red-ui-loading-progress') as Element).display === 'none',
    );
  }

  /** The mode the dialog shows, and the choices it offers (value and label), from the typedInput's menu. */
  async function modeField(): Promise<{ value: string; options: string[] }> {
    await page.waitForSelector('#node-input-mode', { state: 'attached' });
    const value = await page.evaluate(() =>
      (window as unknown as { $: (s: string) => { typedInput(m: string): string } }).$('#node-input-mode').typedInput('value'),
    );
    await page.locator('#node-input-mode').locator('xpath=..').locator('.red-ui-typedInput-option-trigger').click();
    const menu = page.locator('.red-ui-typedInput-options:visible');
    await menu.waitFor();
    const options = await menu.locator('a').allTextContents();
    // Choosing the value shown closes the menu without a change.
    await menu.locator(`a[value="${value}"]`).click();
    await menu.waitFor({ state: 'hidden', timeout: 5_000 });
    return { value, options: options.map((o) => o.trim()) };
  }

  async function chooseMode(label: RegExp): Promise<void> {
    await page.locator('#node-input-mode').locator('xpath=..').locator('.red-ui-typedInput-option-trigger').click();
    const menu = page.locator('.red-ui-typedInput-options:visible');
    await menu.waitFor();
    await menu.locator('a', { hasText: label }).click();
    await menu.waitFor({ state: 'hidden', timeout: 5_000 });
  }

  async function deploy(): Promise<void> {
    await page.click('#red-ui-header-button-deploy');
    await page.waitForSelector('.red-ui-notification-success, .red-ui-notification:has-text("Successfully deployed")');
    await page
      .locator('.red-ui-notification')
      .first()
      .waitFor({ state: 'detached', timeout: 10_000 })
      .catch(() => undefined);
  }

  it('an old status node opens as poll, offers poll / live / auto, and Deploy saves the choice', async () => {
    await openEditor();
    await page.dblclick('[id="p-old"] rect.red-ui-flow-node');
    const field = await modeField();
    assert.equal(field.value, 'poll', 'a flow saved before mode keeps polling');
    assert.deepEqual(field.options.length, 3);
    assert.match(field.options.join(' | '), /^auto: live where the printer pushes, else poll \| live \(poll while the socket is down\) \| poll/);
    await page
      .locator('.red-ui-tray')
      .last()
      .screenshot({ path: artifactPath('status-poll-dialog-mode.png') });
    // Live readings are a live choice: hidden while the node polls.
    assert.equal(await page.locator('.oe-status-readings').first().isVisible(), false);
    await chooseMode(/^live/);
    assert.equal(
      await page.evaluate(() => (window as unknown as { $: (s: string) => { typedInput(m: string): string } }).$('#node-input-mode').typedInput('value')),
      'live',
    );
    assert.equal(await page.locator('.oe-status-readings').first().isVisible(), true, 'the readings row for live');
    const readings = (): Promise<string> =>
      page.evaluate(() => (window as unknown as { $: (s: string) => { typedInput(m: string): string } }).$('#node-input-readings').typedInput('value'));
    assert.equal(await readings(), 'push', 'a flow saved before readings gets the pushes, as before');
    await page.locator('#node-input-readings').locator('xpath=..').locator('.red-ui-typedInput-option-trigger').click();
    const menu = page.locator('.red-ui-typedInput-options:visible');
    await menu.waitFor();
    assert.deepEqual(
      (await menu.locator('a').allTextContents()).map((o) => o.trim()),
      ['as the printer pushes them', 'once per interval (lighter, for print farms)'],
    );
    await menu.locator('a', { hasText: /once per interval/ }).click();
    await menu.waitFor({ state: 'hidden', timeout: 5_000 });
    assert.equal(await readings(), 'interval');
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-dialog-ok', { state: 'detached' });
    await deploy();
    const node = saved().find((n) => n.id === 'p-old');
    assert.deepEqual(
      [node?.mode, node?.readings, node?.version, node?.interval],
      ['live', 'interval', 2, 60],
      'the choices, the current version, the other options kept',
    );

    // Opened again after a reload: the saved choice.
    await openEditor();
    await page.dblclick('[id="p-old"] rect.red-ui-flow-node');
    assert.equal((await modeField()).value, 'live');
    await page.click('#node-dialog-cancel');
    await page.waitForSelector('#node-dialog-cancel', { state: 'detached' });
  });

  it('a status node from the palette defaults to auto', async () => {
    await openEditor();
    const palette = page.locator(`.red-ui-palette-node[data-palette-type="${STATUS}"]`);
    await palette.scrollIntoViewIfNeeded();
    await palette.dragTo(page.locator('#red-ui-workspace-chart'), { targetPosition: { x: 500, y: 300 } });
    const id = await page.waitForFunction((type) => {
      const RED = (window as unknown as { RED: { nodes: { eachNode(fn: (n: { id: string; type: string }) => void): void } } }).RED;
      let found = '';
      RED.nodes.eachNode((n) => {
        if (n.type === type && n.id !== 'p-old') found = n.id;
      });
      return found || undefined;
    }, STATUS);
    const newId = (await id.jsonValue()) as string;
    await page.dblclick(`[id="${newId}"] rect.red-ui-flow-node`);
    assert.equal((await modeField()).value, 'auto');
    await page.click('#node-dialog-cancel');
    await page.waitForSelector('#node-dialog-cancel', { state: 'detached' });
    // Not deployed: the next test reloads the editor from the runtime.
  });

  it("the config node's Serial number is under Advanced, checked inline, saved trimmed and shown again", async () => {
    async function openConfig(): Promise<void> {
      await openEditor();
      await page.evaluate((type) => {
        (window as unknown as { RED: { editor: { editConfig(name: string, type: string, id: string): void } } }).RED.editor.editConfig('', type, 'c1');
      }, CONFIG);
      await page.waitForSelector('#node-config-input-url');
    }
    await openConfig();
    assert.equal(await page.isVisible('#node-config-input-serialNumber'), false, 'under Advanced, collapsed for the default values');
    await page.click('#node-config-oe-advanced-toggle');
    assert.equal(await page.isVisible('#node-config-input-serialNumber'), true);
    assert.match((await page.textContent('#node-config-oe-serial-hint')) ?? '', /no OctoEverywhere API returns it.*Bambu Handy.*Bambu Studio.*Elegoo CC2/);
    assert.match((await page.getAttribute('#node-config-input-serialNumber', 'placeholder')) ?? '', /Bambu Lab \/ Elegoo CC2 only/);
    const field = page.locator('#node-config-input-serialNumber');
    const invalid = async (value: string): Promise<boolean> => {
      await field.fill(value);
      await field.dispatchEvent('change');
      return field.evaluate((el) => el.classList.contains('input-error'));
    };
    for (const bad of ['device/+', '01P00A#', 'has space', 'ab']) assert.equal(await invalid(bad), true, `${bad} is refused`);
    for (const good of ['', ' 01P00A123456789 ', 'E2CC00000000001']) assert.equal(await invalid(good), false, `${good} is accepted`);
    await field.fill('  01P00A123456789  ');
    await page
      .locator('.red-ui-tray')
      .last()
      .screenshot({ path: artifactPath('app-connection-dialog-serial.png') });
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-dialog-ok', { state: 'detached' });
    await deploy();
    const config = saved().find((n) => n.id === 'c1');
    assert.equal(config?.serialNumber, '01P00A123456789', 'saved trimmed, in the flow (not a secret)');
    assert.equal(config?.version, 1, 'no migration needed: an absent serial number is an empty one');
    const creds = fs.readFileSync(path.join(nodeRed.userDir, 'flows_cred.json'), 'utf8');
    assert.ok(!creds.includes('01P00A123456789'), 'not among the credentials');

    await openConfig();
    assert.equal(await page.isVisible('#node-config-input-serialNumber'), true, 'Advanced opens by itself when a serial number is set');
    assert.equal(await page.inputValue('#node-config-input-serialNumber'), '01P00A123456789');
    await page.click('#node-config-dialog-cancel');
    await page.waitForSelector('#node-config-dialog-cancel', { state: 'detached' });
    assert.deepEqual(browser.blocked, [], 'the browser asked nothing of the internet');
  });

  it('the Home Assistant node offers the same Live readings, hidden while it polls', async () => {
    await openEditor();
    // Imported, not deployed: only its dialog is looked at.
    await page.evaluate(() => {
      const RED = (
        window as unknown as {
          RED: { view: { importNodes(nodes: unknown[]): void }; nodes: { node(id: string): unknown }; editor: { edit(node: unknown): void } };
        }
      ).RED;
      RED.view.importNodes([{ id: 'ha-readings', type: 'octoeverywhere-home-assistant', connection: 'c1', broker: '', x: 400, y: 160, wires: [] }]);
      RED.editor.edit(RED.nodes.node('ha-readings'));
    });
    await page.waitForSelector('#node-input-readings', { state: 'attached' });
    const row = page.locator('.oe-ha-readings');
    assert.equal(await row.isVisible(), true, 'auto (the default) follows live: the row is there');
    assert.equal(
      await page.evaluate(() => (window as unknown as { $: (s: string) => { typedInput(m: string): string } }).$('#node-input-readings').typedInput('value')),
      'push',
    );
    await chooseMode(/^poll/);
    assert.equal(await row.isVisible(), false, 'no readings row for poll');
    await chooseMode(/^live/);
    assert.equal(await row.isVisible(), true);
    await page.click('#node-dialog-cancel');
    await page.waitForSelector('#node-dialog-cancel', { state: 'detached' });
  });
});
