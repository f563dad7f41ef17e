// Issue 10, item 5: file paths for upload are validated, and sizes are bounded before anything is read
// into memory: a huge file to a small-limit account fails with OE_608 without the file being opened,
// and a download over the limit fails with OE_607 without being read.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helper } from '../helpers/nodes';
import { appConnectionCredentials } from '../helpers/simulator';
import { startSimulator, type Simulator } from '../../src/simulator';
import { assertNothingLostOrLeaked, type Harness, loadFlow } from '../nodes/printer-request-harness';
import { figure } from '../reliability/rig';

const TYPE = 'octoeverywhere-printer-request';
const MiB = 1024 * 1024;
const UPLOAD = '/octoeverywhere-command-api/files/upload?path=gcode/huge.gcode';

describe('security: file uploads and downloads are validated and bounded', function () {
  this.timeout(30_000);
  let sim: Simulator;
  let tmp: string;
  const harnesses: Harness[] = [];
  let opened: string[] = [];
  const realCreateReadStream = fs.createReadStream;

  before(async () => {
    sim = await startSimulator({ printers: [{ kind: 'moonraker', name: 'Voron' }] });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oe-files-'));
    // Counts every file the code under test opens for reading.
    (fs as { createReadStream: typeof fs.createReadStream }).createReadStream = ((file: fs.PathLike, options?: unknown) => {
      opened.push(String(file));
      return realCreateReadStream(file, options as Parameters<typeof fs.createReadStream>[1]);
    }) as typeof fs.createReadStream;
  });
  after(async () => {
    (fs as { createReadStream: typeof fs.createReadStream }).createReadStream = realCreateReadStream;
    fs.rmSync(tmp, { recursive: true, force: true });
    await sim.close();
  });
  beforeEach(() => {
    opened = [];
  });
  afterEach(async () => {
    assertNothingLostOrLeaked(harnesses);
    await helper.unload();
    loaded = false;
    Object.assign(sim.limits, { MaxUploadFileSizeBytes: 100 * MiB, MaxDownloadFileSizeBytes: 100 * MiB });
  });

  let loaded = false;
  const load = async (node: Record<string, unknown>): Promise<Harness> => {
    // One flow at a time: the helper cannot hold two.
    if (loaded) {
      assertNothingLostOrLeaked(harnesses);
      await helper.unload();
    }
    loaded = true;
    const h = await loadFlow({ type: TYPE, sim, credentials: appConnectionCredentials(sim), node: { ret: 'bin', ...node } });
    harnesses.push(h);
    return h;
  };

  it('a 4 GiB (sparse) file to an account allowing 2 MiB: OE_608, the file is never opened, no bytes move', async () => {
    sim.limits.MaxUploadFileSizeBytes = 2 * MiB;
    const huge = path.join(tmp, 'huge.gcode');
    fs.closeSync(fs.openSync(huge, 'w'));
    fs.truncateSync(huge, 4 * 1024 * MiB);
    const heapBefore = process.memoryUsage().heapUsed;
    const h = await load({ method: 'PUT', path: UPLOAD });
    const { error } = await h.send({ filename: huge });
    assert.equal(error?.code, 'OE_608');
    assert.deepEqual(opened, [], 'fs.createReadStream was not called');
    assert.ok(!String(error?.message).includes(tmp), 'the error does not repeat the local directory');
    const grew = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grew < 64 * MiB, `heap grew by ${grew} bytes`);
    figure('security/upload-limit', { fileBytes: 4 * 1024 * MiB, limitBytes: 2 * MiB, code: error?.code, filesOpened: opened.length, heapGrowthMiB: (grew / MiB).toFixed(1) });
  });

  it('bad file paths are refused before anything is opened or sent', async () => {
    const h = await load({ method: 'PUT', path: UPLOAD });
    const dir = path.join(tmp, 'a-directory');
    fs.mkdirSync(dir);
    const cases: Array<[unknown, RegExp]> = [
      [42, /^OE_INVALID_FILENAME$/],
      [{ path: '/etc/passwd' }, /^OE_INVALID_FILENAME$/],
      [['a'], /^OE_INVALID_FILENAME$/],
      ['   ', /^OE_INVALID_FILENAME$|^OE_FILE_NOT_FOUND$/],
      ['file\u0000.gcode', /^OE_INVALID_FILENAME$/],
      [dir, /^OE_INVALID_FILENAME$/],
      [path.join(tmp, 'missing', 'x.gcode'), /^OE_FILE_NOT_FOUND$/],
      ['/dev/zero', /^OE_INVALID_FILENAME$/],
      ['/dev/urandom', /^OE_INVALID_FILENAME$/],
    ];
    for (const [filename, code] of cases) {
      const { error } = await h.send({ filename });
      assert.match(String(error?.code), code, JSON.stringify(filename));
    }
    const get = await load({ method: 'GET', path: '/printer/info' });
    const { error } = await get.send({ filename: '/etc/hostname' });
    assert.equal(error?.code, 'OE_INVALID_FILENAME', 'a GET carries no file');
    assert.deepEqual(opened, []);
    figure('security/upload-paths', { cases: cases.length + 1, filesOpened: opened.length });
  });

  it('a download over the account limit: OE_607 before its body is read', async () => {
    const up = await load({ method: 'PUT', path: '/octoeverywhere-command-api/files/upload?path=gcode/big.gcode' });
    const uploaded = await up.send({ payload: Buffer.alloc(3 * MiB, 1) });
    assert.equal(uploaded.error, undefined);
    sim.limits.MaxDownloadFileSizeBytes = 1 * MiB;
    const down = await load({ method: 'GET', path: '/octoeverywhere-command-api/files/download?path=gcode/big.gcode' });
    const { error } = await down.send({});
    assert.equal(error?.code, 'OE_607');
  });
});
