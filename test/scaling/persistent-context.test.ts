// What lives in Node-RED's context across a restart of a real Node-RED process (issue 19.3): with
// Node-RED's own file store (settings.js contextStorage, module localfilesystem) the webhook's
// registration record, the Gadget API key's monthly call count and the status node's print-event
// memory are on disk after a stop and in force after the start; with the default memory store
// nothing is kept: the webhook registers again and the count starts from zero.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startNodeRedWithPackage, userDirWithPackage } from '../e2e/support';
import type { NodeRedProcess } from '../helpers/node-red-process';
import { credentialsOf } from '../helpers/simulator';
import { watchSecret } from '../helpers/secrets';
import { type Simulator, startSimulator } from '../../src/simulator';
import { generateWebhookToken } from '../../src/client';

const FAKE_JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00]), Buffer.alloc(64, 7), Buffer.from([0xff, 0xd9])]);
/** Node-RED's file store; written every second here (30 s by default, and always on a clean stop) so the test can watch it. */
const FILE_STORE = `contextStorage: { default: { module: 'localfilesystem', config: { flushInterval: 1 } } }`;

interface Saved {
  webhook?: { at: number; fingerprint: string };
  budget?: { month: string; calls: number };
  statusMemory: boolean;
}

describe('scaling: context that survives a Node-RED restart (real process)', function () {
  this.timeout(180_000);
  let sim: Simulator;
  let nodeRed: NodeRedProcess | undefined;
  let flow: unknown[];
  let credentials: Record<string, Record<string, string | undefined>>;

  beforeEach(async () => {
    sim = await startSimulator({ printers: [{ kind: 'moonraker', name: 'Voron 2.4' }] });
    const keys = sim.createAppConnection(0);
    const apiKey = sim.gadgetApi.addKey();
    watchSecret(apiKey);
    const token = generateWebhookToken();
    watchSecret(token);
    credentials = { conn: { ...credentialsOf(keys) }, hook: { token }, gadget: { apiKey } };
    flow = [
      { id: 'tab', type: 'tab', label: 'restart' },
      {
        id: 'conn',
        type: 'octoeverywhere-app-connection',
        printerName: 'Voron 2.4',
        connectionId: keys.id,
        serviceUrl: sim.serviceUrl,
        authType: 'bearer',
        appId: 'devtest',
        version: 1,
      },
      // The URL only has to be accepted: this test reads the registration record, not deliveries.
      {
        id: 'hook',
        type: 'octoeverywhere-notification-webhook',
        z: 'tab',
        connection: 'conn',
        mode: 'app-connection',
        publicUrl: 'http://127.0.0.1:9',
        events: [],
        version: 1,
        wires: [[]],
      },
      {
        id: 'status',
        type: 'octoeverywhere-status-poll',
        z: 'tab',
        connection: 'conn',
        mode: 'poll',
        interval: 10,
        output: 'change',
        bedCooldownC: 40,
        version: 2,
        wires: [[], []],
      },
      {
        id: 'gadget',
        type: 'octoeverywhere-gadget-api',
        serviceUrl: sim.gadgetApi.url,
        warningConfidence: 3,
        pauseConfidence: 3,
        monthlyBudget: 1,
        version: 1,
      },
      // One frame at every start: the first start's is the month's one paid call.
      { id: 'tick', type: 'inject', z: 'tab', once: true, onceDelay: 0.5, repeat: '', topic: '', payload: '', payloadType: 'date', wires: [['jpeg']] },
      {
        id: 'jpeg',
        type: 'function',
        z: 'tab',
        func: `msg.payload = Buffer.from(${JSON.stringify(FAKE_JPEG.toString('base64'))}, 'base64');\nreturn msg;`,
        outputs: 1,
        wires: [['detect']],
      },
      { id: 'detect', type: 'octoeverywhere-failure-detection', z: 'tab', gadgetApi: 'gadget', version: 1, wires: [[], []] },
    ];
  });
  afterEach(async () => {
    await nodeRed?.stop();
    nodeRed = undefined;
    await sim.close();
  });

  const start = async (userDir: string, settings?: string): Promise<NodeRedProcess> => {
    nodeRed = await startNodeRedWithPackage({ userDir, flows: flow, credentials, settings });
    return nodeRed;
  };

  async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}\n${nodeRed?.output() ?? ''}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Our records in the user dir's context files (localfilesystem keeps them under context/). */
  function saved(userDir: string): Saved {
    const dir = path.join(userDir, 'context');
    const out: Saved = { statusMemory: false };
    if (!fs.existsSync(dir)) return out;
    for (const file of fs.readdirSync(dir, { recursive: true }).map(String)) {
      if (!file.endsWith('.json')) continue;
      const data = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
      out.webhook ??= data['octoeverywhere-webhook-registration'] as Saved['webhook'];
      out.budget ??= data['octoeverywhere-gadget-calls'] as Saved['budget'];
      out.statusMemory ||= Object.keys(data).some((k) => k.startsWith('octoeverywhere-status-'));
    }
    return out;
  }

  const budgetRefused = (nr: NodeRedProcess): boolean => /budget of 1 Failure Detection calls is used up/.test(nr.output());

  it('the file store keeps the webhook registration, the call count and the status memory across a restart', async () => {
    const userDir = userDirWithPackage();
    let nr = await start(userDir, FILE_STORE);
    await until('the month’s one Gadget call', () => sim.gadgetApi.processCalls().length === 1);
    await until('the three records on disk', () => {
      const now = saved(userDir);
      return now.webhook !== undefined && now.budget?.calls === 1 && now.statusMemory;
    });
    await nr.stop();
    const first = saved(userDir);
    assert.ok(first.webhook && first.webhook.at > 0, `the registration record is on disk: ${JSON.stringify(first)}`);
    assert.deepEqual(first.budget, { month: new Date().toISOString().slice(0, 7), calls: 1 });
    assert.ok(first.statusMemory, 'the status memory is on disk');
    const text = fs
      .readdirSync(path.join(userDir, 'context'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.json'))
      .map((f) => fs.readFileSync(path.join(userDir, 'context', f), 'utf8'))
      .join('\n');
    for (const secret of [credentials.conn.authBearerToken, credentials.conn.appApiToken, credentials.hook.token, credentials.gadget.apiKey]) {
      assert.ok(secret && !text.includes(secret), 'no secret in the context files');
    }

    nr = await start(userDir, FILE_STORE);
    await until('the frame refused for the budget', () => budgetRefused(nr));
    assert.equal(sim.gadgetApi.processCalls().length, 1, 'the count survived: no second paid call');
    await nr.stop();
    assert.equal(saved(userDir).webhook?.at, first.webhook.at, 'the record was fresh: no new registration after the restart');
  });

  it('the default memory store keeps nothing: the count starts from zero and nothing is on disk', async () => {
    const userDir = userDirWithPackage();
    let nr = await start(userDir);
    await until('the first Gadget call', () => sim.gadgetApi.processCalls().length === 1);
    await nr.stop();
    assert.deepEqual(saved(userDir), { statusMemory: false }, 'nothing on disk');

    nr = await start(userDir);
    await until('a second paid call after the restart', () => sim.gadgetApi.processCalls().length === 2);
    assert.ok(!budgetRefused(nr), 'the budget of 1 was not enforced across the restart');
  });
});
