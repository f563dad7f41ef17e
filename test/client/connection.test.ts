import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { AppConnection, OctoEverywhereClient, OctoEverywhereError } from '../../src/client';
import { authorizationHeader } from '../../src/client/connection';
import { json, startRecorder, type Recorder } from '../helpers/recorder';
import { SECRETS, secretsIn } from '../helpers/secrets';

const HOST = 'app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.localhost';

describe('client: AppConnection', () => {
  let server: Recorder;
  const open: AppConnection[] = [];
  const connect = (extra: Partial<ConstructorParameters<typeof AppConnection>[0]> = {}): AppConnection => {
    const c = new AppConnection({ url: `http://${HOST}:${server.port}`, authBearerToken: SECRETS.authBearerToken, ...extra });
    open.push(c);
    return c;
  };

  beforeEach(async () => {
    server = await startRecorder((_req, res) => json(res, 200, { ok: true }));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await server.close();
  });

  describe('authentication', () => {
    it('sends the bearer token by default, resolving *.localhost to loopback', async () => {
      const res = await connect({ authBasicHttpUser: SECRETS.authBasicHttpUser, authBasicHttpPassword: SECRETS.authBasicHttpPassword }).request({
        path: '/api/job',
      });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.body, { ok: true });
      assert.equal(server.requests[0].headers.authorization, `Bearer ${SECRETS.authBearerToken}`);
      assert.equal(server.requests[0].headers.host, `${HOST}:${server.port}`);
    });

    it('sends Basic when chosen and both are present, and when it is the only credential', async () => {
      const basic = `Basic ${Buffer.from(`${SECRETS.authBasicHttpUser}:${SECRETS.authBasicHttpPassword}`).toString('base64')}`;
      await connect({ authType: 'basic', authBasicHttpUser: SECRETS.authBasicHttpUser, authBasicHttpPassword: SECRETS.authBasicHttpPassword }).request({
        path: '/a',
      });
      await connect({ authBearerToken: undefined, authBasicHttpUser: SECRETS.authBasicHttpUser, authBasicHttpPassword: SECRETS.authBasicHttpPassword }).request(
        { path: '/b' },
      );
      assert.deepEqual(
        server.requests.map((r) => r.headers.authorization),
        [basic, basic],
      );
    });

    it('adds X-Api-Key when an OctoPrint key is set, and never lets a caller replace Authorization or Host', async () => {
      await connect({ octoPrintApiKey: SECRETS.octoPrintApiKey }).request({
        path: '/api/job',
        headers: { Authorization: 'Bearer other', Host: 'evil.example', 'X-Custom': 'yes' },
      });
      const h = server.requests[0].headers;
      assert.equal(h['x-api-key'], SECRETS.octoPrintApiKey);
      assert.equal(h.authorization, `Bearer ${SECRETS.authBearerToken}`);
      assert.equal(h.host, `${HOST}:${server.port}`);
      assert.equal(h['x-custom'], 'yes');
    });

    it('refuses a connection without credentials before sending anything', () => {
      assert.throws(
        () => authorizationHeader({}),
        (e: OctoEverywhereError) => e.code === 'OE_MISSING_CREDENTIALS',
      );
      assert.throws(
        () => new AppConnection({ url: 'https://app-x.octoeverywhere.com', authBasicHttpUser: 'u' }),
        (e: OctoEverywhereError) => e.code === 'OE_MISSING_CREDENTIALS',
      );
    });

    it('authenticates the WebSocket handshake too', async () => {
      const wsServer = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await new Promise((r) => wsServer.once('listening', r));
      const port = (wsServer.address() as AddressInfo).port;
      const seen = new Promise<http.IncomingHttpHeaders>((resolve) => wsServer.once('connection', (_s, req) => resolve(req.headers)));
      const c = new AppConnection({ url: `http://${HOST}:${port}`, authBearerToken: SECRETS.authBearerToken, octoPrintApiKey: SECRETS.octoPrintApiKey });
      open.push(c);
      const socket = c.openWebSocket('/sockjs/websocket');
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const headers = await seen;
      assert.equal(headers.authorization, `Bearer ${SECRETS.authBearerToken}`);
      assert.equal(headers['x-api-key'], SECRETS.octoPrintApiKey);
      socket.terminate();
      await new Promise((r) => wsServer.close(r));
    });
  });

  describe('URLs', () => {
    for (const bad of ['http://app-abc.octoeverywhere.com', 'http://192.168.1.5', 'http://10.0.0.1:80']) {
      it(`refuses plain http to a non-loopback host (${bad})`, () => {
        assert.throws(
          () => new AppConnection({ url: bad, authBearerToken: 'x' }),
          (e: OctoEverywhereError) => e.code === 'OE_INSECURE_URL',
        );
        assert.throws(
          () => new AppConnection({ url: 'https://app-a.octoeverywhere.com', serviceUrl: bad, authBearerToken: 'x' }),
          (e: OctoEverywhereError) => e.code === 'OE_INSECURE_URL',
        );
      });
    }
    for (const ok of ['http://127.0.0.9:1', 'http://[::1]:2', 'http://localhost:3', 'http://app-x.localhost:4', 'https://APP-X.octoeverywhere.com/']) {
      it(`accepts ${ok} and normalises it`, () => {
        const c = new AppConnection({ url: ok, authBearerToken: 'x' });
        assert.equal(c.baseUrl, c.baseUrl.toLowerCase());
        assert.ok(!c.baseUrl.endsWith('/'));
        void c.close();
      });
    }
    it('refuses non-URLs and URLs with embedded credentials', () => {
      assert.throws(
        () => new AppConnection({ url: 'not a url', authBearerToken: 'x' }),
        (e: OctoEverywhereError) => e.code === 'OE_INVALID_URL',
      );
      assert.throws(
        () => new AppConnection({ url: 'https://u:p@app-x.octoeverywhere.com', authBearerToken: 'x' }),
        (e: OctoEverywhereError) => e.code === 'OE_INVALID_URL',
      );
      assert.throws(
        () => new AppConnection({ url: 'ftp://app-x.octoeverywhere.com', authBearerToken: 'x' }),
        (e: OctoEverywhereError) => e.code === 'OE_INVALID_URL',
      );
    });
  });

  describe('requests', () => {
    it('sends objects as JSON, Buffers raw and strings as text, and reads JSON, text and binary answers', async () => {
      server.respond((req, res) => {
        if (req.url === '/bin') {
          res.writeHead(200, { 'Content-Type': 'image/jpeg' });
          res.end(Buffer.from([0xff, 0xd8, 0xff]));
        } else if (req.url === '/text') {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end('hello');
        } else json(res, 201, { echo: req.body.toString() });
      });
      const c = connect();
      const r1 = await c.request({ method: 'POST', path: '/api/files', body: { command: 'select', print: true } });
      assert.equal(r1.statusCode, 201);
      assert.equal(server.requests[0].headers['content-type'], 'application/json');
      assert.equal(server.requests[0].body.toString(), '{"command":"select","print":true}');
      await c.request({ method: 'PUT', path: '/raw', body: Buffer.from([1, 2, 3]) });
      assert.equal(server.requests[1].headers['content-type'], 'application/octet-stream');
      assert.deepEqual([...server.requests[1].body], [1, 2, 3]);
      await c.request({ method: 'POST', path: '/gcode', body: 'G28' });
      assert.equal(server.requests[2].body.toString(), 'G28');
      assert.match(String(server.requests[2].headers['content-type']), /^text\/plain/);
      const bin = await c.request<Buffer>({ path: '/bin' });
      assert.ok(Buffer.isBuffer(bin.body));
      assert.equal((await c.request({ path: '/text' })).body, 'hello');
    });

    it('returns printer errors (4xx/5xx) as answers, like the core http request node', async () => {
      server.respond((_req, res) => json(res, 404, { error: 'not found' }));
      const res = await connect().request({ path: '/api/nothing' });
      assert.equal(res.statusCode, 404);
    });

    it('turns OctoEverywhere 6xx answers into errors with code, kind and what to do', async () => {
      const cases: Array<[number, string, 'temporary' | 'permanent', RegExp]> = [
        [601, 'OE_601', 'temporary', /not connected/],
        [603, 'OE_603', 'permanent', /App Connection Portal/],
        [604, 'OE_604', 'permanent', /App Connection Portal/],
        [605, 'OE_605', 'temporary', /nosupporterperks\?appid=my-app/],
        [606, 'OE_606', 'permanent', /credentials are invalid/],
        [650, 'OE_650', 'temporary', /HTTP 650/],
      ];
      const c = connect({ appId: 'my-app' });
      for (const [status, code, kind, text] of cases) {
        server.respond((_req, res) => {
          res.writeHead(status);
          res.end();
        });
        await assert.rejects(c.request({ path: '/api/job' }), (e: OctoEverywhereError) => {
          assert.equal(e.code, code);
          assert.equal(e.kind, kind);
          assert.equal(e.status, status);
          assert.match(e.message, text);
          return true;
        });
      }
    });

    it('refuses paths and headers that could leave the printer or split the request', async () => {
      const c = connect();
      for (const path of ['http://evil.example/x', '//evil.example/x', '/a/../../etc', '/a/%2e%2e/b', '/a%2fb', 'api/job', '/x\r\nHost: evil', '/a\\b', '']) {
        await assert.rejects(c.request({ path }), (e: OctoEverywhereError) => e.code === 'OE_INVALID_PATH', path);
      }
      await assert.rejects(c.request({ path: '/a', headers: { 'X-A': 'v\r\nInjected: 1' } }), (e: OctoEverywhereError) => e.code === 'OE_INVALID_HEADER');
      await assert.rejects(c.request({ path: '/a', headers: { 'Bad Name': 'v' } }), (e: OctoEverywhereError) => e.code === 'OE_INVALID_HEADER');
      assert.equal(server.requests.length, 0);
    });

    it('sends an idempotent request once more when its socket is reset, and never a POST', async () => {
      let resets = 0;
      server.respond((req, res) => {
        if (resets === 0 || req.method === 'POST') {
          resets++;
          res.socket?.destroy();
          return;
        }
        json(res, 200, { ok: true });
      });
      const c = connect();
      const got = await c.request({ path: '/api/job' });
      assert.equal(got.statusCode, 200);
      assert.equal(server.requests.filter((r) => r.method === 'GET').length, 2, 'the GET was sent twice');
      await assert.rejects(c.request({ method: 'POST', path: '/api/job', body: { command: 'pause' } }), (e: OctoEverywhereError) => e.code === 'OE_NETWORK');
      assert.equal(server.requests.filter((r) => r.method === 'POST').length, 1, 'a POST is never repeated');
    });

    it('does not cap a streamed answer at the in-memory limit unless asked', async () => {
      const big = Buffer.alloc(256 * 1024, 7);
      server.respond((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        res.end(big);
      });
      const c = connect();
      const read = async (maxResponseBytes?: number): Promise<number> => {
        const res = await c.request<import('node:stream').Readable>({ path: '/stream', responseType: 'stream', maxResponseBytes });
        let n = 0;
        for await (const chunk of res.body) n += (chunk as Buffer).length;
        return n;
      };
      assert.equal(await read(), big.length);
      await assert.rejects(read(1024));
    });

    it('times out with OE_TIMEOUT', async () => {
      server.respond(() => undefined);
      await assert.rejects(connect().request({ path: '/slow', timeoutMs: 100 }), (e: OctoEverywhereError) => e.code === 'OE_TIMEOUT' && e.kind === 'temporary');
    });

    it('reports an unreachable host without naming it or any credential', async () => {
      const c = connect({ url: `http://${HOST}:1` });
      await assert.rejects(c.request({ path: '/api/job' }), (e: OctoEverywhereError) => {
        assert.equal(e.code, 'OE_UNREACHABLE');
        const text = `${e.message}${e.stack}${String(e)}${JSON.stringify(e)}`;
        assert.deepEqual(secretsIn(text), []);
        assert.ok(!text.includes(HOST));
        return true;
      });
    });

    it('keeps sockets alive between requests and releases them on close', async () => {
      const c = connect();
      await Promise.all(Array.from({ length: 8 }, () => c.request({ path: '/a' })));
      await Promise.all(Array.from({ length: 8 }, () => c.request({ path: '/b' })));
      assert.ok(c.socketCount() > 0 && c.socketCount() <= 8, `pooled ${c.socketCount()}`);
      await c.close();
      assert.equal(c.socketCount(), 0);
      await assert.rejects(c.request({ path: '/a' }), (e: OctoEverywhereError) => e.code === 'OE_CLOSED');
    });
  });

  describe('LAN URL first', () => {
    it('uses the LAN URL while it answers, without the OctoEverywhere credentials', async () => {
      const lan = await startRecorder((_req, res) => json(res, 200, { from: 'lan' }));
      try {
        const c = connect({ localUrl: `http://127.0.0.1:${lan.port}`, octoPrintApiKey: SECRETS.octoPrintApiKey });
        const res = await c.request({ path: '/api/job' });
        assert.equal(res.via, 'local');
        assert.deepEqual(res.body, { from: 'lan' });
        assert.equal(lan.requests[0].headers.authorization, undefined);
        assert.equal(lan.requests[0].headers['x-api-key'], SECRETS.octoPrintApiKey);
        assert.equal(server.requests.length, 0);
      } finally {
        await lan.close();
      }
    });

    it('falls back to the App Connection when the LAN URL does not answer', async () => {
      const c = connect({ localUrl: 'http://127.0.0.1:1' });
      const res = await c.request({ path: '/api/job' });
      assert.equal(res.via, 'relay');
      assert.equal(server.requests.length, 1);
    });
  });

  it('OctoEverywhereClient bundles the App and command APIs on one connection', () => {
    const client = new OctoEverywhereClient({ url: 'https://app-x.octoeverywhere.com', authBearerToken: 'x' });
    assert.equal(client.connection.hasAppApi, false);
    assert.ok(client.app && client.commands);
    void client.close();
    assert.ok(client.connection.closed);
  });

  it('shows no secret when the connection object is logged or serialised', () => {
    const c = connect({ appApiToken: SECRETS.appApiToken, octoPrintApiKey: SECRETS.octoPrintApiKey });
    assert.deepEqual(secretsIn(inspect(c, { depth: 5 }) + JSON.stringify(c)), []);
  });
});
