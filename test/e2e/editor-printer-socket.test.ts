// The printer socket's edit dialog in a real editor (headless Chromium): every text from the catalog,
// the defaults a new node gets, and the editor's checks of the path and subprotocols (the runtime
// checks them again at deploy: test/nodes/printer-socket.test.ts).
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { artifactPath, browserAvailable, type EditorSession, openEditor } from './support';

interface EditorNode {
  valid?: boolean;
  path?: string;
  subprotocols?: string;
  heartbeat?: number | string;
  events?: string;
  version?: number;
}
interface EditorRED {
  nodes: { node(id: string): EditorNode | null };
  editor: {
    edit(node: unknown): void;
    validateNodeProperty(node: unknown, definition: unknown, property: string, value: unknown): boolean | string | string[];
  };
}

const FLOW = [
  { id: 'tab', type: 'tab', label: 'Socket' },
  {
    id: 'ps',
    type: 'octoeverywhere-printer-socket',
    z: 'tab',
    name: '',
    connection: '',
    path: '/websocket',
    subprotocols: '',
    heartbeat: 15,
    events: 'all',
    version: 1,
    x: 200,
    y: 80,
    wires: [[], []],
  },
];

describe('e2e: the printer socket in the editor', function () {
  this.timeout(120_000);
  let editor: EditorSession | undefined;
  let page: Page;

  before(async function () {
    if (!browserAvailable(this)) return;
    editor = await openEditor(FLOW, (p) => p.waitForFunction(() => Boolean((window as unknown as { RED?: EditorRED }).RED?.nodes?.node('ps'))));
    page = editor.page;
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) await page.screenshot({ path: artifactPath('printer-socket-failure.png') }).catch(() => undefined);
  });
  after(() => editor?.close());

  /** The node definition's own validators, as the editor runs them (a failing one shows the red triangle). */
  const valid = (fields: Partial<EditorNode>): Promise<boolean> =>
    page.evaluate((f) => {
      const RED = (window as unknown as { RED: EditorRED }).RED;
      type Defaults = Record<string, { validate?: (this: unknown, v: unknown) => boolean }>;
      const node = RED.nodes.node('ps') as EditorNode & { _def: { defaults: Defaults } };
      return Object.entries(f).every(([key, value]) => node._def.defaults[key]?.validate?.call(node, value) === true);
    }, fields);

  it('shows its fields with the catalog texts, and the saved values', async () => {
    await page.evaluate(() => {
      const RED = (window as unknown as { RED: EditorRED }).RED;
      RED.editor.edit(RED.nodes.node('ps'));
    });
    await page.waitForSelector('#node-input-path');
    assert.equal(await page.inputValue('#node-input-path'), '/websocket');
    assert.equal(await page.inputValue('#node-input-heartbeat'), '15');
    const tray = (await page.textContent('.red-ui-tray-body')) ?? '';
    for (const text of ['Path', 'Subprotocols', 'Heartbeat', 'seconds', 'Output 2', 'X-Api-Key']) assert.ok(tray.includes(text), `shows "${text}"`);
    assert.doesNotMatch(tray, /\b(label|tip|placeholder|events)\.[a-z-]+/, 'no raw catalog key');
    await page.click('#node-dialog-cancel');
  });

  it('refuses a URL, a relative path, a query and a malformed subprotocol list; accepts paths and token lists', async () => {
    assert.equal(await valid({ path: '/sockjs/websocket' }), true);
    assert.equal(await valid({ subprotocols: 'jsonrpc, v2' }), true);
    for (const path of ['ws://printer/websocket', 'websocket', '//host/x', '/websocket?token=abc']) assert.equal(await valid({ path }), false, path);
    assert.equal(await valid({ subprotocols: 'json rpc' }), false);
    assert.equal(await valid({ heartbeat: 0 }), false);
    assert.equal(await valid({ heartbeat: 31 }), false);
  });
});
