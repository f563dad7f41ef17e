// Issue 10, item 5: file paths for upload are validated, and sizes are bounded before anything is read
// into memory: a huge file to a small-limit account fails with OE_608 without the file being opened,
// and a download over the limit fails with OE_607 without being read.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helper } from '../helpers/nodes';
import { appConnectionCredentials } from '../helpers/simulator';
import { localFile, type OctoEverywhereError } from '../../src/client';
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
    helper.settings({});
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
    figure('security/upload-limit', {
      fileBytes: 4 * 1024 * MiB,
      limitBytes: 2 * MiB,
      code: error?.code,
      filesOpened: opened.length,
      heapGrowthMiB: (grew / MiB).toFixed(1),
    });
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

  // Issue 14, item 7: settings.js `octoeverywhereFileRoot` confines msg.filename to one directory.
  describe('octoeverywhereFileRoot', () => {
    let root: string;
    let rootLink: string;
    let outsideFile: string;
    before(() => {
      root = path.join(tmp, 'root');
      fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
      fs.writeFileSync(path.join(root, 'ok.gcode'), 'G28\n');
      fs.writeFileSync(path.join(root, 'sub', '..deep.gcode'), 'G1 X1\n');
      outsideFile = path.join(tmp, 'outside.gcode');
      fs.writeFileSync(outsideFile, 'SECRET-ISH\n');
      // Symlinks inside the root that point out of it: to a file, and to a directory.
      fs.symlinkSync(outsideFile, path.join(root, 'link-out.gcode'));
      fs.symlinkSync(tmp, path.join(root, 'dir-out'));
      // A symlink inside that stays inside is fine.
      fs.symlinkSync(path.join(root, 'ok.gcode'), path.join(root, 'link-in.gcode'));
      // The root itself named through a symlink.
      rootLink = path.join(tmp, 'root-link');
      fs.symlinkSync(root, rootLink);
    });

    const loadWithRoot = async (fileRoot: string | undefined): Promise<Harness> => {
      helper.settings(fileRoot === undefined ? {} : ({ octoeverywhereFileRoot: fileRoot } as Parameters<typeof helper.settings>[0]));
      return load({ method: 'PUT', path: '/octoeverywhere-command-api/files/upload?path=gcode/part.gcode' });
    };

    it('refuses .., absolute paths outside and symlinks pointing out with OE_FILE_OUTSIDE_ROOT, opening nothing', async () => {
      const h = await loadWithRoot(root);
      const refused = [
        '../outside.gcode',
        'sub/../../outside.gcode',
        outsideFile,
        '/etc/hostname',
        'link-out.gcode',
        'dir-out/outside.gcode',
        path.join(root, 'dir-out', 'outside.gcode'),
        `${root}-sibling/x.gcode`,
      ];
      for (const filename of refused) {
        const { error } = await h.send({ filename });
        assert.equal(error?.code, 'OE_FILE_OUTSIDE_ROOT', filename);
        assert.ok(!String(error?.message).includes(tmp), 'the error does not name the directories');
      }
      assert.deepEqual(opened, [], 'no file was opened');
      figure('security/file-root-refused', { cases: refused.length, filesOpened: opened.length });
    });

    it("uploads a file inside: relative to the root, absolute, through a symlink that stays inside, or via the root's own symlink", async () => {
      const realOk = fs.realpathSync(path.join(root, 'ok.gcode'));
      for (const fileRoot of [root, rootLink]) {
        const h = await loadWithRoot(fileRoot);
        for (const filename of ['ok.gcode', './sub/../ok.gcode', path.join(fileRoot, 'ok.gcode'), 'link-in.gcode', 'sub/..deep.gcode']) {
          const { msg, error } = await h.send({ filename });
          assert.equal(error, undefined, `${fileRoot} ${filename}: ${JSON.stringify(error)}`);
          assert.equal(msg.statusCode, 200);
        }
      }
      assert.ok(
        opened.every((file) => file.startsWith(fs.realpathSync(root) + path.sep)),
        `opened ${opened.join(', ')}`,
      );
      assert.ok(opened.includes(realOk), 'what is opened is the resolved path that was checked');
    });

    it('a missing file inside is OE_FILE_NOT_FOUND; a root that does not exist is OE_FILE_ROOT_INVALID', async () => {
      let h = await loadWithRoot(root);
      assert.equal((await h.send({ filename: 'missing.gcode' })).error?.code, 'OE_FILE_NOT_FOUND');
      h = await loadWithRoot(path.join(tmp, 'no-such-root'));
      assert.equal((await h.send({ filename: 'ok.gcode' })).error?.code, 'OE_FILE_ROOT_INVALID');
      h = await loadWithRoot(path.join(root, 'ok.gcode'));
      assert.equal((await h.send({ filename: 'ok.gcode' })).error?.code, 'OE_FILE_ROOT_INVALID', 'a file is not a root');
      assert.deepEqual(opened, []);
    });

    it('unset: any readable file, as before', async () => {
      const h = await loadWithRoot(undefined);
      const { msg, error } = await h.send({ filename: outsideFile });
      assert.equal(error, undefined);
      assert.equal(msg.statusCode, 200);
      assert.deepEqual(opened, [outsideFile]);
    });

    it('localFile() is the one rule (client, no Node-RED)', async () => {
      const code = (p: Promise<unknown>): Promise<string> =>
        p.then(
          () => 'ok',
          (e: OctoEverywhereError) => e.code,
        );
      assert.equal(await localFile('x.gcode'), 'x.gcode', 'no root: the path as given');
      assert.equal(await localFile('ok.gcode', root), fs.realpathSync(path.join(root, 'ok.gcode')));
      assert.equal(await code(localFile('../outside.gcode', root)), 'OE_FILE_OUTSIDE_ROOT');
      assert.equal(await code(localFile('link-out.gcode', rootLink)), 'OE_FILE_OUTSIDE_ROOT');
      assert.equal(await code(localFile(42, root)), 'OE_INVALID_FILENAME');
      assert.equal(await code(localFile('a\u0000b', root)), 'OE_INVALID_FILENAME');
    });
  });
});
