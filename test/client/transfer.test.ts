import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppConnection, type OctoEverywhereError, type PrinterLimits, transfer } from '../../src/client';
import { AccountLimits } from '../../src/client/limits';
import { json, startRecorder, type Recorder } from '../helpers/recorder';
import { SECRETS } from '../helpers/secrets';

const MiB = 1024 * 1024;
const HOST = 'app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.localhost';

describe('client: AccountLimits', () => {
  it('fetches once for concurrent callers, keeps the answer for the TTL, and retries a failure later', async () => {
    let now = 0;
    let calls = 0;
    let fail = false;
    const limits = new AccountLimits(
      async () => {
        calls += 1;
        if (fail) throw new Error('info failed');
        return { maxUploadFileSizeBytes: calls };
      },
      { ttlMs: 1000, retryMs: 100, now: () => now },
    );
    const [a, b] = await Promise.all([limits.get(), limits.get()]);
    assert.deepEqual([a, b, calls], [{ maxUploadFileSizeBytes: 1 }, { maxUploadFileSizeBytes: 1 }, 1]);
    now = 999;
    assert.deepEqual(await limits.get(), { maxUploadFileSizeBytes: 1 });
    now = 1000;
    fail = true;
    assert.equal(await limits.get(), undefined, 'a failed Info call leaves the limits unknown');
    assert.equal(limits.peek(), undefined);
    fail = false;
    now = 1050;
    assert.equal(await limits.get(), undefined, 'not retried before retryMs');
    now = 1100;
    assert.deepEqual(await limits.get(), { maxUploadFileSizeBytes: 3 });
  });

  it('knows no limits for a Shared Connection (no Info API)', async () => {
    assert.equal(await new AccountLimits(undefined).get(), undefined);
  });
});

describe('client: transfer', () => {
  let server: Recorder;
  let conn: AppConnection;
  let tmp: string;
  const known = (l: PrinterLimits): AccountLimits => new AccountLimits(async () => l);

  beforeEach(async () => {
    server = await startRecorder((_req, res) => json(res, 200, { ok: true }));
    conn = new AppConnection({ url: `http://${HOST}:${server.port}`, authBearerToken: SECRETS.authBearerToken });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oe-transfer-'));
  });
  afterEach(async () => {
    await conn.close();
    await server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('streams a file with its Content-Length (not chunked) and reads the answer into a Buffer', async () => {
    const file = path.join(tmp, 'part.gcode');
    fs.writeFileSync(file, Buffer.alloc(1234, 3));
    const res = await transfer(conn, { method: 'PUT', path: '/upload', file }, known({}));
    assert.ok(Buffer.isBuffer(res.body));
    assert.deepEqual(JSON.parse(res.body.toString()), { ok: true });
    const rec = server.requests[0];
    assert.equal(rec.headers['content-length'], '1234');
    assert.equal(rec.headers['transfer-encoding'], undefined);
    assert.equal(rec.headers['content-type'], 'application/octet-stream');
    assert.equal(rec.body.length, 1234);
  });

  it('refuses an upload over the limit with OE_608 without sending anything', async () => {
    await assert.rejects(
      transfer(conn, { method: 'POST', path: '/upload', body: Buffer.alloc(2 * MiB) }, known({ maxUploadFileSizeBytes: MiB })),
      (e: OctoEverywhereError) => e.code === 'OE_608' && /the account allows 1\.0 MiB/.test(e.message),
    );
    assert.equal(server.requests.length, 0);
  });

  it("does not hold a request that may go to the LAN URL to the relay's limits", async () => {
    const lan = new AppConnection({ url: 'http://app-x.localhost:1', localUrl: `http://127.0.0.1:${server.port}`, authBearerToken: SECRETS.authBearerToken });
    try {
      const res = await transfer(lan, { method: 'POST', path: '/upload', body: Buffer.alloc(2 * MiB) }, known({ maxUploadFileSizeBytes: MiB }));
      assert.equal(res.via, 'local');
    } finally {
      await lan.close();
    }
  });

  it('refuses an answer whose Content-Length is over the download limit with OE_607, and cuts off an unannounced one', async () => {
    server.respond((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': 2 * MiB });
      res.end(Buffer.alloc(2 * MiB));
    });
    const limits = known({ maxDownloadFileSizeBytes: 1.5 * MiB });
    await assert.rejects(transfer(conn, { path: '/big' }, limits), (e: OctoEverywhereError) => e.code === 'OE_607' && /download of 2\.0 MiB/.test(e.message));
    server.respond((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(Buffer.alloc(2 * MiB));
    });
    await assert.rejects(transfer(conn, { path: '/chunked' }, limits), (e: OctoEverywhereError) => e.code === 'OE_607');
    // A destroyed socket leaves the pool on its 'close' event, a few turns of the loop later.
    for (let i = 0; i < 100 && conn.socketCount() > 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(conn.socketCount(), 0, "the refused answers' sockets are dropped, not left busy in the pool");
  });

  it('refuses an unreadable upload file with a specific code before connecting', async () => {
    await assert.rejects(
      transfer(conn, { method: 'PUT', path: '/u', file: path.join(tmp, 'nope') }, known({})),
      (e: OctoEverywhereError) => e.code === 'OE_FILE_NOT_FOUND',
    );
    await assert.rejects(transfer(conn, { method: 'PUT', path: '/u', file: tmp }, known({})), (e: OctoEverywhereError) => e.code === 'OE_INVALID_FILENAME');
    await assert.rejects(transfer(conn, { method: 'PUT', path: '//evil/u', file: tmp }, known({})), (e: OctoEverywhereError) => e.code === 'OE_INVALID_PATH');
    assert.equal(server.requests.length, 0);
  });
});
