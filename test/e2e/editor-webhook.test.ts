// Issue 14.1 in the editor (headless Chromium, real Node-RED with adminAuth): the webhook token is a
// password credential. A new node gets a token made in the browser, shown in its URL and deployed; a
// saved token shows as __PWRD__, is shown to an admin (from the write-only route) and kept on save; a
// read-only user sees the URL without it.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { NodeRedProcess } from '../helpers/node-red-process';
import { watchSecret } from '../helpers/secrets';
import { delivery, post, untilListening, webhookFlow } from '../security/webhook-support';
import { ADMIN, artifactPath, browserAvailable, launchBrowser, type LocalBrowser, login, startNodeRedWithPackage, userDirWithPackage, VIEWER } from './support';

const SAVED_TOKEN = 'tok-Editor-Sentinel-7a6b5c4d3e2f1a0b9c8d';
watchSecret(SAVED_TOKEN);

function encryptedCredentials(credentials: Record<string, unknown>): string {
  const key = crypto.createHash('sha256').update('test-only-secret').digest();
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-ctr', key, iv);
  return JSON.stringify({ $: iv.toString('hex') + cipher.update(JSON.stringify(credentials), 'utf8', 'base64') + cipher.final('base64') });
}

interface EditorRED {
  nodes: { node(id: string): unknown };
  editor: { edit(node: unknown): void };
  view: { importNodes(nodes: unknown[]): void };
  workspaces: { active(): string };
}

describe("e2e: the notification webhook's token in the editor (adminAuth)", function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess;
  let browser: LocalBrowser;

  before(async function () {
    if (!browserAvailable(this)) return;
    const userDir = userDirWithPackage();
    const flows = webhookFlow(path.join(userDir, 'events.ndjson')).map((n) => {
      const { credentials: _none, ...node } = n as Record<string, unknown>;
      return { ...node, x: 200, y: 100 };
    });
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), encryptedCredentials({ oehook1: { token: SAVED_TOKEN } }));
    nodeRed = await startNodeRedWithPackage({ users: [ADMIN, VIEWER], userDir, flows });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await nodeRed?.stop();
  });

  /** The editor, signed in with an access token as the login dialog would store it. */
  async function editorAs(user: typeof ADMIN): Promise<Page> {
    const token = await login(nodeRed, user);
    const page = await browser.context.newPage();
    await page.addInitScript((t) => {
      localStorage.setItem('auth-tokens', JSON.stringify({ access_token: t, expires_in: 604800, token_type: 'Bearer' }));
    }, token);
    await page.goto(`${nodeRed.url}/`);
    await page.waitForFunction(() => Boolean((window as unknown as { RED?: EditorRED }).RED?.nodes?.node('oehook1')));
    return page;
  }
  async function open(page: Page, id: string): Promise<void> {
    await page.evaluate((nodeId) => {
      const RED = (window as unknown as { RED: EditorRED }).RED;
      RED.editor.edit(RED.nodes.node(nodeId));
    }, id);
    await page.waitForSelector('#oe-webhook-url');
  }
  const urlField = (page: Page): Promise<string> => page.inputValue('#oe-webhook-url');

  it('shows an admin the saved token (input holds __PWRD__), keeps it on save, and makes one for a new node', async () => {
    const page = await editorAs(ADMIN);
    try {
      await open(page, 'oehook1');
      assert.equal(await page.inputValue('#node-input-token'), '__PWRD__');
      await page.waitForFunction((t) => (document.querySelector('#oe-webhook-url') as HTMLInputElement | null)?.value.endsWith(`?token=${t}`), SAVED_TOKEN);
      assert.equal(await page.isVisible('#oe-webhook-url-hidden'), false);
      await page.fill('#node-input-name', 'renamed');
      await page.click('#node-dialog-ok');
      // The tray closes with an animation: until it is gone its fields share ids with the next dialog's.
      await page.waitForSelector('#oe-webhook-url', { state: 'detached' });

      // A new node: the token is made in the browser and is in its URL at once.
      await page.evaluate(() => {
        const RED = (window as unknown as { RED: EditorRED }).RED;
        RED.view.importNodes([
          { id: 'newhook', type: 'octoeverywhere-notification-webhook', z: RED.workspaces.active(), mode: 'user', path: '/oe/new', x: 200, y: 200, wires: [] },
        ]);
        RED.editor.edit(RED.nodes.node('newhook'));
      });
      await page.waitForFunction(() => /\?token=[A-Za-z0-9_-]{43}$/.test((document.querySelector('#oe-webhook-url') as HTMLInputElement | null)?.value ?? ''));
      const token = (await urlField(page)).split('?token=')[1] ?? '';
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      watchSecret(token);
      assert.equal(await page.inputValue('#node-input-token'), token);
      await page.click('#node-dialog-ok');
      await page.click('#red-ui-header-button-deploy');
      await untilListening(nodeRed, '/oe/new');
      assert.equal((await post(nodeRed.port, `/oe/new?token=${token}`, delivery({}))).status, 200, 'the browser-made token was deployed');
      assert.equal((await post(nodeRed.port, `/oe/hook?token=${SAVED_TOKEN}`, delivery({}))).status, 200, 'the saved token was kept');
    } finally {
      await page.close();
    }
  });

  it('shows a read-only user the URL without the token', async () => {
    const page = await editorAs(VIEWER);
    try {
      await open(page, 'oehook1');
      await page.waitForSelector('#oe-webhook-url-hidden', { state: 'visible' });
      assert.match(await urlField(page), /\/oe\/hook\?token=$/);
      assert.equal(await page.isDisabled('#oe-webhook-copy'), true);
      assert.ok(!(await page.content()).includes(SAVED_TOKEN), 'the token is nowhere in the page');
    } catch (err) {
      await page.screenshot({ path: artifactPath('editor-webhook-failure.png') }).catch(() => undefined);
      throw err;
    } finally {
      await page.close();
    }
  });
});
