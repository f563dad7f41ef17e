// Issue 14.2: the webhook's documented limits (401 before reading, 413 over 64 KiB, 408 for a slow
// sender) in a real Node-RED process, with the default settings (httpAdminRoot and httpNodeRoot both
// '/', so the editor's JSON and form parsers sit in front of httpNode), with separate roots, and with
// httpNode under the admin root. Also prints the CPU time Node-RED spends on 20 big wrong-token posts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startNodeRedWithPackage } from '../e2e/support';
import { type NodeRedProcess } from '../helpers/node-red-process';
import { watchSecret } from '../helpers/secrets';
import { figure } from '../reliability/rig';
import { cpuMs, delivery, deploy, emitted, HOOK_PATH, post, untilEmitted, untilListening, webhookFlow } from './webhook-support';

const TOKEN = 'tok-Defaults-Sentinel-4b3c2d1e0f9a8b7c';
watchSecret(TOKEN);
/** Short, so the slow-sender case runs in a second and a half (settings.octoeverywhereWebhookReadTimeout). */
const READ_TIMEOUT_MS = 1500;
const MiB = 1024 * 1024;

/** One of the node's warnings, as its English catalog words it. */
function catalogWarning(key: string): string {
  const file = path.join(__dirname, '..', '..', 'nodes', 'locales', 'en-US', 'octoeverywhere-notification-webhook.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { warnings: Record<string, string> }).warnings[key] ?? '';
}

/** About 4.4 MB of valid JSON (under Node-RED's 5 MB apiMaxLength, so its parser would take it). */
function bigJson(): string {
  const items = Array.from({ length: 150_000 }, (_, i) => ({ i, s: 'abcdefghijklm' }));
  return JSON.stringify({ EventType: 1, Items: items });
}

const CASES = [
  { name: 'default settings (httpAdminRoot and httpNodeRoot both "/")', settings: '', adminRoot: '', nodeRoot: '' },
  { name: 'separate roots (httpAdminRoot "/admin")', settings: "httpAdminRoot: '/admin'", adminRoot: '/admin', nodeRoot: '' },
  { name: 'httpNode under the admin root (httpNodeRoot "/hooks")', settings: "httpNodeRoot: '/hooks'", adminRoot: '', nodeRoot: '/hooks' },
] as const;

for (const setup of CASES) {
  describe(`security: webhook limits in a real Node-RED, ${setup.name}`, function () {
    this.timeout(120_000);
    let nodeRed: NodeRedProcess;
    let eventsFile: string;
    const hook = `${setup.nodeRoot}${HOOK_PATH}`;
    const withToken = `${hook}?token=${TOKEN}`;
    let marker = 0;
    /** A valid delivery, and the events emitted once it has arrived (so everything sent before was handled). */
    async function sendMarker(): Promise<Array<Record<string, unknown>>> {
      const printId = `marker-${++marker}`;
      assert.deepEqual(await post(nodeRed.port, withToken, delivery({ PrintId: printId })), { status: 200, body: 'OK' });
      return untilEmitted(eventsFile, printId);
    }

    before(async () => {
      nodeRed = await startNodeRedWithPackage({
        readyPath: `${setup.adminRoot}/settings`,
        settings: [setup.settings, `octoeverywhereWebhookReadTimeout: ${READ_TIMEOUT_MS}`].filter(Boolean).join(',\n  '),
      });
      eventsFile = path.join(nodeRed.userDir, 'events.ndjson');
      await deploy(nodeRed, webhookFlow(eventsFile, {}, { token: TOKEN }), setup.adminRoot);
      await untilListening(nodeRed, hook);
    });
    after(async () => {
      await nodeRed?.stop();
    });

    it('accepts a delivery with the right token and emits it', async () => {
      const events = await sendMarker();
      assert.equal(events.at(-1)?.event, 'print-started');
    });

    it('refuses 1 MiB with the right token (413) and emits nothing, whether declared or chunked', async () => {
      const body = JSON.stringify({ EventType: 2, PrintId: 'too-big', Pad: 'x'.repeat(MiB) });
      // Declared up front and only partly sent: the answer comes without waiting for the rest.
      const declared = await post(nodeRed.port, withToken, body.slice(0, 64 * 1024), { headers: { 'content-length': Buffer.byteLength(body) }, hold: true });
      assert.deepEqual(declared, { status: 413, body: 'OE_WEBHOOK_TOO_LARGE' });
      // Sent whole, declared or chunked: refused (the sender may see the connection reset first).
      for (const headers of [{}, { 'transfer-encoding': 'chunked' }] as Array<Record<string, string>>) {
        const whole = await post(nodeRed.port, withToken, body, { headers });
        assert.ok(whole.status === 413 || whole.status === 'reset', `got ${whole.status} ${whole.body}`);
      }
      const events = await sendMarker();
      assert.deepEqual(
        events.filter((e) => e.printId === 'too-big'),
        [],
        'nothing was emitted',
      );
    });

    it('refuses a wrong token with 401 before reading the body: a big malformed JSON body is not parsed (not 400)', async () => {
      const malformed = `{"EventType": 1, "Pad": "${'x'.repeat(4 * MiB)}"`; // never closed
      // Only a first part is sent: the 401 cannot have waited for the body.
      const held = await post(nodeRed.port, `${hook}?token=wrong-token-0000000000000000`, malformed.slice(0, 64 * 1024), {
        headers: { 'content-length': Buffer.byteLength(malformed) },
        hold: true,
      });
      assert.deepEqual(held, { status: 401, body: 'OE_WEBHOOK_UNAUTHORIZED' });
      const whole = await post(nodeRed.port, `${hook}?token=`, malformed);
      assert.ok(whole.status === 401 || whole.status === 'reset', `got ${whole.status} ${whole.body}`);
      const none = await post(nodeRed.port, hook, malformed);
      assert.ok(none.status === 401 || none.status === 'reset', `got ${none.status} ${none.body}`);
    });

    it(`answers a stalled body 408 at the read deadline (settings.octoeverywhereWebhookReadTimeout = ${READ_TIMEOUT_MS} ms), and emits nothing`, async () => {
      const stalled = await post(nodeRed.port, withToken, '{"EventType": 3, "PrintId": "stalled"', {
        headers: { 'content-length': 200 },
        hold: true,
        giveUpMs: 15_000,
      });
      assert.deepEqual(stalled, { status: 408, body: 'OE_WEBHOOK_TIMEOUT' });
      const events = await sendMarker();
      assert.deepEqual(
        events.filter((e) => e.printId === 'stalled'),
        [],
      );
    });

    it('refuses a form body with the right token (415) instead of letting a form parser turn it into an event', async () => {
      const reply = await post(nodeRed.port, withToken, 'EventType=2&PrintId=form', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.deepEqual(reply, { status: 415, body: 'OE_WEBHOOK_CONTENT_TYPE' });
      const events = await sendMarker();
      assert.deepEqual(
        events.filter((e) => e.printId === 'form'),
        [],
      );
      // The node's warnings.parsed-first, as the process would log it (its catalog's words).
      const parsedFirst = /Something in front of this node .*read the delivery before the node could/;
      assert.match(catalogWarning('parsed-first'), parsedFirst, 'the pattern is the warning the node logs');
      assert.doesNotMatch(nodeRed.output(), parsedFirst, 'nothing in front of the node read the deliveries');
    });

    it('takes its guard out with its route: after redeploys one node answers, after removal nobody does (404)', async () => {
      for (let i = 0; i < 3; i++) {
        await deploy(nodeRed, webhookFlow(eventsFile, { name: `redeploy ${i}` }, { token: TOKEN }), setup.adminRoot);
      }
      await untilListening(nodeRed, hook);
      await sendMarker();
      await deploy(nodeRed, [{ id: 'tab1', type: 'tab', label: 'empty' }], setup.adminRoot);
      // A guard left behind would still answer 401 (wrong token) or read the body (right token).
      assert.equal((await post(nodeRed.port, `${hook}?token=wrong`, '{}')).status, 404);
      assert.equal((await post(nodeRed.port, withToken, delivery({ PrintId: 'after-removal' }))).status, 404);
      await deploy(nodeRed, webhookFlow(eventsFile, {}, { token: TOKEN }), setup.adminRoot);
      await untilListening(nodeRed, hook);
    });

    if (setup.nodeRoot === '' && setup.adminRoot === '') {
      it('costs little CPU for 20 wrong-token posts of 4.4 MB (printed, not asserted)', async () => {
        const json = bigJson();
        const measure = async (contentType: string): Promise<{ ms: number; statuses: string }> => {
          const start = cpuMs(nodeRed.pid);
          const statuses = new Set<string>();
          for (let i = 0; i < 20; i++) {
            const reply = await post(nodeRed.port, `${hook}?token=wrong-token-0000000000000000`, json, { headers: { 'content-type': contentType } });
            statuses.add(String(reply.status));
            assert.ok(reply.status === 401 || reply.status === 'reset', `got ${reply.status} ${reply.body}`);
          }
          return { ms: cpuMs(nodeRed.pid) - start, statuses: [...statuses].join('|') };
        };
        const asJson = await measure('application/json');
        const asText = await measure('text/plain');
        figure('webhook/wrong-token-4.4MB-x20', {
          bytes: Buffer.byteLength(json),
          jsonCpuMs: asJson.ms,
          textCpuMs: asText.ms,
          jsonStatuses: asJson.statuses,
          textStatuses: asText.statuses,
        });
        assert.ok(
          emitted(eventsFile).every((e) => e.printId !== undefined),
          'nothing but markers was emitted',
        );
      });
    }
  });
}
