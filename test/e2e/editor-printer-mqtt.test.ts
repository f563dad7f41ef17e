// The printer mqtt node's edit dialog in the real editor: topics one per line (a list from an
// imported flow shown the same way), the QoS and output choices, an invalid filter marked before
// deploy, and what Done saves.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { artifactPath, browserAvailable, type EditorSession, openEditor } from './support';

const FLOW = [
  { id: 'tab', type: 'tab', label: 'MQTT' },
  {
    id: 'pm',
    type: 'octoeverywhere-printer-mqtt',
    z: 'tab',
    name: '',
    connection: '',
    // As an imported flow may carry it: a list.
    topics: ['device/01P00A000000001/report', 'device/01P00A000000001/request'],
    qos: '1',
    datatype: 'json',
    retain: false,
    version: 1,
    x: 200,
    y: 80,
    wires: [[], []],
  },
];

interface EditorNode {
  topics: unknown;
  qos: unknown;
  datatype: unknown;
  valid?: boolean;
}

describe('e2e: the printer mqtt edit dialog', function () {
  this.timeout(120_000);
  let editor: EditorSession | undefined;
  let page: Page;

  before(async function () {
    if (!browserAvailable(this)) return;
    editor = await openEditor(FLOW, (p) => p.waitForSelector('[id="pm"] .red-ui-flow-node-label'));
    page = editor.page;
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) await page.screenshot({ path: artifactPath('editor-printer-mqtt-failure.png') }).catch(() => undefined);
  });
  after(() => editor?.close());

  const node = (): Promise<EditorNode> =>
    page.evaluate(() => {
      const n = (window as unknown as { RED: { nodes: { node(id: string): EditorNode } } }).RED.nodes.node('pm');
      return { topics: n.topics, qos: n.qos, datatype: n.datatype, valid: n.valid };
    });

  it('shows the topics one per line and saves what is typed; an invalid filter marks the node invalid', async () => {
    await page.dblclick('[id="pm"] rect.red-ui-flow-node');
    await page.waitForSelector('#node-input-topics');
    assert.equal(await page.inputValue('#node-input-topics'), 'device/01P00A000000001/report\ndevice/01P00A000000001/request');
    assert.equal(await page.inputValue('#node-input-qos'), '1');
    assert.equal(await page.inputValue('#node-input-datatype'), 'json');
    await page.fill('#node-input-topics', 'device/01P00A000000001/report\nelegoo/+/api_status');
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-input-topics', { state: 'detached' });
    const saved = await node();
    assert.equal(saved.topics, 'device/01P00A000000001/report\nelegoo/+/api_status');
    assert.equal(saved.qos, '1');

    await page.dblclick('[id="pm"] rect.red-ui-flow-node');
    await page.waitForSelector('#node-input-topics');
    await page.fill('#node-input-topics', 'device/#/report');
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-input-topics', { state: 'detached' });
    const verdicts = await page.evaluate(() => {
      type Validate = (this: unknown, v: unknown) => boolean;
      const red = (
        window as unknown as { RED: { nodes: { node(id: string): { topics: unknown }; getType(t: string): { defaults: { topics: { validate: Validate } } } } } }
      ).RED;
      const n = red.nodes.node('pm');
      const validate = red.nodes.getType('octoeverywhere-printer-mqtt').defaults.topics.validate;
      return { saved: validate.call(n, n.topics), good: validate.call(n, 'a/+/b\n\nc/#'), list: validate.call(n, ['a/b', 'c/#']) };
    });
    assert.deepEqual(verdicts, { saved: false, good: true, list: true }, 'a # that is not the last level is refused before deploy');
  });
});
