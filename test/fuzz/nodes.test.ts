// Issue 10, hostile input to the nodes in the real runtime: every node's msg inputs (wrong types, huge
// values, prototype-pollution keys), the webhook receiver over HTTP (random and huge bodies, wrong
// content types, slow senders, bad and missing tokens) and the admin routes (random params and bodies).
// Nothing may crash, every message ends exactly once, no 500 with a stack, no secret in any answer.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NodeAPI } from 'node-red';
import { helper } from '../helpers/nodes';
import { secretsIn, watchSecret } from '../helpers/secrets';
import { credentialsOf } from '../helpers/simulator';
import { createClock, type ManagedClock, type Simulator, startSimulator } from '../../src/simulator';
import { allNodesFlow, figure, INPUT_NODES, ledger, modules, rawRequest, recordProcessFaults } from '../reliability/rig';
import { prng, prototypeKeys, type Rng, safeEncode, safeJson, SEED } from './gen';

const MSG_CASES_PER_NODE = 300;
const WEBHOOK_CASES = 1500;
const ADMIN_CASES = 1000;
const HOOK_PATH = '/oe/fuzz-hook';
const TOKEN = 'fuzz-token-Sentinel-0123456789abcdef';
const SECRET_KEY = 'fuzz-secretkey-Sentinel-77';
watchSecret(TOKEN);
watchSecret(SECRET_KEY);

/** A hostile message for one input node: its documented properties with random values, plus noise. */
function hostileMsg(rng: Rng, node: string): Record<string, unknown> {
  const msg: Record<string, unknown> = {};
  const props: Record<string, string[]> = {
    req: ['payload', 'method', 'path', 'headers', 'timeout', 'filename'],
    cmd: ['payload', 'action'],
    live: ['payload'],
    cam: ['payload', 'webcam', 'stop'],
    poll: ['payload'],
  };
  for (const p of props[node]) if (rng.bool(0.6)) msg[p] = rng.value(2);
  if (node === 'cmd' && rng.bool(0.5))
    msg.action = rng.pick([
      'status',
      'ping',
      'pause',
      'resume',
      'cancel',
      'home',
      'set-light',
      'set-temp',
      'move-axis',
      'extrude',
      'start',
      'list-files',
      'delete-file',
      '__proto__',
      'constructor',
      'toString',
    ]);
  if (node === 'req' && typeof msg.filename !== 'undefined' && typeof msg.filename === 'string' && msg.filename.startsWith('/')) delete msg.filename;
  if (node === 'live' && rng.bool(0.5)) msg.payload = { expirationHours: rng.value(0), endWhenCurrentPrintIsComplete: rng.value(0) };
  if (rng.bool(0.2)) Object.defineProperty(msg, '__proto__', { value: { polluted: 'yes' }, enumerable: true, configurable: true, writable: true });
  if (rng.bool(0.1))
    Object.defineProperty(msg, 'constructor', { value: { prototype: { polluted: 'yes' } }, enumerable: true, configurable: true, writable: true });
  return msg;
}

describe('fuzz: nodes in the runtime', function () {
  this.timeout(90_000);
  let clock: ManagedClock;
  let sim: Simulator;
  let red: NodeAPI | undefined;
  let server: http.Server;
  let port = 0;

  before(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({ clock });
    sim.webcamViewLimit.maxViews = 1_000_000;
    server = http.createServer((req, res) => {
      if (red) (red.httpNode as unknown as http.RequestListener)(req, res);
      else res.writeHead(503).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    helper.settings({ octoeverywhereClock: clock, octoeverywhereRequestTimeout: 3000 } as Parameters<typeof helper.settings>[0]);
    const keys = sim.createAppConnection(0, { appId: 'nodered' });
    await helper.load(modules((r) => (red = r)) as Parameters<typeof helper.load>[0], allNodesFlow({ serviceUrl: sim.serviceUrl, webhookPath: HOOK_PATH }), {
      c1: credentialsOf(keys),
      hook: { token: TOKEN, secretKey: SECRET_KEY },
    });
  });
  after(async () => {
    await helper.unload();
    helper.settings({});
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await sim.close();
    clock.dispose();
  });

  it(`msg inputs: ${MSG_CASES_PER_NODE} hostile messages per input node end exactly once, no crash, no pollution`, async () => {
    const faults = recordProcessFaults();
    const protoBefore = prototypeKeys();
    const rng = prng(SEED + 2);
    const l = ledger();
    const perNode: string[] = [];
    for (const node of INPUT_NODES) {
      const ends = [];
      for (let i = 0; i < MSG_CASES_PER_NODE; i += 10) {
        // Ten at a time: concurrency is part of the input space.
        ends.push(...(await Promise.all(Array.from({ length: 10 }, () => l.send(node, hostileMsg(rng, node))))));
      }
      const errs = ends.filter((e) => e.kind === 'error');
      for (const e of errs) {
        assert.match(String(e.code), /^OE_[A-Z0-9_]+$/, `${node}: ${JSON.stringify(e.msg.error)}`);
        assert.notEqual(e.code, 'OE_INTERNAL', `${node}: an unexpected error: ${JSON.stringify(e.msg.error)}`);
      }
      perNode.push(`${node}:${ends.length - errs.length}ok/${errs.length}err`);
    }
    faults.stop();
    const s = l.summary();
    figure('fuzz/msg-inputs', {
      seed: SEED + 2,
      cases: s.in,
      out: s.out,
      errors: s.errors,
      lost: s.lost,
      duplicates: s.duplicates,
      perNode: perNode.join(','),
      codes: [...l.codes.keys()].join('|'),
    });
    assert.equal(s.lost, 0);
    assert.equal(s.duplicates, 0, l.duplicates.join('; '));
    assert.deepEqual(faults.faults, []);
    assert.equal(prototypeKeys(), protoBefore, 'no prototype pollution');
    assert.deepEqual(secretsIn(JSON.stringify(helper.log().args)), []);
  });

  it(`webhook receiver: ${WEBHOOK_CASES} hostile requests over HTTP — only valid, authenticated deliveries pass; never a 500`, async () => {
    const faults = recordProcessFaults();
    const rng = prng(SEED + 3);
    // What the webhook node itself sends ('out' also gets the status poller's messages, which run on the same clock).
    const events: unknown[] = [];
    const hook = helper.getNode('hook') as unknown as { send(m: Record<string, unknown>): void };
    const send = hook.send.bind(hook);
    hook.send = (m) => {
      events.push(m.payload);
      send(m);
    };
    const statuses = new Map<string, number>();
    let accepted = 0;
    for (let i = 0; i < WEBHOOK_CASES; i++) {
      const goodToken = rng.bool(0.6);
      const token = goodToken ? TOKEN : rng.pick(['', 'wrong', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), rng.string(30)]);
      const query = rng.pick([
        `?token=${safeEncode(token)}`,
        `?token=${safeEncode(token)}&token=${TOKEN}`,
        '',
        `?TOKEN=${TOKEN}`,
        `?token=${safeEncode(token)}&x=%zz`,
      ]);
      const validBody = rng.bool(0.5);
      const secret = rng.bool(0.8) ? SECRET_KEY : rng.pick(['', 'wrong', SECRET_KEY.slice(1)]);
      const body: string | Buffer = validBody
        ? safeJson({
            EventType: rng.int(1, 20),
            PrinterId: 'P',
            PrinterName: rng.string(20),
            SecretKey: secret,
            Progress: rng.value(0),
            FileName: rng.hostileString().slice(0, 500),
            __proto__: { polluted: 1 },
          })
        : rng.bool(0.1)
          ? Buffer.alloc(rng.int(65 * 1024, 2 * 1024 * 1024), 'a')
          : rng.bool(0.5)
            ? safeJson(rng.value(3))
            : Buffer.from(rng.string(200));
      const contentType = rng.pick([
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        '',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'text/json',
        'APPLICATION/JSON',
      ]);
      const headers: Record<string, string | number> = contentType ? { 'content-type': contentType } : {};
      const reply = await rawRequest(port, 'POST', `${HOOK_PATH}${query}`, body, headers);
      const key = String(reply.status);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      assert.ok(
        reply.status === 'reset' ? Buffer.byteLength(body) > 64 * 1024 : [200, 400, 401, 413, 415].includes(reply.status),
        `case ${i}: ${key} ${reply.body}`,
      );
      assert.deepEqual(secretsIn(reply.body), []);
      if (reply.status === 200) {
        accepted += 1;
        assert.ok(
          goodToken && query.startsWith('?token=') && !query.includes('&token=') && secret === SECRET_KEY,
          `case ${i}: accepted without the token and SecretKey`,
        );
      }
    }
    // Slow senders: headers and part of a body, then nothing; the node's read limit (simulated time) answers 408.
    let slow = 0;
    for (let i = 0; i < 10; i++) {
      const answered = new Promise<number>((resolve) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          path: `${HOOK_PATH}?token=${TOKEN}`,
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': 1000 },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        req.on('error', () => resolve(-1));
        req.write('{"EventType": 1, ');
      });
      await new Promise((r) => setTimeout(r, 20));
      await clock.advance(11_000);
      const status = await answered;
      assert.equal(status, 408, `slow sender ${i}`);
      slow += 1;
    }
    await new Promise((r) => setTimeout(r, 20));
    faults.stop();
    assert.equal(events.length, accepted, 'one message per accepted delivery');
    for (const e of events) assert.deepEqual(secretsIn(JSON.stringify(e)), [], 'the SecretKey is not passed on');
    assert.ok(!JSON.stringify(events).includes(SECRET_KEY));
    assert.ok(accepted > 0);
    assert.deepEqual(faults.faults, []);
    figure('fuzz/webhook', {
      seed: SEED + 3,
      cases: WEBHOOK_CASES + slow,
      accepted,
      slowSenders408: slow,
      statuses: [...statuses].map(([k, n]) => `${k}:${n}`).join(','),
    });
  });

  it(`admin routes: ${ADMIN_CASES} random requests — never a 500 with a stack, never a saved secret`, async () => {
    const faults = recordProcessFaults();
    const rng = prng(SEED + 4);
    // Only addresses on this machine: the routes that probe a URL must not reach out during a fuzz.
    const url = (): string =>
      rng.pick([
        sim.serviceUrl,
        `http://127.0.0.1:1`,
        `http://app-${'c'.repeat(32)}.localhost:${sim.port}`,
        'not a url',
        '',
        'ftp://127.0.0.1/',
        `http://127.0.0.1:${port}/`,
        'javascript:alert(1)',
        `http://user:pw@127.0.0.1:1/`,
      ]);
    const id = (): string => rng.pick(['c1', 'hook', 'cmd', 'cam', 'nope', '..', '%2e%2e', '__proto__', 'constructor', rng.string(10), 'x'.repeat(5000)]);
    const body = (): unknown =>
      rng.bool(0.5)
        ? {
            editorUrl: url(),
            serviceUrl: url(),
            appId: rng.value(0),
            printerId: rng.value(0),
            localUrl: url(),
            completion: rng.hostileString().slice(0, 5000),
            id: id(),
            credentials: rng.bool(0.5) ? { url: url(), authBearerToken: rng.value(0), appApiToken: '__PWRD__' } : rng.value(1),
            authType: rng.value(0),
          }
        : rng.value(2);
    const routes: Array<() => { method: 'get' | 'post'; path: string; body?: unknown }> = [
      () => ({ method: 'post', path: '/octoeverywhere/portal/start', body: body() }),
      () => ({ method: 'get', path: `/octoeverywhere/portal/result?state=${safeEncode(rng.string(40))}` }),
      () => ({ method: 'get', path: `/octoeverywhere/portal/callback?state=${safeEncode(rng.string(20))}&${rng.string(100).replace(/[#\s]/g, '')}` }),
      () => ({ method: 'post', path: '/octoeverywhere/portal/parse', body: body() }),
      () => ({ method: 'post', path: '/octoeverywhere/app-connection/printer-id', body: body() }),
      () => ({ method: 'post', path: '/octoeverywhere/app-connection/test', body: body() }),
      () => ({ method: 'get', path: `/octoeverywhere/features/${safeEncode(id())}` }),
      () => ({ method: 'get', path: `/octoeverywhere/webcams/${safeEncode(id())}` }),
      () => ({ method: 'get', path: '/octoeverywhere/notification-webhook/events' }),
      () => ({ method: 'post', path: `/octoeverywhere/notification-webhook/${safeEncode(id())}/test`, body: body() }),
    ];
    const deployed = (helper.getNode('c1') as unknown as { credentials: Record<string, string | undefined> }).credentials;
    const savedSecrets = [deployed.authBasicHttpPassword, deployed.authBearerToken, deployed.appApiToken, TOKEN, SECRET_KEY].filter(
      (s): s is string => typeof s === 'string',
    );
    const tally = new Map<string, number>();
    for (let i = 0; i < ADMIN_CASES; i++) {
      const r = routes[i % routes.length]();
      let req = helper.request()[r.method](r.path);
      // JSON only for objects and arrays: the runtime's strict body parser answers anything else itself
      // (the test helper's Express shows its own error page for that, which is not our route's answer).
      if (r.body !== undefined) {
        req =
          rng.bool(0.8) && typeof r.body === 'object' && r.body !== null
            ? req.set('content-type', 'application/json').send(safeJson(r.body))
            : req.set('content-type', rng.pick(['text/plain', 'application/x-www-form-urlencoded'])).send(rng.string(200));
      }
      const res = await req;
      const text = `${res.text ?? ''}${JSON.stringify(res.headers)}`;
      tally.set(String(res.status), (tally.get(String(res.status)) ?? 0) + 1);
      assert.ok(
        !/\bat [^\s]+ \(.*:\d+:\d+\)|node_modules|\/work\//.test(text),
        `case ${i} ${r.path}: a stack or file path in the answer: ${text.slice(0, 300)}`,
      );
      for (const s of savedSecrets) assert.ok(!text.includes(s), `case ${i} ${r.path}: a saved secret in the answer`);
      assert.notEqual(res.status, 500, `case ${i} ${r.path}: ${text.slice(0, 300)}`);
    }
    faults.stop();
    assert.deepEqual(faults.faults, []);
    figure('fuzz/admin-routes', { seed: SEED + 4, cases: ADMIN_CASES, routes: routes.length, statuses: [...tally].map(([k, n]) => `${k}:${n}`).join(',') });
  });
});
