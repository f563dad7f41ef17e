import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helper } from '../helpers/nodes';
import { secretsIn } from '../helpers/secrets';
import { appConnectionCredentials, sharedConnectionCredentials } from '../helpers/simulator';
import { startSimulator, type Simulator } from '../../src/simulator';
import { assertNothingLostOrLeaked, type ErrorCase, type Harness, loadFlow, type Outcome, serviceErrorCases } from './printer-request-harness';

const TYPE = 'octoeverywhere-printer-request';
const MiB = 1024 * 1024;
const CMD = '/octoeverywhere-command-api';

describe('node: octoeverywhere-printer-request', function () {
  let sim: Simulator;
  let tmp: string;
  const harnesses: Harness[] = [];

  before(async () => {
    sim = await startSimulator();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oe-req-'));
  });
  after(async () => {
    await sim.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(async () => {
    assertNothingLostOrLeaked(harnesses);
    await helper.unload();
    sim.printers[0].online = true;
    sim.printers[0].pluginTimeout = false;
    sim.setSupporter(true);
    Object.assign(sim.chaos, { errorRate: 0, errorStatus: 0 });
    Object.assign(sim.limits, { MaxDownloadFileSizeBytes: 100 * MiB, MaxUploadFileSizeBytes: 100 * MiB });
  });

  const load = async (node: Record<string, unknown> = {}, credentials = appConnectionCredentials(sim)): Promise<Harness> => {
    const h = await loadFlow({ type: TYPE, sim, credentials, node: { method: 'GET', path: '', ret: 'obj', ...node } });
    harnesses.push(h);
    return h;
  };
  const errorOf = (o: Outcome): { code?: string; message: string } => {
    assert.ok(o.error, `expected an error, got status ${String(o.msg.statusCode)}`);
    assert.deepEqual(secretsIn(JSON.stringify(o.error)), [], 'no secret in the error');
    return o.error;
  };

  describe('happy paths', () => {
    it('GETs a printer API as parsed JSON through the relay, with status, headers and a credential-free URL', async () => {
      const h = await load({ path: '/printer/info' });
      const { msg, error } = await h.send({ payload: 'ignored for GET' });
      assert.equal(error, undefined);
      assert.equal(msg.statusCode, 200);
      assert.equal(typeof (msg.payload as { result?: unknown }).result, 'object');
      assert.match(String((msg.headers as Record<string, string>)['content-type']), /json/);
      assert.equal(msg.via, 'relay');
      assert.match(String(msg.responseUrl), /^http:\/\/app-[a-z0-9]+\.localhost:\d+\/printer\/info$/);
      assert.deepEqual(secretsIn(String(msg.responseUrl)), []);
      assert.deepEqual(
        h.statuses.map((s) => s.text ?? ''),
        ['status.sending', ''],
      );
      assert.equal(h.statuses[0].fill, 'blue');
    });

    it('keeps its status honest but cheap under load: busy once, the count throttled, cleared when idle', async () => {
      const h = await load({ path: '/printer/info' });
      const outcomes = await Promise.all(Array.from({ length: 40 }, () => h.send({})));
      assert.ok(outcomes.every((o) => o.error === undefined && o.msg.statusCode === 200));
      assert.equal(h.statuses[0].text, 'status.sending');
      assert.ok(h.statuses.length <= 10, `${h.statuses.length} status updates for 40 messages`);
      assert.deepEqual(h.statuses.at(-1), {}, 'cleared as soon as nothing is in flight');
    });

    it('takes method and path from the message, sends objects as JSON and returns text or a Buffer', async () => {
      const h = await load({ method: 'use', ret: 'txt' });
      const listed = await h.send({ method: 'post', path: `${CMD}/files/list`, payload: { Root: 'gcode' } });
      assert.equal(listed.msg.statusCode, 200);
      assert.equal(typeof listed.msg.payload, 'string');
      assert.equal(JSON.parse(String(listed.msg.payload)).Status, 200, 'the JSON body reached the command API as its arguments');
      const head = await h.send({ method: 'HEAD', path: '/printer/info' });
      assert.equal(head.msg.payload, '');
    });

    it('uploads a Buffer and a file (streamed) and downloads them back as Buffers', async () => {
      const bytes = Buffer.alloc(3 * MiB, 7);
      const file = path.join(tmp, 'cube.gcode');
      fs.writeFileSync(file, Buffer.alloc(2 * MiB + 5, 9));
      const up = await load({ method: 'PUT' });
      const fromBuffer = await up.send({ path: `${CMD}/files/upload?path=gcode/buf.gcode`, payload: bytes });
      assert.equal((fromBuffer.msg.payload as { Result: { SizeBytes: number } }).Result.SizeBytes, bytes.length);
      const fromFile = await up.send({ path: `${CMD}/files/upload?path=gcode/file.gcode`, filename: file, payload: 'ignored' });
      assert.equal((fromFile.msg.payload as { Result: { SizeBytes: number } }).Result.SizeBytes, 2 * MiB + 5);
      await helper.unload();
      const down = await load({ ret: 'bin' });
      const a = await down.send({ path: `${CMD}/files/download?path=gcode/buf.gcode` });
      assert.ok(Buffer.isBuffer(a.msg.payload) && bytes.equals(a.msg.payload));
      const b = await down.send({ path: `${CMD}/files/download?path=gcode/file.gcode` });
      assert.ok(Buffer.isBuffer(b.msg.payload) && fs.readFileSync(file).equals(b.msg.payload));
    });

    it('sends printer errors (4xx/5xx) on the output like the core node, not as errors', async () => {
      const h = await load({ path: '/no/such/endpoint' });
      const { msg, error } = await h.send({});
      assert.equal(error, undefined);
      assert.equal(msg.statusCode, 404);
      assert.ok(h.statuses.every((s) => s.fill !== 'red'));
    });

    it('works over a Shared Connection (no App API) as well', async () => {
      const h = await load({ path: '/printer/info' }, sharedConnectionCredentials(sim));
      const { msg } = await h.send({});
      assert.equal(msg.statusCode, 200);
    });
  });

  describe('OctoEverywhere errors: done(err) with the code, red status, no message lost', () => {
    const cases: ErrorCase[] = [
      ...serviceErrorCases(
        () => sim,
        (credentials) => load({}, credentials),
      ),
      ['606 wrong credentials', async () => load({}, { ...appConnectionCredentials(sim), authBearerToken: 'not-the-token-at-all' }), 'OE_606'],
    ];
    for (const [what, setup, code] of cases) {
      it(what, async () => {
        const h = await setup();
        const e = errorOf(await h.send({ path: '/printer/info' }));
        assert.equal(e.code, code);
        assert.match(e.message, /\((60\d), (temporary|permanent)\)\. \S/, 'says the kind and what to do');
        assert.deepEqual(h.statuses.at(-1), { fill: 'red', shape: 'ring', text: code });
      });
    }

    it('times out with OE_TIMEOUT when the printer does not answer (msg.timeout in ms)', async () => {
      sim.printers[0].pluginTimeout = true;
      const h = await load({ path: '/printer/info' });
      assert.equal(errorOf(await h.send({ timeout: 300 })).code, 'OE_TIMEOUT');
    });
  });

  describe('account transfer limits', () => {
    it('refuses an upload over the limit with OE_608 before sending it (Buffer and file)', async () => {
      sim.limits.MaxUploadFileSizeBytes = 1.5 * MiB;
      const file = path.join(tmp, 'big.gcode');
      fs.writeFileSync(file, Buffer.alloc(2 * MiB));
      const h = await load({ method: 'PUT' });
      for (const msg of [{ payload: Buffer.alloc(2 * MiB) }, { filename: file }]) {
        const e = errorOf(await h.send({ path: `${CMD}/files/upload?path=gcode/refused.gcode`, ...msg }));
        assert.equal(e.code, 'OE_608');
        assert.match(e.message, /the account allows 1\.5 MiB/, "the node's own pre-check, not the relay");
      }
      await helper.unload();
      const check = await load({ path: `${CMD}/files/download?path=gcode/refused.gcode` });
      assert.equal((await check.send({})).msg.statusCode, 404, 'nothing reached the printer');
    });

    it('a Shared Connection has no Info API: the relay answers 608 itself', async () => {
      sim.limits.MaxUploadFileSizeBytes = 1.5 * MiB;
      const h = await load({ method: 'PUT' }, sharedConnectionCredentials(sim));
      const e = errorOf(await h.send({ path: `${CMD}/files/upload?path=gcode/x.gcode`, payload: Buffer.alloc(2 * MiB) }));
      assert.equal(e.code, 'OE_608');
      assert.doesNotMatch(e.message, /\(the account allows/, 'no pre-check without the Info API');
    });

    it('refuses a download whose Content-Length is over the limit with OE_607, from the cached limits or the relay', async () => {
      const up = await load({ method: 'PUT' });
      await up.send({ path: `${CMD}/files/upload?path=gcode/dl.gcode`, payload: Buffer.alloc(2 * MiB) });
      await helper.unload();
      // The node learns a smaller limit (its upload pre-check reads the Info API) ...
      sim.limits.MaxDownloadFileSizeBytes = 1.5 * MiB;
      const h = await load({ method: 'use', ret: 'bin' });
      await h.send({ method: 'PUT', path: `${CMD}/files/upload?path=gcode/other.gcode`, payload: Buffer.alloc(1.2 * MiB) });
      // ... and refuses by itself, even where the relay would let it pass.
      sim.limits.MaxDownloadFileSizeBytes = 100 * MiB;
      const own = errorOf(await h.send({ method: 'GET', path: `${CMD}/files/download?path=gcode/dl.gcode` }));
      assert.equal(own.code, 'OE_607');
      assert.match(own.message, /download of 2\.0 MiB .*the account allows 1\.5 MiB/);
      sim.limits.MaxDownloadFileSizeBytes = 1.5 * MiB;
      await helper.unload();
      const shared = await load({ ret: 'bin' }, sharedConnectionCredentials(sim));
      assert.equal(errorOf(await shared.send({ path: `${CMD}/files/download?path=gcode/dl.gcode` })).code, 'OE_607');
    });
  });

  describe('hostile and wrong input: a specific code, never a crash, never a lost message', () => {
    it('refuses each with its code and keeps working afterwards', async () => {
      const h = await load({ method: 'use' });
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ method: 'GET', path: 'http://evil.example/api/job' }, 'OE_INVALID_PATH'],
        [{ method: 'GET', path: '//evil.example/api/job' }, 'OE_INVALID_PATH'],
        [{ method: 'GET', path: '/api/../../etc/passwd' }, 'OE_INVALID_PATH'],
        [{ method: 'GET', path: '/api/%2e%2e/x' }, 'OE_INVALID_PATH'],
        [{ method: 'GET', path: '/api/job\r\nX-Injected: 1' }, 'OE_INVALID_PATH'],
        [{ method: 'GET', path: 42 }, 'OE_INVALID_PATH'],
        [{ method: 'GET' }, 'OE_INVALID_PATH'],
        [{ method: 'GET', path: '/printer/info', headers: { 'X-A': 'a\r\nX-B: b' } }, 'OE_INVALID_HEADER'],
        [{ method: 'GET', path: '/printer/info', headers: { 'Bad Name': 'x' } }, 'OE_INVALID_HEADER'],
        [{ method: 'GET', path: '/printer/info', headers: 'X-A: 1' }, 'OE_INVALID_HEADER'],
        [{ method: 'GET', path: '/printer/info', headers: { 'X-A': { nested: true } } }, 'OE_INVALID_HEADER'],
        [{ method: 'TRACE', path: '/printer/info' }, 'OE_INVALID_METHOD'],
        [{ method: 7, path: '/printer/info' }, 'OE_INVALID_METHOD'],
        [{ path: '/printer/info' }, 'OE_INVALID_METHOD'],
        [{ method: 'GET', path: '/printer/info', timeout: 'soon' }, 'OE_INVALID_TIMEOUT'],
        [{ method: 'GET', path: '/printer/info', timeout: -5 }, 'OE_INVALID_TIMEOUT'],
        [{ method: 'GET', path: '/printer/info', timeout: 1e12 }, 'OE_INVALID_TIMEOUT'],
        [{ method: 'POST', path: '/printer/info', payload: () => 1 }, 'OE_INVALID_PAYLOAD'],
        [{ method: 'POST', path: '/printer/info', payload: circular }, 'OE_INVALID_PAYLOAD'],
        [{ method: 'POST', path: '/printer/info', payload: 10n }, 'OE_INVALID_PAYLOAD'],
        [{ method: 'POST', path: '/printer/info', filename: 42 }, 'OE_INVALID_FILENAME'],
        [{ method: 'GET', path: '/printer/info', filename: '/etc/hostname' }, 'OE_INVALID_FILENAME'],
        [{ method: 'POST', path: '/printer/info', filename: tmp }, 'OE_INVALID_FILENAME'],
        [{ method: 'POST', path: '/printer/info', filename: path.join(tmp, 'missing.gcode') }, 'OE_FILE_NOT_FOUND'],
      ];
      const outcomes = await Promise.all(cases.map(([msg]) => h.send(msg)));
      outcomes.forEach((o, i) => assert.equal(errorOf(o).code, cases[i][1], `case ${i}`));
      assert.equal((await h.send({ method: 'GET', path: '/printer/info' })).msg.statusCode, 200, 'still working');
    });

    it("never lets msg.headers replace the connection's Authorization or Host", async () => {
      const h = await load({ path: '/printer/info' });
      const { msg } = await h.send({ headers: { Authorization: 'Bearer stolen', Host: 'evil.example' } });
      assert.equal(msg.statusCode, 200, 'the relay still saw the real credentials');
    });

    it('without a configured connection, every message fails with OE_NO_CONNECTION', async () => {
      const h = await loadFlow({ type: TYPE, sim, node: { method: 'GET', path: '/printer/info' } });
      harnesses.push(h);
      assert.equal(errorOf(await h.send({})).code, 'OE_NO_CONNECTION');
      assert.equal(errorOf(await h.send({})).code, 'OE_NO_CONNECTION');
    });

    it("a method it cannot use is a configuration error like every node's: red ring at deploy, each message fails with OE_INVALID_METHOD", async () => {
      const h = await load({ method: 'FETCH', path: '/printer/info' });
      assert.deepEqual(h.statuses[0], { fill: 'red', shape: 'ring', text: 'OE_INVALID_METHOD' }, 'shown at deploy, not thrown from the constructor');
      assert.equal(errorOf(await h.send({})).code, 'OE_INVALID_METHOD');
      assert.equal(errorOf(await h.send({})).code, 'OE_INVALID_METHOD');
    });

    it('an error it did not make ends as OE_INTERNAL without its text, and keeps its stack in node.trace', async () => {
      const h = await load({ path: '/printer/info' });
      const traces: unknown[] = [];
      (h.node as unknown as { on(e: string, fn: (call: { args: unknown[] }) => void): void }).on('call:trace', (call) => traces.push(call.args[0]));
      // Throws when the node reads it, and not again (Node-RED clones the message for Catch nodes).
      let reads = 0;
      const headers = Object.defineProperty({}, 'X-Boom', {
        enumerable: true,
        get() {
          reads += 1;
          if (reads === 1) throw new TypeError('private detail sentinel');
          return 'x';
        },
      });
      const error = errorOf(await h.send({ headers }));
      assert.equal(error.code, 'OE_INTERNAL');
      assert.doesNotMatch(error.message, /private detail sentinel/, 'the message keeps no text of the error');
      assert.equal(traces.length, 1);
      assert.match(String(traces[0]), /TypeError: private detail sentinel\n\s+at /, 'the stack is in the trace log');
    });

    it('reports an unusable connection (no credentials) with its code', async () => {
      const h = await load({ path: '/printer/info' }, { url: appConnectionCredentials(sim).url });
      assert.equal(errorOf(await h.send({})).code, 'OE_MISSING_CREDENTIALS');
    });
  });
});
