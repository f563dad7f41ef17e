// Issue 10, item 6: secrets. A flow with every node type against the simulator, driven through success
// and failure (faults, a revoked connection): every log line, every message that reached a debug-able
// output or a Catch node, every status text and the answers of every admin route are searched for the
// credentials — 0 hits. Then a real Node-RED process with adminAuth: the exported flow (GET /flows)
// holds no credential, and a read-only user can neither start the portal, read a portal result, list
// webcams, read features nor send a webhook test. Last, the secret comparisons are constant-time.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { NodeAPI } from 'node-red';
import { helper } from '../helpers/nodes';
import { SECRETS, secretsIn, watchSecret } from '../helpers/secrets';
import { coreNode, nodeModule } from '../helpers/nodes';
import { markJpeg } from '../../src/simulator/printers/gadget-marker';
import type { NodeRedProcess } from '../helpers/node-red-process';
import { credentialsOf } from '../helpers/simulator';
import { ADMIN, login, startNodeRedWithPackage, VIEWER } from '../e2e/support';
import { createClock, type Simulator, startSimulator } from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import { allNodesFlow, figure, INPUT_NODES, ledger, modules, statusesOf } from '../reliability/rig';
import mqtt from 'mqtt';
import { BROKER_REQUIRED, mosquittoPath, startMosquitto } from '../helpers/mosquitto';

const HOOK_TOKEN = 'secrets-hook-token-Sentinel-abcdef0123';
const HOOK_SECRET = 'secrets-hook-secretkey-Sentinel-42';
watchSecret(HOOK_TOKEN);
watchSecret(HOOK_SECRET);

describe('security: no secret leaks anywhere', function () {
  this.timeout(90_000);
  let sim: Simulator;

  before(async () => {
    sim = await startSimulator();
  });
  after(async () => {
    await sim.close();
  });

  it('logs, messages, errors, statuses and admin answers of a flow with every node type: 0 secret hits', async () => {
    const keys = sim.createAppConnection(0, { appId: 'nodered', octoPrintApiKeyAppName: 'Node-RED' });
    const creds = credentialsOf(keys);
    let red: NodeAPI | undefined;
    await helper.load(
      modules((r) => (red = r)) as Parameters<typeof helper.load>[0],
      allNodesFlow({ serviceUrl: sim.serviceUrl, webhookPath: '/oe/secrets-hook' }),
      {
        c1: creds,
        hook: { token: HOOK_TOKEN, secretKey: HOOK_SECRET },
      },
    );
    assert.ok(red);
    const seen: unknown[] = [];
    for (const id of ['out', 'errs', 'done'])
      (helper.getNode(id) as unknown as { on(e: 'input', fn: (m: unknown) => void): void }).on('input', (m) => seen.push(m));
    const l = ledger();
    const drive = async (): Promise<void> => {
      await Promise.all(INPUT_NODES.map((n) => l.send(n)));
      await Promise.all(
        INPUT_NODES.map((n) => l.send(n, { path: '/api/../x', headers: { 'X-A': 'a\r\nb' }, action: 'nope', webcam: 99, payload: { expirationHours: -1 } })),
      );
    };
    await drive();
    Object.assign(sim.chaos, { errorRate: 1, errorStatus: 600 });
    await drive();
    Object.assign(sim.chaos, { errorRate: 0, dropRate: 1 });
    await drive();
    Object.assign(sim.chaos, { dropRate: 0 });
    sim.revoke(keys.id);
    await drive();
    // Admin routes: each asked about the deployed nodes.
    const answers: string[] = [];
    const asks: Array<[string, string, unknown?]> = [
      ['get', '/octoeverywhere/features/c1'],
      ['get', '/octoeverywhere/webcams/c1'],
      ['get', '/octoeverywhere/notification-webhook/events'],
      ['post', '/octoeverywhere/notification-webhook/hook/test', {}],
      [
        'post',
        '/octoeverywhere/app-connection/test',
        { id: 'c1', credentials: { authBearerToken: '__PWRD__', appApiToken: '__PWRD__', authBasicHttpPassword: '__PWRD__' }, serviceUrl: sim.serviceUrl },
      ],
      ['post', '/octoeverywhere/portal/start', { editorUrl: 'http://127.0.0.1:1880/', serviceUrl: sim.serviceUrl }],
      ['post', '/octoeverywhere/portal/parse', { completion: 'success=false' }],
    ];
    for (const [method, route, body] of asks) {
      const req = helper.request()[method as 'get' | 'post'](route);
      const res = await (body === undefined ? req : req.send(body as object));
      answers.push(`${res.status} ${res.text} ${JSON.stringify(res.headers)}`);
    }
    const statusTexts = ['c1', ...INPUT_NODES, 'hook'].flatMap((id) => statusesOf(id).map((s) => s.text ?? ''));
    const log = JSON.stringify(helper.log().args);
    const haystacks: Record<string, string> = {
      log,
      messages: JSON.stringify(seen),
      statuses: JSON.stringify(statusTexts),
      admin: answers.join('\n'),
    };
    const hits = Object.fromEntries(Object.entries(haystacks).map(([k, v]) => [`${k}Hits`, secretsIn(v).length]));
    const s = l.summary();
    figure('secrets/in-process', {
      inputs: s.in,
      messagesSeen: seen.length,
      logLines: helper.log().args.length,
      statusTexts: statusTexts.length,
      adminAnswers: answers.length,
      ...hits,
    });
    assert.ok(s.errors > 0 && s.out > 0, 'both outcomes were exercised');
    assert.ok(helper.log().args.length > 0);
    assert.deepEqual(hits, { logHits: 0, messagesHits: 0, statusesHits: 0, adminHits: 0 });
    await helper.unload();
  });

  it('the Gadget API key: 0 hits in outputs, events, errors, statuses and logs of the failure detection node', async () => {
    sim.gadgetApi.addKey(SECRETS.gadgetApiKey);
    const flow = [
      { id: 'gt', type: 'tab', label: 'gadget' },
      { id: 'gk', type: 'octoeverywhere-gadget-api', serviceUrl: sim.gadgetApi.url },
      { id: 'fdn', z: 'gt', type: 'octoeverywhere-failure-detection', gadgetApi: 'gk', wires: [['gout'], ['gout']] },
      { id: 'gcatch', z: 'gt', type: 'catch', scope: ['fdn'], uncaught: false, wires: [['gout']] },
      { id: 'gout', z: 'gt', type: 'helper' },
    ];
    const mods = [nodeModule('octoeverywhere-gadget-api'), nodeModule('octoeverywhere-failure-detection'), coreNode('common/25-catch.js')];
    // The nodes' own clock is manual, so each frame can be sent without waiting out the interval.
    const clock = createClock({ mode: 'manual' });
    helper.settings({ octoeverywhereClock: clock } as Parameters<typeof helper.settings>[0]);
    try {
      await helper.load(mods as Parameters<typeof helper.load>[0], flow, { gk: { apiKey: SECRETS.gadgetApiKey } });
      const seen: unknown[] = [];
      helper.getNode('gout').on('input', (m: unknown) => seen.push(m));
      const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 2, 0xff, 0xd9]);
      const send = async (payload: unknown, reset = true): Promise<void> => {
        const before = seen.length;
        // Each frame a new print (a new context), so the simulator's real-time rate limit never applies.
        helper.getNode('fdn').receive({ payload, reset } as never);
        for (let i = 0; i < 200 && seen.length === before; i++) await new Promise((r) => setTimeout(r, 10));
        await clock.advance(60_000);
      };
      for (let i = 0; i < 3; i++) await send(markJpeg(jpeg, 3));
      for (const script of ['OE_INTERNAL_ERROR', 'OE_BAD_ARGS', 'drop'] as const) {
        sim.gadgetApi.failNext(script);
        await send(jpeg);
      }
      sim.gadgetApi.setKeyState(SECRETS.gadgetApiKey, 'disabled');
      await send(jpeg);
      await send(jpeg);
      await send('not a jpeg', false);
      const hits = {
        messagesHits: secretsIn(JSON.stringify(seen)).length,
        statusesHits: secretsIn(JSON.stringify(statusesOf('fdn'))).length,
        logHits: secretsIn(JSON.stringify(helper.log().args)).length,
      };
      figure('secrets/gadget-api', { messages: seen.length, ...hits });
      assert.ok(seen.length >= 9, `every frame ended in an output or an error (${seen.length})`);
      assert.deepEqual(hits, { messagesHits: 0, statusesHits: 0, logHits: 0 });
    } finally {
      helper.settings({});
      clock.dispose();
    }
    await helper.unload();
  });

  it('the printer socket: 0 hits in its frames, events, errors, statuses and logs, through drops and a revoked connection', async () => {
    const keys = sim.createAppConnection(0, { appId: 'nodered', octoPrintApiKeyAppName: 'Node-RED' });
    const flow = [
      { id: 'st', type: 'tab', label: 'socket' },
      { id: 'sc', type: 'octoeverywhere-app-connection', serviceUrl: sim.serviceUrl },
      {
        id: 'psn',
        z: 'st',
        type: 'octoeverywhere-printer-socket',
        connection: 'sc',
        path: '/websocket',
        heartbeat: 5,
        events: 'all',
        wires: [['sout'], ['sout']],
      },
      { id: 'scatch', z: 'st', type: 'catch', scope: ['psn'], uncaught: false, wires: [['sout']] },
      { id: 'sout', z: 'st', type: 'helper' },
    ];
    const mods = [nodeModule('octoeverywhere-app-connection'), nodeModule('octoeverywhere-printer-socket'), coreNode('common/25-catch.js')];
    // The node's back-off and heartbeat on a manual clock, so each reconnect comes without waiting.
    const clock = createClock({ mode: 'manual' });
    helper.settings({ octoeverywhereClock: clock } as Parameters<typeof helper.settings>[0]);
    const seen: Array<{ topic?: string; payload?: unknown; error?: { code?: string } }> = [];
    const wait = async (what: string, check: () => boolean): Promise<void> => {
      for (let i = 0; i < 100 && !check(); i++) {
        await clock.advance(1000);
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(check(), what);
    };
    const connects = (): number => seen.filter((m) => m.topic === 'connected').length;
    try {
      await helper.load(mods as Parameters<typeof helper.load>[0], flow, { sc: credentialsOf(keys) });
      helper.getNode('sout').on('input', (m: (typeof seen)[number]) => seen.push(m));
      await wait('connected', () => connects() === 1);
      const node = helper.getNode('psn');
      node.receive({ payload: { jsonrpc: '2.0', method: 'server.info', id: 1 } } as never);
      node.receive({} as never);
      await wait('the answer and the bad payload', () => seen.some((m) => (m.payload as { id?: unknown } | undefined)?.id === 1) && seen.some((m) => m.error));
      sim.socketChaos.drop();
      await wait('reconnected', () => connects() === 2);
      sim.revoke(keys.id);
      sim.socketChaos.drop();
      await wait('the stop', () => seen.some((m) => m.error?.code === 'OE_604'));
      const hits = {
        messagesHits: secretsIn(JSON.stringify(seen)).length,
        statusesHits: secretsIn(JSON.stringify(statusesOf('psn'))).length,
        logHits: secretsIn(JSON.stringify(helper.log().args)).length,
        flowHits: secretsIn(JSON.stringify(flow)).length,
      };
      figure('secrets/printer-socket', { messages: seen.length, ...hits });
      assert.ok(seen.some((m) => m.topic === 'disconnected') && seen.some((m) => m.topic === 'error'), 'drops and errors were reported');
      assert.deepEqual(hits, { messagesHits: 0, statusesHits: 0, logHits: 0, flowHits: 0 });
    } finally {
      helper.settings({});
      await helper.unload();
      clock.dispose();
    }
  });

  it('printer mqtt: 0 hits in its outputs, events, errors, statuses and logs through success, refusals, a link drop and a revoked connection', async () => {
    const clock = createClock({ mode: 'manual' });
    const bambuSim = await startSimulator({ clock, printers: [{ kind: 'bambu', name: 'P1S' }] });
    helper.settings({ octoeverywhereClock: clock } as Parameters<typeof helper.settings>[0]);
    try {
      const printer = bambuSim.printers[0] as SimulatedPrinter;
      const sn = printer.serialNumber ?? '';
      printer.mqtt?.refusedFilters.add('refused/topic');
      const keys = bambuSim.createAppConnection(0, { appId: 'nodered' });
      const at = { z: 'tab', x: 100, y: 100 };
      await helper.load(
        [nodeModule('octoeverywhere-app-connection'), nodeModule('octoeverywhere-printer-mqtt'), coreNode('common/25-catch.js')] as Parameters<
          typeof helper.load
        >[0],
        [
          { id: 'tab', type: 'tab' },
          { id: 'c1', type: 'octoeverywhere-app-connection', serviceUrl: bambuSim.serviceUrl },
          { id: 'pm', type: 'octoeverywhere-printer-mqtt', connection: 'c1', topics: `device/${sn}/report\nrefused/topic`, wires: [['out'], ['ev']], ...at },
          { id: 'out', type: 'helper', ...at },
          { id: 'ev', type: 'helper', ...at },
          { id: 'ct', type: 'catch', scope: ['pm'], uncaught: false, wires: [['errs']], ...at },
          { id: 'errs', type: 'helper', ...at },
        ] as Parameters<typeof helper.load>[1],
        { c1: credentialsOf(keys) },
      );
      const seen: unknown[] = [];
      const statuses: unknown[] = [];
      for (const id of ['out', 'ev', 'errs'])
        (helper.getNode(id) as unknown as { on(e: 'input', fn: (m: unknown) => void): void }).on('input', (m) => seen.push(m));
      const pm = helper.getNode('pm') as unknown as { status: (s: unknown) => void; receive: (m: unknown) => void };
      const status = pm.status.bind(pm);
      pm.status = (st) => {
        statuses.push(st);
        status(st);
      };
      const step = async (sec: number): Promise<void> => {
        for (let i = 0; i < sec; i++) {
          await clock.advance(1000);
          for (let j = 0; j < 5; j++) await new Promise((resolve) => setImmediate(resolve));
        }
      };
      pm.receive({ topic: `device/${sn}/request`, payload: { pushing: { sequence_id: '0', command: 'pushall' } } });
      pm.receive({ topic: 'device/+/request', payload: 'x' });
      pm.receive({ payload: 'no topic' });
      await step(5);
      bambuSim.socketChaos.setPrinterLink(printer, false);
      await step(5);
      bambuSim.socketChaos.setPrinterLink(printer, true);
      bambuSim.revoke(keys.id);
      bambuSim.socketChaos.drop();
      await step(90);
      pm.receive({ topic: `device/${sn}/request`, payload: 'after the stop' });
      await step(2);
      const text = JSON.stringify(seen);
      assert.match(text, /gcode_state/, 'the report came');
      assert.match(text, /OE_MQTT_SUBSCRIBE_REFUSED/);
      assert.match(text, /OE_604/, 'the revoked connection stopped it');
      const hits = {
        log: secretsIn(JSON.stringify(helper.log().args)).length,
        messages: secretsIn(text).length,
        statuses: secretsIn(JSON.stringify(statuses)).length,
      };
      figure('secrets/printer-mqtt', hits);
      assert.deepEqual(hits, { log: 0, messages: 0, statuses: 0 });
      await helper.unload();
    } finally {
      helper.settings({});
      await bambuSim.close();
      clock.dispose();
    }
  });

  it('the Home Assistant node: 0 hits in every MQTT topic and payload, its errors, statuses and logs', async function () {
    const binary = mosquittoPath();
    if (!binary) {
      if (BROKER_REQUIRED) throw new Error('mosquitto is required (CI / OE_REQUIRE_BROKER=1) but was not found');
      this.skip();
    }
    const broker = await startMosquitto(binary);
    const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { reconnectPeriod: 0 });
    const published: string[] = [];
    watcher.on('message', (topic, payload) => published.push(`${topic} ${payload.toString('utf8')}`));
    await watcher.subscribeAsync('#', { qos: 1 });
    try {
      const keys = sim.createAppConnection(0, { appId: 'nodered', octoPrintApiKeyAppName: 'Node-RED' });
      const flow = [
        { id: 'ht', type: 'tab', label: 'ha' },
        { id: 'hc', type: 'octoeverywhere-app-connection', serviceUrl: sim.serviceUrl },
        {
          id: 'hb',
          type: 'mqtt-broker',
          broker: '127.0.0.1',
          port: String(broker.port),
          protocolVersion: '4',
          willTopic: 'octoeverywhere/bridge',
          willPayload: 'offline',
        },
        { id: 'ha', z: 'ht', type: 'octoeverywhere-home-assistant', connection: 'hc', broker: 'hb', mode: 'poll', interval: 10 },
        { id: 'hcatch', z: 'ht', type: 'catch', scope: ['ha'], uncaught: false, wires: [['hout']] },
        { id: 'hout', z: 'ht', type: 'helper' },
      ];
      const mods = [
        nodeModule('octoeverywhere-app-connection'),
        nodeModule('octoeverywhere-home-assistant'),
        coreNode('network/10-mqtt.js'),
        coreNode('common/25-catch.js'),
      ];
      await helper.load(mods as Parameters<typeof helper.load>[0], flow, { hc: credentialsOf(keys) });
      const caught: unknown[] = [];
      helper.getNode('hout').on('input', (m: unknown) => caught.push(m));
      const base = 'octoeverywhere/octoeverywhere_hc';
      const until = async (what: string, check: () => boolean): Promise<void> => {
        for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
        assert.ok(check(), what);
      };
      await until('the state', () => published.some((m) => m.startsWith(`${base}/state `)));
      // Commands that fail: wrong state (786), not allowed, bad JSON, an unknown light, and a service error.
      for (const payload of ['resume', '{"action":"start","payload":{"path":"x"}}', '{nope'])
        await watcher.publishAsync(`${base}/command`, payload, { qos: 1 });
      await watcher.publishAsync(`${base}/light/nope/set`, 'ON', { qos: 1 });
      await until('four failures', () => caught.length >= 4);
      Object.assign(sim.chaos, { errorRate: 1, errorStatus: 606 });
      await watcher.publishAsync(`${base}/command`, 'pause', { qos: 1 });
      await until('the 606', () => caught.length >= 5);
      Object.assign(sim.chaos, { errorRate: 0 });
      const statuses = statusesOf('ha');
      const log = JSON.stringify(helper.log().args);
      await helper.unload();
      await new Promise((r) => setTimeout(r, 100));
      const hits = {
        mqttHits: secretsIn(published.join('\n')).length,
        errorsHits: secretsIn(JSON.stringify(caught)).length,
        statusesHits: secretsIn(JSON.stringify(statuses)).length,
        logHits: secretsIn(log).length,
      };
      figure('secrets/home-assistant', { mqttMessages: published.length, errors: caught.length, ...hits });
      assert.ok(published.length > 20, 'discovery, state and command results were published');
      assert.deepEqual(hits, { mqttHits: 0, errorsHits: 0, statusesHits: 0, logHits: 0 });
    } finally {
      Object.assign(sim.chaos, { errorRate: 0 });
      await watcher.endAsync(true);
      await broker.stop();
    }
  });

  describe('real Node-RED with adminAuth', () => {
    let nodeRed: NodeRedProcess;
    let adminToken: string;
    let viewerToken: string;
    let keys: ReturnType<Simulator['createAppConnection']>;

    before(async () => {
      nodeRed = await startNodeRedWithPackage({ users: [ADMIN, VIEWER] });
      adminToken = await login(nodeRed, ADMIN);
      viewerToken = await login(nodeRed, VIEWER);
      keys = sim.createAppConnection(0, { appId: 'nodered' });
      const creds = credentialsOf(keys);
      const flow = allNodesFlow({ serviceUrl: sim.serviceUrl, webhookPath: '/oe/secrets-real' })
        .filter((n) => !['helper', 'catch', 'complete'].includes(n.type))
        .map((n) => ({ ...n, wires: Array.isArray(n.wires) ? n.wires.map(() => []) : undefined }));
      const withCreds = [
        ...flow.map((n) =>
          n.id === 'c1' ? { ...n, credentials: creds } : n.id === 'hook' ? { ...n, credentials: { token: HOOK_TOKEN, secretKey: HOOK_SECRET } } : n,
        ),
        { id: 'gk', type: 'octoeverywhere-gadget-api', serviceUrl: sim.gadgetApi.url, credentials: { apiKey: SECRETS.gadgetApiKey } },
        { id: 'fdn', z: 'tab', type: 'octoeverywhere-failure-detection', gadgetApi: 'gk', wires: [[], []] },
        {
          id: 'psn',
          z: 'tab',
          type: 'octoeverywhere-printer-socket',
          connection: 'c1',
          path: '/websocket',
          heartbeat: 15,
          events: 'all',
          version: 1,
          wires: [[], []],
        },
        { id: 'pmq', z: 'tab', type: 'octoeverywhere-printer-mqtt', connection: 'c1', topics: 'device/SERIAL/report', wires: [[], []] },
      ];
      const res = await fetch(`${nodeRed.url}/flows`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify(withCreds),
      });
      assert.ok(res.status === 200 || res.status === 204, await res.text());
    });
    after(async () => {
      await nodeRed?.stop();
    });

    const call = (route: string, token: string | undefined, body?: unknown): Promise<Response> =>
      fetch(`${nodeRed.url}${route}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    it('the exported flow, the credentials view, the saved files and the process output hold no secret', async () => {
      const flows = await (await call('/flows', adminToken)).text();
      assert.match(flows, /octoeverywhere-app-connection/);
      const credsView = await (await call('/credentials/octoeverywhere-app-connection/c1', adminToken)).text();
      const hookView = await (await call('/credentials/octoeverywhere-notification-webhook/hook', adminToken)).text();
      const gadgetView = await (await call('/credentials/octoeverywhere-gadget-api/gk', adminToken)).text();
      assert.match(flows, /octoeverywhere-gadget-api/);
      assert.match(flows, /octoeverywhere-printer-mqtt/);
      const saved = ['flows.json', 'flows_cred.json'].map((f) => {
        const file = path.join(nodeRed.userDir, f);
        return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      });
      const hits = {
        flows: secretsIn(flows).length,
        credentialsView: secretsIn(credsView + gadgetView).length,
        webhookCredentialsView: secretsIn(hookView.replace(HOOK_TOKEN, '')).length,
        savedFiles: secretsIn(saved.join('\n')).length,
        output: secretsIn(nodeRed.output()).length,
      };
      figure('secrets/real-node-red', hits);
      assert.deepEqual(hits, { flows: 0, credentialsView: 0, webhookCredentialsView: 0, savedFiles: 0, output: 0 });
    });

    it("a read-only user's credentials view of each of our nodes that holds credentials says only which are set", async () => {
      const views: Record<string, unknown> = {};
      for (const [type, id] of [
        ['octoeverywhere-app-connection', 'c1'],
        ['octoeverywhere-notification-webhook', 'hook'],
        ['octoeverywhere-gadget-api', 'gk'],
      ]) {
        const res = await call(`/credentials/${type}/${id}`, viewerToken);
        assert.equal(res.status, 200, type);
        const view = (await res.json()) as Record<string, unknown>;
        views[type] = view;
        assert.ok(Object.keys(view).length > 0, `${type}: some credential is set`);
        for (const [key, value] of Object.entries(view)) assert.ok(key.startsWith('has_') && typeof value === 'boolean', `${type}: ${key} is a value`);
      }
      assert.deepEqual(secretsIn(JSON.stringify(views).replace(HOOK_TOKEN, '')), []);
      assert.ok(!JSON.stringify(views).includes(HOOK_TOKEN), 'not the webhook token either');
    });

    it('a read-only user cannot start the portal, read a result, list webcams, read features or send a webhook test', async () => {
      const routes: Array<[string, unknown?]> = [
        ['/octoeverywhere/portal/start', { editorUrl: `${nodeRed.url}/`, serviceUrl: sim.serviceUrl }],
        ['/octoeverywhere/portal/result?state=x'],
        ['/octoeverywhere/webcams/c1'],
        ['/octoeverywhere/features/c1'],
        ['/octoeverywhere/notification-webhook/hook/test', {}],
      ];
      const outcome: string[] = [];
      for (const [route, body] of routes) {
        const anonymous = await call(route, undefined, body);
        const viewer = await call(route, viewerToken, body);
        const admin = await call(route, adminToken, body);
        outcome.push(`${route}: anonymous ${anonymous.status}, viewer ${viewer.status}, admin ${admin.status}`);
        assert.equal(anonymous.status, 401, `${route} without a token`);
        assert.ok(viewer.status === 401 || viewer.status === 403, `${route} as a read-only user: ${viewer.status}`);
        assert.ok(admin.status !== 401 && admin.status !== 403, `${route} as admin: ${admin.status}`);
        for (const r of [anonymous, viewer, admin]) assert.deepEqual(secretsIn(await r.text()), []);
      }
      figure('secrets/permissions', { routes: routes.length, viewerRefused: routes.length });
    });
  });

  it('webhook tokens and SecretKeys are compared in constant time (timingSafeEqual on equal-length digests)', () => {
    const source = fs.readFileSync(path.resolve(__dirname, '..', '..', 'src', 'client', 'webhook-intake.ts'), 'utf8');
    const fn = source.slice(source.indexOf('export function secretsEqual'), source.indexOf('\n}\n', source.indexOf('export function secretsEqual')));
    assert.match(fn, /timingSafeEqual\(/, 'uses crypto.timingSafeEqual');
    assert.match(fn, /createHash\('sha256'\)[\s\S]*createHash\('sha256'\)/, 'on two digests of the same length');
    assert.doesNotMatch(
      fn,
      /expected\s*[!=]==\s*(given|presented)\b|(given|presented)\s*[!=]==\s*expected|\.length\s*[!=<>]==?/,
      'no early exit on content or length',
    );
    for (const f of ['checkToken', 'checkSecretKey']) {
      const body = source.slice(source.indexOf(`export function ${f}`), source.indexOf('\n}\n', source.indexOf(`export function ${f}`)));
      assert.match(body, /secretsEqual\(/, `${f} compares through secretsEqual`);
    }
    // And nothing else in the package compares a credential with === (the relay's secrets are the simulator's).
    const nodesDir = path.resolve(__dirname, '..', '..', 'src', 'nodes');
    for (const file of fs.readdirSync(nodesDir).filter((f) => f.endsWith('.ts'))) {
      assert.doesNotMatch(fs.readFileSync(path.join(nodesDir, file), 'utf8'), /(token|secretKey)\s*[!=]==\s*(req|body|presented)/i, file);
    }
  });
});
