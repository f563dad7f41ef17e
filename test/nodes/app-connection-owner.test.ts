// The config node as the one owner of what its printer's nodes share (issue 15.1): users register
// and deregister, the webhook Delete on removal goes through the shared client even when the config
// node is removed in the same deploy, the client closes only after, and the poller and webcam
// state are per config node and released with it. On the real runtime, against the simulator.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { NodeInitializer } from 'node-red';
import type { TestFlows } from 'node-red-node-test-helper';
import type { OctoEverywhereClient } from '../../src/client';
import type { AppConnectionNode } from '../../src/nodes/shared/types';
import { helper, nodeModule } from '../helpers/nodes';
import { appConnectionCredentials, startClockedSimulator, type ClockedSimulator } from '../helpers/simulator';

const configModule = nodeModule('octoeverywhere-app-connection') as NodeInitializer;
const webhookModule = nodeModule('octoeverywhere-notification-webhook') as NodeInitializer;
const pollModule = nodeModule('octoeverywhere-status-poll') as NodeInitializer;
const webcamModule = nodeModule('octoeverywhere-webcam-snapshot') as NodeInitializer;
const TOKEN = 'tok-Owner-9f8e7d6c5b4a3f2e1d0c7b6a5';

async function until(what: string, test: () => boolean, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (test()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Records, in order, the Delete and the close of one client (the real calls still run). */
function watchClient(client: OctoEverywhereClient): string[] {
  const events: string[] = [];
  const app = client.app as unknown as { deleteNotificationWebhook: (...a: unknown[]) => Promise<unknown> };
  const del = app.deleteNotificationWebhook.bind(app);
  app.deleteNotificationWebhook = async (...a) => {
    events.push('delete');
    const result = await del(...a);
    events.push('deleted');
    return result;
  };
  const close = client.close.bind(client);
  client.close = async () => {
    events.push('close');
    await close();
  };
  return events;
}

describe('node: octoeverywhere-app-connection as the owner of what it shares', () => {
  let rig: ClockedSimulator;
  beforeEach(async () => {
    rig = await startClockedSimulator();
  });
  afterEach(async () => {
    await helper.unload();
    assert.equal(rig.clock.pendingTimers, 0, 'no timer of any node, poller or registration is left');
    await rig.close();
  });

  const config = (id = 'c1', z?: string): Record<string, unknown> => ({
    id,
    type: 'octoeverywhere-app-connection',
    printerName: 'Voron 2.4',
    serviceUrl: rig.sim.serviceUrl,
    ...(z ? { z } : {}),
  });
  const hook = (z?: string): Record<string, unknown> => ({
    id: 'w1',
    type: 'octoeverywhere-notification-webhook',
    mode: 'app-connection',
    connection: 'c1',
    path: '/oe/owner-hook',
    publicUrl: 'http://127.0.0.1:9',
    ...(z ? { z } : {}),
  });
  const registered = async (): Promise<number> =>
    (await fetch(`${rig.sim.serviceUrl}/api/appconnection/TestWebhook`, { headers: { apptoken: appToken } })).status;
  let appToken = '';

  // Two arrangements: the helper's (every node flow-less, so the config node closes first, in
  // creation order) and the editor's (the webhook on a tab, the config node global: closed last).
  for (const [arrangement, tab] of [
    ['config node closing first', undefined],
    ['config node global, closing last', 'f1'],
  ] as const) {
    it(`a deploy that removes the webhook node and its config node together deletes the registration with the shared client, then closes it (${arrangement})`, async () => {
      const creds = appConnectionCredentials(rig.sim);
      appToken = creds.appApiToken ?? '';
      const rest = [...(tab ? [{ id: tab, type: 'tab', label: 'Flow' }] : []), { id: 'out', type: 'helper', ...(tab ? { z: tab } : {}) }];
      const flow = [...rest, config(), hook(tab)];
      await helper.load([configModule, webhookModule], flow as TestFlows, { c1: creds, w1: { token: TOKEN } });
      const connection = helper.getNode('c1') as unknown as AppConnectionNode;
      for (let i = 0; i < 100 && (await registered()) !== 200; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(await registered(), 200, 'registered at the service');
      const shared = connection.client();
      const events = watchClient(shared);

      await helper.setFlows(rest as unknown as TestFlows, 'full');

      assert.equal(await registered(), 400, 'the registration was deleted');
      assert.deepEqual(events, ['delete', 'deleted', 'close'], 'the Delete went through the shared client, which closed only after');
      assert.equal(shared.connection.closed, true);
    });
  }

  it('a redeploy keeps the registration and hands the webhook to the new node; only one webhook node per connection', async () => {
    const creds = appConnectionCredentials(rig.sim);
    appToken = creds.appApiToken ?? '';
    const second = { ...hook(), id: 'w2', path: '/oe/owner-hook-2' };
    await helper.load([configModule, webhookModule], [config(), hook(), second] as TestFlows, { c1: creds, w1: { token: TOKEN }, w2: { token: TOKEN } });
    const log = (): string => JSON.stringify(helper.log().args);
    await until('w2 refused', () => /"id":"w2".*OE_WEBHOOK_CONNECTION_IN_USE|OE_WEBHOOK_CONNECTION_IN_USE.*"id":"w2"/.test(log()));
    await helper.setFlows([config(), { ...hook(), name: 'renamed' }] as TestFlows, 'full', { c1: creds, w1: { token: TOKEN } });
    for (let i = 0; i < 100 && (await registered()) !== 200; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await registered(), 200, 'still registered after the redeploy');
  });

  it('keeps the poller, the live feed and the webcam state per config node, and releases them on its close', async () => {
    const flow = [
      config('c1'),
      config('c2'),
      { id: 'p1', type: 'octoeverywhere-status-poll', connection: 'c1', interval: 10, wires: [[], []] },
      { id: 'p1-live', type: 'octoeverywhere-status-poll', connection: 'c1', interval: 10, mode: 'live', version: 2, wires: [[], []] },
      { id: 'p2', type: 'octoeverywhere-status-poll', connection: 'c2', interval: 10, wires: [[], []] },
      { id: 'cam', type: 'octoeverywhere-webcam-snapshot', connection: 'c1', wires: [[]] },
    ];
    await helper.load([configModule, pollModule, webcamModule], flow as TestFlows, {
      c1: appConnectionCredentials(rig.sim),
      c2: appConnectionCredentials(rig.sim),
    });
    const c1 = helper.getNode('c1') as unknown as AppConnectionNode;
    const c2 = helper.getNode('c2') as unknown as AppConnectionNode;
    const poller = c1.poller();
    assert.equal(poller, c1.poller(), 'one poller per config node');
    assert.notEqual(poller, c2.poller(), 'each config node its own');
    assert.equal(c1.webcams(), c1.webcams());
    assert.notEqual(c1.webcams(), c2.webcams());
    await poller.settled();
    await c2.poller().settled();
    assert.equal(poller.pendingTimers, 1, 'the next poll is due');
    const live = c1.live();
    assert.equal(live, c1.live(), 'one live feed per config node');
    assert.notEqual(live, c2.live(), 'each config node its own');
    assert.equal(live.subscribers, 1, 'the live node subscribed to its config node');
    await until('the live socket', () => live.running);

    await helper.unload();
    assert.equal(poller.pendingTimers, 0, 'the poller was closed with its config node');
    assert.equal(live.running, false, 'the live socket was stopped with its config node');
    assert.throws(
      () => c1.live(),
      (e: { code: string }) => e.code === 'OE_CLOSED',
    );
    await assert.rejects(poller.pollNow(), (e: { code: string }) => e.code === 'OE_CLOSED');
    assert.throws(
      () => c1.webcams(),
      (e: { code: string }) => e.code === 'OE_CLOSED',
    );
    assert.throws(
      () => c1.client(),
      (e: { code: string }) => e.code === 'OE_CLOSED',
    );
  });

  it('nothing of a config node is kept from outside it: no WeakMap of config nodes or clients, no close listener on it', () => {
    const root = path.resolve(__dirname, '..', '..', 'src', 'nodes');
    const files = [
      ...fs.readdirSync(root).map((f) => path.join(root, f)),
      ...fs.readdirSync(path.join(root, 'shared')).map((f) => path.join(root, 'shared', f)),
    ].filter((f) => f.endsWith('.ts'));
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      assert.doesNotMatch(text, /WeakMap<\s*(AppConnectionNode|OctoEverywhereClient|GadgetApiNode)/, file);
      assert.doesNotMatch(text, /connection\.on\(\s*'close'/, file);
    }
  });

  it('every node status comes from the one vocabulary (shared/status.ts): no fill or shape written anywhere else', () => {
    const root = path.resolve(__dirname, '..', '..', 'src', 'nodes');
    const files = [
      ...fs.readdirSync(root).map((f) => path.join(root, f)),
      ...fs.readdirSync(path.join(root, 'shared')).map((f) => path.join(root, 'shared', f)),
    ].filter((f) => f.endsWith('.ts') && !f.endsWith(path.join('shared', 'status.ts')));
    for (const file of files) assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /\b(fill|shape):\s*'/, file);
  });
});
