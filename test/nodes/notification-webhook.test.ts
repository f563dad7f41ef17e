// The notification webhook node in the real runtime (node-red-node-test-helper) with its RED.httpNode
// served on a loopback port, fed by the simulator's deliveries and by hand-made requests. Renewal and
// the slow-sender limit run on the simulator's manual clock (settings hook octoeverywhereClock).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { createClock, startSimulator, type CompletionKeys, type ManagedClock, type Simulator } from '../../src/simulator';
import { routesOn } from '../../src/nodes/shared/webhook-route';
import { RENEW_EVERY_MS } from '../../src/nodes/shared/webhook-registration';
import { helper, nodeModule, setFlows } from '../helpers/nodes';
import { secretsIn, watchSecret } from '../helpers/secrets';
import { post } from '../security/webhook-support';
import { credentialsOf, sharedConnectionCredentials, watchConnectionSecrets } from '../helpers/simulator';
import type { AppConnectionCredentials } from '../../src/nodes/shared/types';

const TYPE = 'octoeverywhere-notification-webhook';
const DAY = 24 * 3600_000;
const TOKEN = 'tok-Sentinel-9f8e7d6c5b4a3f2e1d0c'; // 32 base64url characters: strong enough
const SECRET_KEY = 'sentinel-secretkey-Lq2Wm8';
watchSecret(TOKEN);
watchSecret(SECRET_KEY);

type Module = (RED: NodeAPI) => void;
type Flow = Parameters<typeof helper.load>[1];
/** Our settings (the clock hook, limits) are not in Node-RED's settings type. */
const settings = (values: Record<string, unknown>): void => {
  helper.settings(values as Parameters<typeof helper.settings>[0]);
};
const configModule = nodeModule('octoeverywhere-app-connection') as Module;
const webhookModule = nodeModule(TYPE) as Module;

interface Msg {
  topic: string;
  payload: Record<string, unknown>;
}
interface Status {
  fill?: string;
  shape?: string;
  text?: string;
}
/** The helper spies on Node.prototype.status: one spy for all nodes, told apart by `this`. */
interface StatusSpy {
  getCalls(): Array<{ thisValue: { id?: string } | undefined; args: [Status] }>;
}
interface HelperNode {
  id: string;
  on(event: string, fn: (arg: never) => void): void;
}
async function until(what: string, test: () => boolean, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (test()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('node: octoeverywhere-notification-webhook', function () {
  let clock: ManagedClock;
  let sim: Simulator;
  let red: NodeAPI | undefined;
  let server: http.Server | undefined;
  let port = 0;
  let conn: CompletionKeys;
  let messages: Msg[];
  /** Every status a node with this id showed since the helper loaded (across redeploys). */
  const statusesOf = (id = 'w1'): Status[] => {
    const spy = (helper.getNode('out') as unknown as { status: StatusSpy }).status;
    return spy
      .getCalls()
      .filter((c) => c.thisValue?.id === id)
      .map((c) => c.args[0]);
  };

  const capture: Module = (RED) => {
    red = RED;
    return webhookModule(RED);
  };

  const configNode = (): Record<string, unknown> => ({ id: 'c1', type: 'octoeverywhere-app-connection', serviceUrl: sim.serviceUrl, appId: 'nodered' });
  const configCreds = (): AppConnectionCredentials => credentialsOf(conn);
  const hookNode = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: 'w1',
    type: TYPE,
    mode: 'user',
    path: '/oe/hook',
    wires: [['out']],
    ...extra,
  });
  const flow = (hook: Record<string, unknown> | undefined, ...more: Array<Record<string, unknown>>): Flow =>
    [configNode(), ...(hook ? [hook] : []), ...more, { id: 'out', type: 'helper' }] as unknown as Flow;

  /** `serve` puts something in front of httpNode that the nodes cannot get ahead of. */
  async function load(
    hook: Record<string, unknown>,
    hookCreds: Record<string, string> = { token: TOKEN },
    serve?: (httpNode: http.RequestListener) => http.RequestListener,
  ): Promise<void> {
    await helper.load([configModule, capture], flow(hook), { c1: configCreds(), w1: hookCreds });
    watch();
    if (!red) throw new Error('the node module was not loaded');
    const httpNode = red.httpNode as unknown as http.RequestListener;
    server = http.createServer(serve ? serve(httpNode) : httpNode);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }

  /** Records what the output receives (again after a redeploy, which makes new nodes). */
  function watch(): void {
    (helper.getNode('out') as unknown as HelperNode).on('input', (msg: never) => messages.push(msg as Msg));
  }

  const publicUrl = (): string => `http://127.0.0.1:${port}`;
  const event = (fields: Record<string, unknown>): string => JSON.stringify({ PrinterId: 'P1', PrinterName: 'Voron', ...fields });
  const appApi = (path: string, method = 'GET'): Promise<Response> =>
    fetch(`${sim.serviceUrl}/api/appconnection/${path}`, { method, headers: { apptoken: conn.appApiToken } });

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    settings({ octoeverywhereClock: clock });
    sim = await startSimulator({ clock, printers: [{ kind: 'moonraker', name: 'Voron 2.4' }] });
    conn = sim.createAppConnection(0);
    watchConnectionSecrets(conn);
    messages = [];
    red = undefined;
  });

  afterEach(async () => {
    const statuses = helper.getNode('out') ? statusesOf('w1') : [];
    await helper.unload();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    await sim.close();
    assert.equal(clock.pendingTimers, 0, 'no timer of the node (or the simulator) is left behind');
    clock.dispose();
    settings({});
    const everything = JSON.stringify({ messages, statuses, log: helper.log().args });
    assert.deepEqual(secretsIn(everything), [], 'no secret in messages, statuses or the log');
  });

  describe('receiving', () => {
    it('answers 200 and sends the event on in the shared vocabulary, without the SecretKey', async () => {
      await load(hookNode());
      const reply = await post(
        port,
        `/oe/hook?token=${TOKEN}`,
        event({ EventType: 6, PrintId: '42', Progress: '30', SecretKey: 'whatever', FileName: 'cube.gcode', ZOffsetMM: 0 }),
      );
      assert.deepEqual(reply, { status: 200, body: 'OK' });
      await until('the message', () => messages.length === 1);
      assert.equal(messages[0].topic, 'print-progress');
      assert.deepEqual(messages[0].payload, {
        eventType: 6,
        event: 'print-progress',
        source: 'webhook',
        printerId: 'P1',
        printerName: 'Voron',
        printId: '42',
        fileName: 'cube.gcode',
        progress: 30,
        zOffsetMm: 0,
      });
      assert.ok(
        statusesOf().some((s) => s.text === 'status.event'),
        'status shows the event',
      );
      await clock.advance(3_000);
      assert.equal(statusesOf().at(-1)?.text, 'status.listening', 'and returns to listening');
    });

    it('passes an unknown EventType through as event-<n>', async () => {
      await load(hookNode());
      assert.equal((await post(port, `/oe/hook?token=${TOKEN}`, event({ EventType: 99 }))).status, 200);
      await until('the message', () => messages.length === 1);
      assert.equal(messages[0].topic, 'event-99');
    });

    for (const [what, query] of [
      ['a missing token', ''],
      ['a wrong token', '?token=tok-Sentinel-9f8e7d6c5b4a3f2e1d0X'],
      ['a token prefix', `?token=${TOKEN.slice(0, 10)}`],
      ['a longer token', `?token=${TOKEN}x`],
      ['a repeated token', `?token=${TOKEN}&token=${TOKEN}`],
      ['an empty token', '?token='],
    ] as const) {
      it(`refuses ${what} with 401 and sends nothing`, async () => {
        await load(hookNode());
        const reply = await post(port, `/oe/hook${query}`, event({ EventType: 1 }));
        assert.deepEqual(reply, { status: 401, body: 'OE_WEBHOOK_UNAUTHORIZED' });
        assert.equal(messages.length, 0);
        assert.equal(statusesOf().at(-1)?.text, 'status.rejected');
      });
    }

    it('refuses a body that is not JSON (400), not an event (400), or labelled as something else (415)', async () => {
      await load(hookNode());
      const url = `/oe/hook?token=${TOKEN}`;
      assert.deepEqual(await post(port, url, '{"EventType": 1'), { status: 400, body: 'OE_WEBHOOK_BAD_JSON' });
      assert.deepEqual(await post(port, url, '[1,2]'), { status: 400, body: 'OE_WEBHOOK_NOT_AN_EVENT' });
      assert.deepEqual(await post(port, url, '{"PrinterId":"P1"}'), { status: 400, body: 'OE_WEBHOOK_NOT_AN_EVENT' });
      assert.deepEqual(await post(port, url, 'EventType=1', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), {
        status: 415,
        body: 'OE_WEBHOOK_CONTENT_TYPE',
      });
      assert.deepEqual(await post(port, url, event({ EventType: 1 }), { headers: { 'content-type': 'multipart/form-data; boundary=x' } }), {
        status: 415,
        body: 'OE_WEBHOOK_CONTENT_TYPE',
      });
      // JSON labelled as text, or with a charset, is still a delivery.
      assert.equal((await post(port, url, event({ EventType: 1 }), { headers: { 'content-type': 'text/plain; charset=utf-8' } })).status, 200);
      assert.equal((await post(port, url, event({ EventType: 2 }), { headers: { 'content-type': 'application/json; charset=utf-8' } })).status, 200);
      await until('two messages', () => messages.length === 2);
      assert.deepEqual(
        messages.map((m) => m.topic),
        ['print-started', 'print-complete'],
      );
    });

    it('refuses a body over the bound with 413: declared up front, or growing past it (settings.octoeverywhereWebhookMaxBytes)', async () => {
      settings({ octoeverywhereClock: clock, octoeverywhereWebhookMaxBytes: 1024 });
      await load(hookNode());
      const url = `/oe/hook?token=${TOKEN}`;
      // Declared: answered before a byte of the body is sent.
      assert.deepEqual(await post(port, url, undefined, { headers: { 'content-length': 50 * 1024 * 1024 }, hold: true }), {
        status: 413,
        body: 'OE_WEBHOOK_TOO_LARGE',
      });
      // Chunked, no length: refused once it passes the bound; the sender may see the reset first.
      const huge = Buffer.alloc(4 * 1024 * 1024, 'a');
      const chunked = await post(port, url, huge, { headers: { 'transfer-encoding': 'chunked' } });
      assert.ok(chunked.status === 413 || chunked.status === 'reset', `got ${chunked.status}`);
      // Just under the bound is fine.
      const padded = JSON.stringify({ EventType: 1, Pad: 'x'.repeat(900) });
      assert.equal((await post(port, url, padded)).status, 200);
      await until('one message', () => messages.length === 1);
      assert.equal(messages.length, 1);
    });

    it('when a JSON parser it could not get in front of read the body, still refuses over the bound (413) and warns once', async () => {
      // What body-parser's json() does in front of an app: read it all, parse, mark it read (req._body).
      const jsonParserInFront =
        (httpNode: http.RequestListener): http.RequestListener =>
        (req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            Object.assign(req, { body: JSON.parse(Buffer.concat(chunks).toString()) as unknown, _body: true });
            httpNode(req, res);
          });
        };
      await load(hookNode(), { token: TOKEN }, jsonParserInFront);
      const url = `/oe/hook?token=${TOKEN}`;
      const big = JSON.stringify({ EventType: 2, Pad: 'x'.repeat(1024 * 1024) });
      assert.deepEqual(await post(port, url, big), { status: 413, body: 'OE_WEBHOOK_TOO_LARGE' });
      // Chunked: no declared length, so the parsed body's own length counts.
      assert.deepEqual(await post(port, url, big, { headers: { 'transfer-encoding': 'chunked' } }), { status: 413, body: 'OE_WEBHOOK_TOO_LARGE' });
      const deep = `{"EventType":1,"Deep":${'['.repeat(5000)}${']'.repeat(5000)}}`;
      assert.deepEqual(await post(port, url, deep), { status: 400, body: 'OE_WEBHOOK_TOO_DEEP' });
      assert.equal((await post(port, url, event({ EventType: 1 }))).status, 200);
      await until('the message', () => messages.length === 1);
      assert.equal(messages[0].topic, 'print-started');
      const warnings = helper.log().args.filter((a: Array<{ msg?: unknown }>) => a[0].msg === 'warnings.parsed-first');
      assert.equal(warnings.length, 1, 'warned once');
      assert.ok(statusesOf().some((s) => s.text === 'status.parsed-first' && s.fill === 'yellow'));
    });

    it('gives a slow sender 10 s (on the node clock), then 408; nothing is sent', async () => {
      await load(hookNode());
      const pending = post(port, `/oe/hook?token=${TOKEN}`, '{"EventType":', { headers: { 'content-length': 200 }, hold: true });
      await new Promise((r) => setTimeout(r, 20)); // the request reaches the node
      await clock.advance(9_999);
      let answered = false;
      void pending.then(() => (answered = true));
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(answered, false, 'still waiting before 10 s');
      await clock.advance(1);
      assert.deepEqual(await pending, { status: 408, body: 'OE_WEBHOOK_TIMEOUT' });
      assert.equal(messages.length, 0);
    });

    it('answers before the flow handles the event (the 10 s rule) and never crashes on garbage', async () => {
      await load(hookNode());
      const replies = await Promise.all([
        post(port, `/oe/hook?token=${TOKEN}`, Buffer.from([0xff, 0xfe, 0x00, 0x7b])),
        post(port, `/oe/hook?token=${TOKEN}`, 'null'),
        post(port, `/oe/hook?token=${TOKEN}`, '{"EventType":"abc"}'),
        post(port, `/oe/hook?token=${TOKEN}`, '{"EventType":-3}'),
        post(port, `/oe/hook?token=${TOKEN}`, event({ EventType: 16 })),
      ]);
      assert.deepEqual(
        replies.map((r) => r.status),
        [400, 400, 400, 400, 200],
      );
      await until('the test message', () => messages.length === 1);
      assert.equal(messages[0].topic, 'test');
    });
  });

  describe('LAN user webhook mode', () => {
    it("receives the simulator's user-webhook deliveries and checks the SecretKey in constant time", async () => {
      await load(hookNode(), { token: TOKEN, secretKey: SECRET_KEY });
      const url = `${publicUrl()}/oe/hook?token=${TOKEN}`;
      const wrong = sim.addUserWebhook(0, url, 'sentinel-secretkey-Lq2Wm9');
      sim.printers[0].startPrint('cube.gcode', { durationSec: 600, totalLayers: 10 });
      await sim.flushWebhooks();
      assert.deepEqual(
        sim.webhookDeliveries.map((d) => d.status),
        [401],
        'a wrong SecretKey is refused',
      );
      assert.equal(messages.length, 0);
      sim.removeUserWebhook(wrong);
      sim.addUserWebhook(0, url, SECRET_KEY);
      await clock.advance(120_000);
      assert.equal(sim.printers[0].state, 'printing');
      sim.printers[0].pause();
      await sim.flushWebhooks();
      await until('the message', () => messages.some((m) => m.topic === 'print-paused'));
      assert.ok(messages.length >= 1);
      assert.equal(messages.at(-1)?.topic, 'print-paused');
      assert.equal(messages[0].payload.printerName, 'Voron 2.4');
      assert.ok(messages.every((m) => !('secretKey' in m.payload) && !('SecretKey' in m.payload)));
      // Without any SecretKey in the body.
      assert.equal((await post(port, `/oe/hook?token=${TOKEN}`, event({ EventType: 5 }))).status, 401);
    });

    it('filters locally by the checked events (a test notification always passes)', async () => {
      await load(hookNode({ events: ['print-complete', 'nonsense'] }));
      for (const type of [1, 6, 2, 16]) assert.equal((await post(port, `/oe/hook?token=${TOKEN}`, event({ EventType: type }))).status, 200);
      await until('two messages', () => messages.length === 2);
      assert.deepEqual(
        messages.map((m) => m.topic),
        ['print-complete', 'test'],
      );
      assert.ok(helper.log().args.some((a: Array<{ msg?: unknown }>) => a[0].msg === 'warnings.unknown-events'));
    });
  });

  describe('de-duplication', () => {
    it('drops an identical delivery within the window, keeps distinct ones and repeats after it', async () => {
      await load(hookNode({ dedupe: true, dedupeSeconds: 600 }));
      const url = `/oe/hook?token=${TOKEN}`;
      const paused = event({ EventType: 4, PrintId: '7', Progress: 37, DurationSec: 100, SnapshotUrl: 'http://x/1' });
      const send = async (body: string): Promise<void> => assert.equal((await post(port, url, body)).status, 200, 'a duplicate is still answered 200');
      await send(paused);
      await send(paused.replace('http://x/1', 'http://x/2')); // only a volatile link differs: a resend
      await send(event({ EventType: 4, PrintId: '7', Progress: 37, DurationSec: 460 })); // paused again later: a new event
      await send(event({ EventType: 16 }));
      await send(event({ EventType: 16 }));
      await clock.advance(600_000);
      await send(paused);
      await until('four messages', () => messages.length === 5);
      assert.deepEqual(
        messages.map((m) => [m.topic, m.payload.durationSec]),
        [
          ['print-paused', 100],
          ['print-paused', 460],
          ['test', undefined],
          ['test', undefined],
          ['print-paused', 100],
        ],
      );
    });
  });

  describe('App Connection mode', () => {
    const appNode = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
      hookNode({ mode: 'app-connection', connection: 'c1', publicUrl: publicUrl(), ...extra });

    /** Loads with the public URL known only after the server listens: load once to get the port, then deploy. */
    async function loadApp(extra: Record<string, unknown> = {}): Promise<void> {
      await load(hookNode({ path: '/oe/unused' }));
      await deploy(appNode(extra));
    }
    async function deploy(hook: Record<string, unknown> | undefined, type: 'full' | 'nodes' = 'full'): Promise<void> {
      const before = statusesOf().length;
      await setFlows(flow(hook), type, { c1: configCreds(), ...(hook ? { w1: { token: TOKEN } } : {}) });
      watch();
      if (hook?.mode === 'app-connection') await until('registration', () => registrations(before) >= 1 && statusesOf().at(-1)?.text === 'status.listening');
    }
    /** Each Set shows as a "registering" status. */
    const registrations = (from = 0): number =>
      statusesOf()
        .slice(from)
        .filter((s) => s.text === 'status.registering').length;

    it('registers publicUrl + path + token with the event filter, and the whole print arrives in order', async () => {
      await loadApp({ events: ['print-started', 'print-progress', 'print-complete', 'bed-cooldown-complete', 'first-layer-complete', 'third-layer-complete'] });
      sim.printers[0].startPrint('cube.gcode', { durationSec: 1000, totalLayers: 100 });
      await clock.advance(2 * 3600_000);
      await sim.flushWebhooks();
      await until('all messages', () => messages.length === 14);
      const expected = `${publicUrl()}/oe/hook?token=${TOKEN}`;
      assert.ok(sim.webhookDeliveries.every((d) => d.url === expected && d.connectionId === conn.id && d.status === 200));
      assert.deepEqual(
        messages.map((m) => m.topic),
        ['print-started', 'first-layer-complete', 'third-layer-complete', ...Array(9).fill('print-progress'), 'print-complete', 'bed-cooldown-complete'],
      );
      assert.deepEqual(
        messages.filter((m) => m.topic === 'print-progress').map((m) => m.payload.progress),
        [10, 20, 30, 40, 50, 60, 70, 80, 90],
      );
      const done = messages.find((m) => m.topic === 'print-complete')?.payload;
      assert.equal(done?.fileName, 'cube.gcode');
      assert.equal(done?.printerId, sim.printers[0].printerId);
      assert.equal(done?.source, 'webhook');
      assert.equal(new Set(messages.map((m) => m.payload.printId)).size, 1);
    });

    it('honours the filter at the service: unchecked events are not even delivered', async () => {
      await loadApp({ events: ['print-paused'] });
      sim.printers[0].startPrint();
      await clock.advance(120_000);
      sim.printers[0].pause();
      sim.printers[0].resume();
      await sim.flushWebhooks();
      assert.deepEqual(
        sim.webhookDeliveries.map((d) => (d.body as { EventType: number }).EventType),
        [4],
      );
    });

    it('renews every 30 days on the clock, so the registration outlives the 180-day lifetime', async () => {
      await loadApp();
      assert.equal(registrations(), 1);
      await clock.advance(RENEW_EVERY_MS - 1);
      assert.equal(registrations(), 1, 'not before it is due');
      await clock.advance(1);
      await until('the renewal', () => registrations() === 2 && statusesOf().at(-1)?.text === 'status.listening');
      for (let day = 30; day < 200; day += 10)
        await clock.advance(10 * DAY).then(() => until('renewals', () => statusesOf().at(-1)?.text === 'status.listening'));
      assert.equal(registrations(), 7, 'days 0, 30, 60 … 180');
      sim.printers[0].startPrint();
      await sim.flushWebhooks();
      await until('the event 200 days later', () => messages.length === 1);
      assert.equal(messages[0].topic, 'print-started');
    });

    it('keeps the registration on a redeploy and deletes it only when the node is removed; no route is left', async () => {
      await loadApp();
      assert.equal(routesOn(red!.httpNode, '/oe/hook'), 1);
      await deploy(appNode({ name: 'renamed' }));
      assert.equal(routesOn(red!.httpNode, '/oe/hook'), 1, 'the redeployed node has exactly one route');
      assert.equal(routesOn(red!.httpNode, '/oe/unused'), 0);
      const test = await appApi('TestWebhook');
      assert.equal(test.status, 200, 'still registered after the redeploy');
      assert.deepEqual(((await test.json()) as { Result: unknown }).Result, { StatusCode: 200 });
      // Removal in a full deploy: the config node restarts in the same deploy, the Delete still goes out.
      await deploy(undefined);
      assert.equal(routesOn(red!.httpNode, '/oe/hook'), 0, 'the route is gone');
      assert.equal((await appApi('TestWebhook')).status, 400, 'the registration was deleted');
      assert.equal((await post(port, `/oe/hook?token=${TOKEN}`, event({ EventType: 1 }))).status, 404);
    });

    it('refuses a Shared Connection with OE_APP_CONNECTION_REQUIRED', async () => {
      const { url, authBearerToken } = sharedConnectionCredentials(sim);
      await helper.load([configModule, capture], flow(hookNode({ mode: 'app-connection', connection: 'c1', publicUrl: 'https://nr.example.com' })), {
        c1: { url, authBearerToken },
        w1: { token: TOKEN },
      });
      const errors = helper
        .log()
        .args.map((a: Array<{ level: number; msg: unknown }>) => a[0])
        .filter((e: { level: number }) => e.level === 20);
      assert.ok(
        errors.some((e: { msg: unknown }) => String(e.msg).includes('needs an App Connection')),
        JSON.stringify(errors),
      );
      assert.equal(statusesOf('w1').at(-1)?.text, 'OE_APP_CONNECTION_REQUIRED');
    });

    it('rejects a public URL that is not https', async () => {
      await load(hookNode({ mode: 'app-connection', connection: 'c1', publicUrl: 'http://nr.example.com' }));
      assert.equal(statusesOf('w1').at(-1)?.text, 'OE_INSECURE_URL');
    });

    it('stops on a permanent failure (604) and retries temporary ones with back-off', async () => {
      await loadApp();
      sim.setSupporter(false); // 605: temporary
      await clock.advance(RENEW_EVERY_MS);
      await until('the failure', () => statusesOf().at(-1)?.text === 'OE_605');
      assert.equal(statusesOf().at(-1)?.fill, 'yellow');
      const before = registrations();
      await clock.advance(60_000);
      await until('a retry', () => registrations() === before + 1 && statusesOf().at(-1)?.text === 'OE_605');
      await clock.advance(60_000);
      assert.equal(registrations(), before + 1, 'the second retry waits twice as long');
      sim.setSupporter(true);
      await clock.advance(60_000);
      await until('recovery', () => statusesOf().at(-1)?.text === 'status.listening');
      sim.revoke(conn.id); // 604: permanent
      await clock.advance(RENEW_EVERY_MS);
      await until('the permanent failure', () => statusesOf().at(-1)?.text === 'OE_604');
      assert.equal(statusesOf().at(-1)?.fill, 'red');
      const stopped = registrations();
      await clock.advance(10 * DAY);
      assert.equal(registrations(), stopped, 'no more attempts');
    });

    it('Send test (admin route) asks the service to call the webhook and reports the status, with no secret', async () => {
      await loadApp();
      const res = await helper.request().post('/octoeverywhere/notification-webhook/w1/test').expect(200);
      assert.deepEqual(res.body, { statusCode: 200, ok: true });
      assert.deepEqual(secretsIn(JSON.stringify(res.body)), []);
      await until('the test message', () => messages.some((m) => m.topic === 'test'));
      const missing = await helper.request().post('/octoeverywhere/notification-webhook/nope/test').expect(404);
      assert.equal(missing.body.code, 'OE_NOT_DEPLOYED');
      const events = await helper.request().get('/octoeverywhere/notification-webhook/events').expect(200);
      assert.equal(events.body.length, 16);
      assert.deepEqual(events.body[0], { type: 1, name: 'print-started' });
    });

    it('allows only one webhook node per App Connection and one node per path', async () => {
      await load(hookNode({ path: '/oe/unused' }));
      const second = { ...appNode({ path: '/oe/other' }), id: 'w2' };
      const third = { ...hookNode({ path: '/oe/hook' }), id: 'w3' };
      await setFlows(flow(appNode(), second, third), 'full', { c1: configCreds(), w1: { token: TOKEN }, w2: { token: TOKEN }, w3: { token: TOKEN } });
      const codes = ['w2', 'w3'].map((id) => statusesOf(id).at(-1)?.text);
      assert.deepEqual(codes, ['OE_WEBHOOK_CONNECTION_IN_USE', 'OE_WEBHOOK_PATH_IN_USE']);
    });
  });

  it('makes a strong token on first deploy when the editor gave none, and keeps it out of the log', async () => {
    await load(hookNode(), {});
    const creds = (helper.getNode('w1') as unknown as { credentials: { token?: string } }).credentials;
    const token = creds.token ?? '';
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    watchSecret(token);
    assert.equal((await post(port, `/oe/hook?token=${encodeURIComponent(token)}`, event({ EventType: 1 }))).status, 200);
  });

  it("gives a webhook node's token to the editor's token route, and never another node type's `token` credential", async () => {
    // Another package's node with a credential of the same name (a bot token, say): none of ours.
    const OTHER_TOKEN = 'ghp_OtherPackageSentinel0123456789abcdef';
    watchSecret(OTHER_TOKEN);
    const otherModule: Module = (RED) => {
      RED.nodes.registerType(
        'other-token-holder',
        function (this: Node, def: NodeDef) {
          RED.nodes.createNode(this, def);
        },
        { credentials: { token: { type: 'password' } } },
      );
    };
    await helper.load([configModule, capture, otherModule], flow(hookNode(), { id: 'x1', type: 'other-token-holder' }), {
      c1: configCreds(),
      w1: { token: TOKEN },
      x1: { token: OTHER_TOKEN },
    });
    const mine = await helper.request().get('/octoeverywhere/notification-webhook/w1/token');
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.body, { token: TOKEN });
    const theirs = await helper.request().get('/octoeverywhere/notification-webhook/x1/token');
    assert.equal(theirs.status, 404);
    assert.equal(theirs.body.code, 'OE_NOT_DEPLOYED');
    assert.deepEqual(secretsIn(JSON.stringify(theirs.body)), []);
    assert.equal((await helper.request().get('/octoeverywhere/notification-webhook/c1/token')).status, 404, 'nor our config node');
  });
});

describe('node: octoeverywhere-notification-webhook, its name in the editor', () => {
  it('is called "notification webhook" in the palette and as the default label, as in the README and the help', () => {
    const root = path.resolve(__dirname, '..', '..');
    const catalog = JSON.parse(fs.readFileSync(path.join(root, 'nodes', 'locales', 'en-US', `${TYPE}.json`), 'utf8')) as {
      paletteLabel: string;
      label: { default: string };
    };
    assert.equal(catalog.paletteLabel, 'notification webhook');
    assert.equal(catalog.label.default, catalog.paletteLabel);
    assert.match(fs.readFileSync(path.join(root, 'README.md'), 'utf8'), new RegExp(`^### ${catalog.paletteLabel} — `, 'm'));
    const editor = fs.readFileSync(path.join(root, 'nodes', `${TYPE}.html`), 'utf8');
    assert.match(editor, /paletteLabel: function \(\) \{\s*return this\._\('paletteLabel'\);/);
    assert.match(editor, /return this\.name \|\| this\._\('label\.default'\);/);
  });
});
