// Issue 15.7, editor side: a real Node-RED with this package and its editor in headless Chromium.
// A flow saved before versions opens migrated (status poll version 2 with mode poll, marked changed,
// Deploy offered) and Deploy saves the new shape; a node whose type has no step, a current node and,
// after the deploy, the whole current flow are not marked changed; credentials stay as they were.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { NodeRedProcess } from '../helpers/node-red-process';
import { artifactPath, browserAvailable, launchBrowser, type LocalBrowser, startNodeRedWithPackage } from './support';

const STATUS = 'octoeverywhere-status-poll';
const OLD_FLOW = [
  { id: 'tab', type: 'tab', label: 'Printer' },
  {
    id: 'c1',
    type: 'octoeverywhere-app-connection',
    name: 'old printer',
    printerName: 'Voron 2.4',
    connectionId: '',
    printerLocalIp: '',
    localUrl: '',
    authType: 'bearer',
    serviceUrl: 'http://127.0.0.1:9',
    appId: 'devtest',
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
  {
    id: 'req-old',
    type: 'octoeverywhere-printer-request',
    z: 'tab',
    name: 'old request',
    connection: 'c1',
    method: 'GET',
    path: '/printer/info',
    ret: 'obj',
    timeout: '',
    x: 200,
    y: 160,
    wires: [[]],
  },
  // Saved by this release.
  {
    id: 'p-now',
    type: STATUS,
    z: 'tab',
    name: 'new status',
    connection: 'c1',
    interval: 60,
    output: 'change',
    bedCooldownC: 40,
    mode: 'live',
    version: 2,
    x: 200,
    y: 240,
    wires: [[], []],
  },
];
const CREDENTIALS = { c1: { url: 'https://app-migrations.octoeverywhere.com', authBearerToken: 'bearer-migrations-e2e' } };

interface EditorNode {
  id: string;
  version?: unknown;
  mode?: unknown;
  changed?: boolean;
  credentials?: unknown;
}

/** What the editor holds for these nodes, and whether it offers Deploy. */
async function editorState(
  page: Page,
  ids: string[],
): Promise<{ nodes: Record<string, EditorNode>; dirty: boolean; deployDisabled: boolean; script: boolean }> {
  return page.evaluate((list) => {
    type Red = { nodes: { node(id: string): EditorNode | null; dirty(): boolean } };
    const w = window as unknown as { RED: Red; OctoEverywhereMigrations?: unknown };
    const nodes: Record<string, EditorNode> = {};
    for (const id of list) {
      const n = w.RED.nodes.node(id);
      if (n) nodes[id] = { id, version: n.version, mode: n.mode, changed: Boolean(n.changed), credentials: n.credentials };
    }
    return {
      nodes,
      dirty: w.RED.nodes.dirty(),
      deployDisabled: document.querySelector('#red-ui-header-button-deploy')?.classList.contains('disabled') ?? true,
      script: typeof w.OctoEverywhereMigrations === 'object',
    };
  }, ids);
}

async function openEditor(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.waitForFunction(() => {
    const red = (window as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED;
    return Boolean(red?.nodes?.node('p-old'));
  });
  // 'flows:loaded' runs after the import; let the editor finish its tick.
  await page.waitForFunction(
    () =>
      !document.querySelector('#red-ui-loading-progress') || getComputedStyle(document.querySelector('#red-ui-loading-progress') as Element).display === 'none',
  );
}

describe('e2e: old flows are migrated in the Node-RED editor', function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess;
  let browser: LocalBrowser;
  let page: Page;

  before(async function () {
    if (!browserAvailable(this)) return;
    nodeRed = await startNodeRedWithPackage({ flows: OLD_FLOW, credentials: CREDENTIALS });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) await page.screenshot({ path: artifactPath('editor-migrations-failure.png') }).catch(() => undefined);
  });
  after(async () => {
    await browser?.close();
    await nodeRed?.stop();
  });

  it('opens an old flow migrated and marked changed, and Deploy saves the new shape', async () => {
    const credBefore = fs.readFileSync(path.join(nodeRed.userDir, 'flows_cred.json'));
    await openEditor(page, nodeRed.url);
    const state = await editorState(page, ['c1', 'p-old', 'req-old', 'p-now']);
    assert.ok(state.script, 'the editor loaded resources/migrations.js');
    assert.deepEqual(
      { version: state.nodes['p-old'].version, mode: state.nodes['p-old'].mode, changed: state.nodes['p-old'].changed },
      { version: 2, mode: 'poll', changed: true },
      'the old status node is version 2, keeps polling, and is marked changed',
    );
    assert.deepEqual(
      state.nodes['req-old'],
      { id: 'req-old', version: undefined, mode: undefined, changed: false, credentials: undefined },
      'no step for its type: untouched',
    );
    assert.deepEqual(
      { version: state.nodes['p-now'].version, mode: state.nodes['p-now'].mode, changed: state.nodes['p-now'].changed },
      { version: 2, mode: 'live', changed: false },
    );
    assert.equal(state.nodes.c1.changed, false, 'the config node has no step: untouched');
    assert.equal(state.dirty, true, 'Deploy is offered');
    assert.equal(state.deployDisabled, false);

    await page.click('#red-ui-header-button-deploy');
    await page.waitForSelector('.red-ui-notification-success, .red-ui-notification:has-text("Successfully deployed")');
    const saved = JSON.parse(fs.readFileSync(path.join(nodeRed.userDir, 'flows.json'), 'utf8')) as Array<Record<string, unknown>>;
    const byId = new Map(saved.map((n) => [n.id, n]));
    assert.equal(byId.get('p-old')?.version, 2);
    assert.equal(byId.get('p-old')?.mode, 'poll');
    assert.equal(byId.get('p-old')?.interval, 60, 'its other options are kept');
    assert.equal(byId.get('p-now')?.mode, 'live');
    assert.equal(byId.get('req-old')?.version, undefined);
    assert.ok(!saved.some((n) => 'credentials' in n), 'no credentials in the flow file');
    assert.deepEqual(fs.readFileSync(path.join(nodeRed.userDir, 'flows_cred.json')), credBefore, 'the saved credentials are untouched');
  });

  it('opens the deployed (current) flow without marking anything changed', async () => {
    await openEditor(page, nodeRed.url);
    const state = await editorState(page, ['c1', 'p-old', 'req-old', 'p-now']);
    assert.equal(state.nodes['p-old'].version, 2);
    assert.equal(state.nodes['p-old'].mode, 'poll');
    assert.deepEqual(
      Object.values(state.nodes).map((n) => [n.id, n.changed]),
      [
        ['c1', false],
        ['p-old', false],
        ['req-old', false],
        ['p-now', false],
      ],
    );
    assert.equal(state.dirty, false, 'no Deploy offered');
    assert.equal(state.deployDisabled, true);
  });

  it('migrates an old node imported into the editor once, and a new node from the palette gets mode auto', async () => {
    const result = await page.evaluate((type) => {
      type Node = { id: string; version?: unknown; mode?: unknown; changed?: boolean };
      const RED = (
        window as unknown as {
          RED: {
            view: { importNodes(nodes: unknown[], options?: Record<string, unknown>): void };
            nodes: {
              eachNode(fn: (n: Node & { type: string; name?: string }) => boolean | void): void;
              getType(t: string): { defaults: Record<string, { value: unknown }> };
            };
          };
        }
      ).RED;
      RED.view.importNodes(
        [{ id: 'imp', type, name: 'imported old', connection: '', interval: 30, output: 'change', bedCooldownC: 40, x: 400, y: 80, wires: [[], []] }],
        { generateIds: true },
      );
      let imported: Node | undefined;
      RED.nodes.eachNode((n) => {
        if (n.name === 'imported old') imported = { id: n.id, version: n.version, mode: n.mode, changed: n.changed };
      });
      const defaults = RED.nodes.getType(type).defaults;
      return { imported, newVersion: defaults.version.value, newMode: defaults.mode.value };
    }, STATUS);
    assert.deepEqual(
      { version: result.imported?.version, mode: result.imported?.mode, changed: result.imported?.changed },
      { version: 2, mode: 'poll', changed: true },
    );
    assert.deepEqual([result.newVersion, result.newMode], [2, 'auto']);
    assert.deepEqual(browser.blocked, [], 'the browser asked nothing of the internet');
  });

  it('knows every node type: each one imported in its first shape reads at its current version, and a new one gets it', async () => {
    const types = Object.keys(
      (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red']
        .nodes,
    );
    const result = await page.evaluate((list) => {
      type Api = { STEPS: Record<string, unknown>; configVersion(c: unknown): number; currentVersion(t: string): number };
      type Node = { type: string; name?: string; version?: unknown };
      const w = window as unknown as {
        OctoEverywhereMigrations: Api;
        RED: {
          view: { importNodes(nodes: unknown[], options?: Record<string, unknown>): void };
          nodes: {
            eachNode(fn: (n: Node) => boolean | void): void;
            eachConfig(fn: (n: Node) => boolean | void): void;
            getType(t: string): { category?: string; defaults: Record<string, { value: unknown }> } | undefined;
          };
        };
      };
      const api = w.OctoEverywhereMigrations;
      // Flow nodes on the tab, config nodes without one, each as saved before nodes carried `version`.
      // (No named functions in here: the test runner's transform would name them with a helper the page lacks.)
      w.RED.view.importNodes(
        list.map((type, i) =>
          w.RED.nodes.getType(type)?.category === 'config'
            ? { id: `all-${i}`, type, name: `all ${type}` }
            : { id: `all-${i}`, type, name: `all ${type}`, x: 100 + 40 * i, y: 400, wires: [] },
        ),
        { generateIds: true },
      );
      const all: Node[] = [];
      w.RED.nodes.eachNode((n) => void all.push(n));
      w.RED.nodes.eachConfig((n) => void all.push(n));
      const seen: Record<string, { read: number; current: number; newDefault: unknown; listed: boolean }> = {};
      for (const n of all) {
        if (n.name !== `all ${n.type}`) continue;
        seen[n.type] = {
          read: api.configVersion(n),
          current: api.currentVersion(n.type),
          newDefault: w.RED.nodes.getType(n.type)?.defaults.version?.value,
          listed: Object.prototype.hasOwnProperty.call(api.STEPS, n.type),
        };
      }
      return seen;
    }, types);
    assert.deepEqual(Object.keys(result).sort(), [...types].sort(), 'one imported node of every type');
    for (const type of types) {
      const r = result[type];
      assert.ok(r.listed, `${type} has its list in the editor`);
      assert.equal(r.read, r.current, `${type} imported in its first shape reads at its current version`);
      assert.equal(r.newDefault, r.current, `${type}: a new node from the palette gets its current version`);
    }
    assert.equal(result[STATUS].current, 2, 'the status poll has a step, and the editor ran it');
  });
});
