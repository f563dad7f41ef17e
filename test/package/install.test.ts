// The package as a user gets it: `npm pack`, installed into a clean Node-RED user dir, loaded by a
// real Node-RED process, and listed by its admin API with the editor files and catalogs served; and
// installed from git, which builds dist/ in the clone.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startNodeRed, tempDir, type NodeRedProcess } from '../helpers/node-red-process';

const ROOT = path.resolve(__dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// Run the user's npm as a user would: without the npm_* variables of the `npm test` that started us,
// and without node_modules/.bin on PATH (Node-RED's own bundled npm would be found there first).
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_'))),
  PATH: (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((p) => !p.includes(`node_modules${path.sep}.bin`))
    .join(path.delimiter),
};

/** Runs npm as a user would and returns everything it printed (npm's warnings go to stderr). */
function runNpm(args: string[], cwd: string): string {
  const r = spawnSync(npm, args, { cwd, encoding: 'utf8', env });
  const output = `${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, `npm ${args.join(' ')} failed:\n${output}`);
  return output;
}

/** npm 11's "install scripts not yet covered by allowScripts" lines that name this package. */
function ourInstallScriptWarnings(output: string): string[] {
  return output.split('\n').filter((l) => /install-scripts/.test(l) && l.includes('node-red-contrib-octoeverywhere'));
}

// From the npm cache that installed this checkout where it can: the tarball's dependencies (axios, ws,
// jpeg-js, mqtt …) are all there. The git build installs every dev dependency in its clone, and a cache
// filled by `npm install` (not `npm ci`) may lack a package that was already on disk: that one may come
// from the registry.
const INSTALL = ['install', '--no-audit', '--no-fund', '--offline'];
const GIT_INSTALL = ['install', '--no-audit', '--no-fund', '--prefer-offline'];

function emptyProject(prefix: string): string {
  const dir = tempDir(prefix);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
  return dir;
}

describe('package: npm pack installs into Node-RED', function () {
  this.timeout(180_000);
  let nr: NodeRedProcess | undefined;
  let userDir: string;
  let installOutput: string;
  let packedManifest: { scripts?: Record<string, string> };

  before(() => {
    const packDir = tempDir('oe-pack-');
    const manifestBefore = fs.readFileSync(path.join(ROOT, 'package.json'));
    // dist/ is built by `npm test` before the suite; the tarball must carry it (prepare is not run on
    // install from a tarball). Scripts on: prepack/postpack shape the packed package.json.
    const pack = spawnSync(npm, ['pack', '--json', '--pack-destination', packDir], { cwd: ROOT, encoding: 'utf8', env });
    assert.equal(pack.status, 0, pack.stderr);
    assert.deepEqual(fs.readFileSync(path.join(ROOT, 'package.json')), manifestBefore, 'postpack restored package.json byte for byte');
    assert.ok(!fs.existsSync(path.join(ROOT, '.package.json.prepack')), 'no pack leftovers');
    const [{ filename, files }] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = files.map((f) => f.path);
    assert.ok(paths.includes('dist/nodes/octoeverywhere-app-connection.js'));
    assert.ok(paths.includes('dist/nodes/octoeverywhere-app-connection.html'));
    assert.ok(paths.includes('dist/nodes/locales/en-US/octoeverywhere-app-connection.json'));
    assert.ok(paths.includes('dist/nodes/icons/octoeverywhere.svg'));
    // The migration steps the runtime requires and the editor loads from /resources/<package>/.
    assert.ok(paths.includes('resources/migrations.js'));
    assert.ok(!paths.some((p) => p.startsWith('src/') || p.startsWith('test/') || p.endsWith('.map')), 'only what users need');
    userDir = emptyProject('oe-user-');
    // As the palette does it: a plain `npm install` of the tarball, scripts allowed.
    installOutput = runNpm([...INSTALL, path.join(packDir, filename)], userDir);
    packedManifest = JSON.parse(
      fs.readFileSync(path.join(userDir, 'node_modules', 'node-red-contrib-octoeverywhere', 'package.json'), 'utf8'),
    ) as typeof packedManifest;
  });

  after(async () => {
    await nr?.stop();
  });

  it('installs without an npm install-scripts warning: the tarball has no script npm counts', () => {
    assert.deepEqual(ourInstallScriptWarnings(installOutput), [], installOutput);
    // What npm 11 counts (arborist lib/install-scripts.js): preinstall, install, postinstall, and
    // prepare for any source that is not the registry (a .tgz file, a palette upload, git).
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) {
      assert.equal(packedManifest.scripts?.[script], undefined, `the packed package.json has no ${script} script`);
    }
  });

  it('links the simulator CLI for `npx octoeverywhere-simulator` in the user dir', () => {
    const out = execFileSync(npm, ['exec', '--offline', '--no', '--', 'octoeverywhere-simulator', '--help'], { cwd: userDir, encoding: 'utf8', env });
    assert.match(out, /Usage: octoeverywhere-simulator/);
  });

  it('is listed by the admin API with the config node, its editor, help and catalog', async () => {
    nr = await startNodeRed({ userDir });
    const sets = (await (await fetch(`${nr.url}/nodes`, { headers: { Accept: 'application/json' } })).json()) as Array<{
      module: string;
      types: string[];
      enabled: boolean;
      err?: string;
    }>;
    const ours = sets.filter((s) => s.module === 'node-red-contrib-octoeverywhere');
    assert.ok(ours.length > 0, `our module is installed; output:\n${nr.output()}`);
    for (const set of ours) assert.ok(set.enabled && !set.err, JSON.stringify(set));
    assert.doesNotMatch(nr.output(), /octoeverywhere.*(error|Error)/);
    assert.ok(ours.flatMap((s) => s.types).includes('octoeverywhere-app-connection'));

    const html = await (await fetch(`${nr.url}/nodes`, { headers: { Accept: 'text/html' } })).text();
    assert.match(html, /RED\.nodes\.registerType\('octoeverywhere-app-connection'/);
    assert.match(html, /data-help-name="octoeverywhere-app-connection"/);
    const catalog = (await (await fetch(`${nr.url}/locales/node-red-contrib-octoeverywhere/octoeverywhere-app-connection?lng=en-US`)).json()) as {
      label: { url: string };
    };
    assert.equal(catalog.label.url, 'Connection URL');
    const icon = await fetch(`${nr.url}/icons/node-red-contrib-octoeverywhere/octoeverywhere.svg`);
    assert.equal(icon.status, 200);
  });
});

describe('package: npm install from git builds dist/', function () {
  this.timeout(300_000);

  it('runs prepare in the clone (npm lists it for review, as it does run) and installs a working build', function () {
    if (spawnSync('git', ['--version']).status !== 0) this.skip();
    // A git repository of the working tree as it is (tracked and new files), so the test checks this
    // change and not the last commit.
    const repo = tempDir('oe-git-');
    const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
    for (const file of listed.split('\0').filter((f) => f && f !== 'node_modules' && fs.existsSync(path.join(ROOT, f)))) {
      fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(repo, file));
    }
    assert.ok(!fs.existsSync(path.join(repo, 'dist')), 'the clone has no dist/: the install must build it');
    const git = (...args: string[]): void => {
      execFileSync('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', ...args], { cwd: repo, stdio: 'pipe' });
    };
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'snapshot');

    const project = emptyProject('oe-git-user-');
    const output = runNpm([...GIT_INSTALL, `git+file://${repo}`], project);
    const installed = path.join(project, 'node_modules', 'node-red-contrib-octoeverywhere');
    for (const file of ['dist/nodes/octoeverywhere-app-connection.js', 'dist/nodes/octoeverywhere-app-connection.html', 'dist/simulator/cli.js']) {
      assert.ok(fs.existsSync(path.join(installed, file)), `${file} was built; npm said:\n${output}`);
    }
    assert.ok(
      ourInstallScriptWarnings(output).some((l) => /prepare: npm run build/.test(l)),
      `npm names the build it ran for review:\n${output}`,
    );
  });
});
