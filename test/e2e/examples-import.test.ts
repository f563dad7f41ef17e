// The examples as a user imports them: Import ▸ Examples in the real editor (headless Chromium), one
// after another. They share one printer config node, so a user who imports several connects one
// printer once; and an example that needs another package says so in the name the dialog lists.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { NodeRedProcess } from '../helpers/node-red-process';
import { exampleFiles } from '../examples/support';
import { artifactPath, browserAvailable, launchBrowser, type LocalBrowser, startNodeRedWithPackage } from './support';

const MODULE = 'node-red-contrib-octoeverywhere';
const CONFIG_TYPE = 'octoeverywhere-app-connection';

interface EditorNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  connection?: string;
}

/** The editor's own model, as RED.nodes holds it. */
interface EditorRED {
  nodes: {
    node(id: string): (EditorNode & { changed?: boolean }) | null;
    eachConfig(cb: (n: EditorNode) => void): void;
    eachNode(cb: (n: EditorNode) => void): void;
    eachWorkspace(cb: (n: EditorNode & { label: string }) => void): void;
    dirty(d: boolean): void;
  };
  actions: { invoke(name: string): void };
}

async function editorState(page: Page): Promise<{ configs: EditorNode[]; nodes: EditorNode[]; tabs: string[] }> {
  return page.evaluate((type) => {
    const RED = (window as unknown as { RED: EditorRED }).RED;
    const configs: EditorNode[] = [];
    const nodes: EditorNode[] = [];
    const tabs: string[] = [];
    RED.nodes.eachConfig((n) => {
      if (n.type === type) configs.push({ id: n.id, type: n.type, name: n.name });
    });
    RED.nodes.eachNode((n) => nodes.push({ id: n.id, type: n.type, z: n.z, connection: n.connection }));
    RED.nodes.eachWorkspace((w) => tabs.push(w.label));
    return { configs, nodes, tabs };
  }, CONFIG_TYPE);
}

/** Import ▸ Examples ▸ node-red-contrib-octoeverywhere ▸ `name`, as the menu does it. */
async function openExample(page: Page, name: string): Promise<void> {
  await page.evaluate(() => (window as unknown as { RED: EditorRED }).RED.actions.invoke('core:show-examples-import-dialog'));
  const tab = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
  const folder = tab.locator('.red-ui-treeList-label', { hasText: MODULE }).first();
  const file = tab.locator('.red-ui-treeList-label', { hasText: name }).first();
  await folder.waitFor();
  // A click on the folder toggles it, and its list loads from the server: click again if it did not open.
  for (let attempt = 0; attempt < 3 && !(await file.isVisible()); attempt++) {
    await folder.click();
    await file.waitFor({ timeout: 5000 }).catch(() => undefined);
  }
  await file.click();
  await page.click('#red-ui-clipboard-dialog-ok');
}

describe('e2e: importing the examples in the Node-RED editor', function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess;
  let browser: LocalBrowser | undefined;
  let page: Page;

  before(async () => {
    nodeRed = await startNodeRedWithPackage({ flows: [] });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) await page.screenshot({ path: artifactPath('examples-import-failure.png') }).catch(() => undefined);
  });
  after(async () => {
    await browser?.close();
    await nodeRed?.stop();
  });

  it('lists every example in Import ▸ Examples, and the dashboard one names the package it needs', async () => {
    // The library route the editor's Examples tab reads.
    const res = await fetch(`${nodeRed.url}/library/examples/flows/${MODULE}`);
    assert.equal(res.status, 200);
    const listed = ((await res.json()) as Array<{ fn: string } | string>).map((e) => (typeof e === 'string' ? `${e}/` : e.fn));
    assert.deepEqual(
      listed.sort(),
      exampleFiles()
        .map((f) => f.replace(/\.json$/, ''))
        .sort(),
    );
    const dashboard = listed.find((n) => n.startsWith('printer-dashboard'));
    assert.equal(dashboard, 'printer-dashboard (needs @flowfuse node-red-dashboard)');
  });

  it('imports one example after another with one printer config node: the one the user already edited', async function () {
    if (!browserAvailable(this)) return;
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(`${nodeRed.url}/`);
    await page.waitForFunction(() =>
      Boolean((window as unknown as { RED?: { nodes?: { getType(t: string): unknown } } }).RED?.nodes?.getType('octoeverywhere-printer-request')),
    );

    await openExample(page, 'printer-api-request');
    await page.waitForFunction((id) => Boolean((window as unknown as { RED: EditorRED }).RED.nodes.node(id)), 'pr-comment');
    let state = await editorState(page);
    assert.equal(state.configs.length, 1, 'the first example brings the printer config node');
    const configId = state.configs[0].id;
    // The user connects their printer on it (here: renames it, as the dialog's Update would).
    await page.evaluate((id) => {
      const RED = (window as unknown as { RED: EditorRED }).RED;
      const n = RED.nodes.node(id);
      if (n) {
        n.name = 'My Voron';
        n.changed = true;
      }
      RED.nodes.dirty(true);
    }, configId);

    await openExample(page, 'progress-notifications');
    // Node-RED 4 and 5 ask about any id that exists already (RED.nodes.import: identical or edited
    // alike); "Import copy" gives the example's nodes new ids and keeps an existing config node of the same id.
    const notice = page.locator('.red-ui-notification', { hasText: 'already exist' });
    await notice.waitFor();
    await notice.locator('button', { hasText: 'Import copy' }).click();
    await page.waitForFunction(() => {
      let tabs = 0;
      (window as unknown as { RED: EditorRED }).RED.nodes.eachWorkspace(() => tabs++);
      return tabs >= 3;
    });

    state = await editorState(page);
    assert.deepEqual(state.configs, [{ id: configId, type: CONFIG_TYPE, name: 'My Voron' }], 'still one printer, the one the user edited');
    const users = state.nodes.filter((n) => n.connection !== undefined);
    assert.ok(users.length >= 3, 'both examples have printer nodes');
    for (const n of users) assert.equal(n.connection, configId, `${n.type} ${n.id} uses the one printer`);

    // The dashboard example, picked by the name that says what it needs, imports the same way.
    await openExample(page, 'printer-dashboard (needs @flowfuse node-red-dashboard)');
    await notice.waitFor();
    await notice.locator('button', { hasText: 'Import copy' }).click();
    await page.waitForFunction(() => {
      const labels: string[] = [];
      (window as unknown as { RED: EditorRED }).RED.nodes.eachWorkspace((w) => labels.push(w.label));
      return labels.includes('Printer dashboard');
    });
    state = await editorState(page);
    assert.deepEqual(state.configs, [{ id: configId, type: CONFIG_TYPE, name: 'My Voron' }], 'still the one printer');
  });
});
