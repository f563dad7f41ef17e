import assert from 'node:assert/strict';
import http from 'node:http';
import { createClock, type ManagedClock, type Simulator, startSimulator, type CompletionKeys } from '../../../src/simulator/index';
import { basic, bearer, request, tick } from './helpers';
import { type EchoedRequest, StandInPrinter, standInFactory } from './stand-in-printer';

describe('simulator service: relay', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  let printer: StandInPrinter;
  let conn: CompletionKeys;
  let auth: string;

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({
      clock,
      startPrinter: standInFactory,
      printers: [{ kind: 'moonraker', name: 'Voron 2.4' }],
      limits: { MaxDownloadFileSizeBytes: 1000, MaxUploadFileSizeBytes: 1000, MaxSingleWebcamStreamLengthSeconds: 120 },
      webcamViewLimit: { maxViews: 3, windowSec: 60 },
    });
    printer = sim.printers[0] as StandInPrinter;
    conn = sim.createAppConnection(0);
    auth = bearer(conn.authBearerToken);
  });
  afterEach(async () => {
    await sim.close();
    clock.dispose();
  });

  it('gives each App Connection its own app-<32 lowercase alphanumerics> host', () => {
    assert.match(conn.url, /^http:\/\/app-[a-z0-9]{32}\.localhost:\d+$/);
    assert.notEqual(sim.createAppConnection(0).url, conn.url);
  });

  it('accepts Basic and Bearer credentials and refuses missing or wrong ones with 606', async () => {
    assert.equal((await request(`${conn.url}/api`, { headers: { authorization: auth } })).status, 200);
    const viaBasic = await request(`${conn.url}/api`, { headers: { authorization: basic(conn.authbasichttpuser, conn.authbasichttppassword) } });
    assert.equal(viaBasic.status, 200);
    assert.equal((await request(`${conn.url}/api`, { headers: { authorization: `bearer  ${conn.authBearerToken}` } })).status, 200);
    assert.equal((await request(`${conn.url}/api`)).status, 606);
    assert.equal((await request(`${conn.url}/api`, { headers: { authorization: bearer('nope') } })).status, 606);
    assert.equal((await request(`${conn.url}/api`, { headers: { authorization: basic(conn.authbasichttpuser, 'wrong') } })).status, 606);
    // Another connection's credentials do not open this one.
    const other = sim.createAppConnection(0);
    assert.equal((await request(`${conn.url}/api`, { headers: { authorization: bearer(other.authBearerToken) } })).status, 606);
  });

  it('answers 603 for an unknown or removed connection and 604 for a revoked one', async () => {
    assert.equal((await request(`http://app-${'x'.repeat(32)}.localhost:${sim.port}/`, { headers: { authorization: auth } })).status, 603);
    const revoked = sim.createAppConnection(0);
    sim.revoke(revoked.id);
    assert.equal((await request(`${revoked.url}/`, { headers: { authorization: bearer(revoked.authBearerToken) } })).status, 604);
    sim.remove(conn.id);
    assert.equal((await request(`${conn.url}/`, { headers: { authorization: auth } })).status, 603);
  });

  it('answers 605 without Supporter Perks and works again when they return', async () => {
    sim.setSupporter(false);
    assert.equal((await request(`${conn.url}/`, { headers: { authorization: auth } })).status, 605);
    sim.setSupporter(true);
    assert.equal((await request(`${conn.url}/`, { headers: { authorization: auth } })).status, 200);
  });

  it('answers 601 while the printer is offline', async () => {
    printer.online = false;
    assert.equal((await request(`${conn.url}/`, { headers: { authorization: auth } })).status, 601);
  });

  it('answers 602 after the plugin timeout on the simulated clock', async () => {
    printer.pluginTimeout = true;
    let settled = false;
    const pending = request(`${conn.url}/`, { headers: { authorization: auth } }).finally(() => (settled = true));
    // Advance in steps until the request has reached the relay and its timer fires.
    for (let i = 0; i < 200 && !settled; i++) {
      await clock.advance(1_000);
      await tick();
    }
    assert.equal((await pending).status, 602);
    assert.ok(clock.now() >= 30_000, 'not before the plugin timeout');
  });

  it('rewrites the request headers as the plugin does', async () => {
    const reply = await request(`${conn.url}/echo?a=1`, {
      method: 'POST',
      body: 'hello',
      headers: {
        authorization: auth,
        'accept-encoding': 'gzip',
        'x-forwarded-for': '1.2.3.4',
        'x-real-ip': '1.2.3.4',
        referer: `${conn.url}/page?q=1`,
        origin: conn.url,
        'x-api-key': 'printer-key',
        'content-type': 'text/plain',
      },
    });
    const echo = reply.json<EchoedRequest>();
    const printerHost = new URL(printer.url).host;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.url, '/echo?a=1');
    assert.equal(echo.bodyBytes, 5);
    assert.equal(echo.headers.host, printerHost);
    assert.equal(echo.headers.referer, `${printer.url}/page?q=1`);
    assert.equal(echo.headers.origin, printer.url);
    assert.equal(echo.headers['x-forwarded-host'], new URL(conn.url).host);
    assert.equal(echo.headers['x-forwarded-proto'], 'https');
    assert.equal(echo.headers['x-api-key'], 'printer-key');
    assert.equal(echo.headers['content-type'], 'text/plain');
    for (const dropped of ['accept-encoding', 'x-forwarded-for', 'x-real-ip', 'authorization']) {
      assert.equal(echo.headers[dropped], undefined, dropped);
    }
    assert.equal(reply.headers['x-printer'], 'stand-in');
  });

  it("rewrites a redirect's Location to the public host", async () => {
    const reply = await request(`${conn.url}/redirect`, { headers: { authorization: auth } });
    assert.equal(reply.status, 302);
    assert.equal(reply.headers.location, `${conn.url}/landed?x=1`);
  });

  it('answers 607 for downloads over the limit, by Content-Length or by streamed bytes', async () => {
    assert.equal((await request(`${conn.url}/bytes?size=1000`, { headers: { authorization: auth } })).body.length, 1000);
    assert.equal((await request(`${conn.url}/bytes?size=1001`, { headers: { authorization: auth } })).status, 607);
    // Chunked: the status line is already out, so the relay cuts the body off.
    await assert.rejects(request(`${conn.url}/bytes?size=5000&chunked=1`, { headers: { authorization: auth } }));
  });

  it('answers 608 for uploads over the limit, by Content-Length or by streamed bytes', async () => {
    const ok = await request(`${conn.url}/upload`, { method: 'PUT', body: Buffer.alloc(1000), headers: { authorization: auth } });
    assert.equal(ok.json<EchoedRequest>().bodyBytes, 1000);
    const big = await request(`${conn.url}/upload`, { method: 'PUT', body: Buffer.alloc(1001), headers: { authorization: auth } });
    assert.equal(big.status, 608);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: sim.port, path: '/upload', method: 'PUT', agent: false, headers: { host: new URL(conn.url).host, authorization: auth } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(600));
      req.end(Buffer.alloc(600));
    });
    assert.equal(chunked, 608);
  });

  it('streams an upload to the printer without buffering it first', async () => {
    const seen = await new Promise<EchoedRequest>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: sim.port, path: '/upload', method: 'PUT', agent: false, headers: { host: new URL(conn.url).host, authorization: auth } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as EchoedRequest));
        },
      );
      req.on('error', reject);
      req.write('abc');
      setImmediate(() => req.end('def'));
    });
    assert.equal(seen.bodyBytes, 6);
    assert.equal(seen.headers['transfer-encoding'], 'chunked', 'the printer gets a stream, not a buffered body');
  });

  it('answers 609 when the webcam is viewed too many times back to back, and again after the window', async () => {
    const snap = (): Promise<number> => request(`${conn.url}/webcam/?action=snapshot`, { headers: { authorization: auth } }).then((r) => r.status);
    assert.deepEqual([await snap(), await snap(), await snap(), await snap()], [200, 200, 200, 609]);
    // Other paths are not webcam views.
    assert.equal((await request(`${conn.url}/api/printer`, { headers: { authorization: auth } })).status, 200);
    await clock.advance(61_000);
    assert.equal(await snap(), 200);
  });

  it('relays an MJPEG stream as it flows and ends it at the single-stream limit', async () => {
    const chunks: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port: sim.port, path: '/webcam/?action=stream', agent: false, headers: { host: new URL(conn.url).host, authorization: auth } },
        (res) => {
          assert.match(res.headers['content-type'] ?? '', /^multipart\/x-mixed-replace/);
          res.on('data', (c: Buffer) => chunks.push(c.toString()));
          res.on('end', resolve);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
    });
    while (chunks.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.match(chunks[0], /--boundarydonotcross/);
    await clock.advance(119_000);
    await tick();
    let done = false;
    void ended.then(() => (done = true));
    await tick();
    assert.equal(done, false, 'still streaming before the limit');
    await clock.advance(1_000);
    await ended;
  });

  it('accepts oe_api_key only on the MQTT proxy path', async () => {
    const key = encodeURIComponent(conn.authBearerToken);
    assert.equal((await request(`${conn.url}/api/printer?oe_api_key=${key}`)).status, 606);
    const mqtt = await request(`${conn.url}/octoeverywhere-command-api/proxy/mqtt?oe_api_key=${key}`);
    assert.equal(mqtt.status, 200);
    assert.deepEqual(mqtt.json(), { Status: 400, Error: 'MQTT proxy requires a websocket connection.' }, 'plain HTTP gets the proxy envelope');
    const basicKey = Buffer.from(`${conn.authbasichttpuser}:${conn.authbasichttppassword}`).toString('base64');
    assert.equal((await request(`${conn.url}/octoeverywhere-command-api/proxy/mqtt?oe_api_key=${encodeURIComponent(basicKey)}`)).status, 200);
    assert.equal((await request(`${conn.url}/octoeverywhere-command-api/proxy/mqtt?oe_api_key=wrong`)).status, 606);
  });

  it('serves a Shared Connection on its own shared- host with the same header auth', async () => {
    const shared = sim.sharedConnection(0);
    assert.match(shared.url, /^http:\/\/shared-[a-z0-9]+\.localhost:\d+$/);
    assert.deepEqual(sim.sharedConnection(printer), shared, 'one per printer');
    assert.equal((await request(`${shared.url}/echo`, { headers: { authorization: bearer(shared.authBearerToken) } })).status, 200);
    assert.equal(
      (await request(`${shared.url}/echo`, { headers: { authorization: basic(shared.authBasicHttpUser, shared.authBasicHttpPassword) } })).status,
      200,
    );
    assert.equal((await request(`${shared.url}/echo`)).status, 606);
  });

  it('chaos: answers a share of requests with errorStatus and drops others', async () => {
    sim.chaos.errorRate = 1;
    sim.chaos.errorStatus = 600;
    assert.equal((await request(`${conn.url}/echo`, { headers: { authorization: auth } })).status, 600);
    sim.chaos.errorRate = 0;
    sim.chaos.dropRate = 1;
    await assert.rejects(request(`${conn.url}/echo`, { headers: { authorization: auth } }), /socket hang up|ECONNRESET/);
    sim.chaos.dropRate = 0;
    sim.chaos.latencyMs = 30;
    const started = Date.now();
    assert.equal((await request(`${conn.url}/echo`, { headers: { authorization: auth } })).status, 200);
    assert.ok(Date.now() - started >= 25, 'latency added');
  });
});
