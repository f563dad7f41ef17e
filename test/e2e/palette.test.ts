// What a new user sees first: the palette and the labels of nodes dropped on the canvas. Each node
// is called by one name everywhere — the README's heading for it, its palette entry and its default
// label — and the palette never shows a wrapped type name.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { artifactPath, browserAvailable, type EditorSession, openEditor } from './support';

const ROOT = path.resolve(__dirname, '..', '..');

/** The node names the README uses: its `### <name> — …` headings under "The nodes", in order. */
function readmeNames(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The nodes'), readme.indexOf('\n## ', readme.indexOf('## The nodes') + 1));
  return [...section.matchAll(/^### (.+?) — /gm)].map((m) => m[1]);
}

/** Each flow node type of the package, with the name the README gives it. */
const NODES: ReadonlyArray<{ type: string; name: string }> = [
  { type: 'octoeverywhere-printer-request', name: 'printer request' },
  { type: 'octoeverywhere-webcam-snapshot', name: 'webcam snapshot' },
  { type: 'octoeverywhere-printer-command', name: 'printer command' },
  { type: 'octoeverywhere-live-link', name: 'live link' },
  { type: 'octoeverywhere-status-poll', name: 'status poll' },
  { type: 'octoeverywhere-notification-webhook', name: 'notification webhook' },
  { type: 'octoeverywhere-failure-detection', name: 'failure detection' },
  { type: 'octoeverywhere-printer-socket', name: 'printer socket' },
  { type: 'octoeverywhere-printer-mqtt', name: 'printer mqtt' },
  { type: 'octoeverywhere-home-assistant', name: 'home assistant' },
];

const FLOW = [
  { id: 'tab', type: 'tab', label: 'Labels' },
  ...NODES.map((n, i) => ({ id: `n${i}`, type: n.type, z: 'tab', name: '', connection: '', x: 200, y: 60 + i * 60, wires: [] })),
  { id: 'pause', type: 'octoeverywhere-printer-command', z: 'tab', name: '', connection: '', action: 'pause', x: 500, y: 60, wires: [] },
];

describe('e2e: palette and node labels', function () {
  this.timeout(120_000);
  let editor: EditorSession | undefined;
  let page: Page;

  before(async function () {
    if (!browserAvailable(this)) return;
    editor = await openEditor(FLOW, async (p) => {
      await p.waitForSelector(`.red-ui-palette-node[data-palette-type="${NODES[0].type}"]`);
      await p.waitForSelector('[id="n0"] .red-ui-flow-node-label');
    });
    page = editor.page;
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) await page.screenshot({ path: artifactPath('palette-failure.png') }).catch(() => undefined);
  });
  after(() => editor?.close());

  it('knows every flow node of the package (package.json), so a new one cannot go unlabelled', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
    const flowTypes = Object.keys(pkg['node-red'].nodes).filter((t) => t !== 'octoeverywhere-app-connection' && t !== 'octoeverywhere-gadget-api');
    assert.deepEqual(flowTypes.sort(), NODES.map((n) => n.type).sort());
  });

  it('the README names every node the test knows', () => {
    for (const n of NODES) assert.ok(readmeNames().includes(n.name), `README has a "### ${n.name} — …" heading`);
  });

  it('shows each node in the palette under its README name, never its type name', async () => {
    for (const n of NODES) {
      const label = await page.textContent(`.red-ui-palette-node[data-palette-type="${n.type}"] .red-ui-palette-label`);
      assert.equal(label?.replace(/\s+/g, ' ').trim(), n.name, `palette label of ${n.type}`);
    }
  });

  it('labels an unnamed node on the canvas with the same name', async () => {
    for (const [i, n] of NODES.entries()) {
      const label = await page.textContent(`[id="n${i}"] .red-ui-flow-node-label`);
      assert.equal(label?.replace(/\s+/g, ' ').trim(), n.name, `canvas label of an unnamed ${n.type}`);
    }
  });

  it("titles the config nodes' dialogs with their names, not their type names", async () => {
    for (const [type, name] of [
      ['octoeverywhere-app-connection', 'OctoEverywhere printer'],
      ['octoeverywhere-gadget-api', 'Gadget API key'],
    ]) {
      await page.evaluate(
        (t) => (window as unknown as { RED: { editor: { editConfig(n: string, t: string, id?: string): void } } }).RED.editor.editConfig('', t),
        type,
      );
      const title = page.locator('.red-ui-tray-titlebar').last();
      await title.waitFor();
      assert.match((await title.textContent()) ?? '', new RegExp(`${name} config node`), type);
      assert.doesNotMatch((await title.textContent()) ?? '', new RegExp(type));
      await page.click('#node-config-dialog-cancel');
      await page.locator('.red-ui-tray-titlebar').waitFor({ state: 'detached' });
    }
  });

  it('labels a printer command with its action, as core nodes label what they do', async () => {
    assert.equal((await page.textContent('[id="pause"] .red-ui-flow-node-label'))?.trim(), 'Pause print');
  });
});
