// The package as a user gets it: `npm pack`, installed into a clean Node-RED user dir, loaded by a
// real Node-RED process, and listed by its admin API with the editor files and catalogs served.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startNodeRed, tempDir, type NodeRedProcess } from '../helpers/node-red-process';

const ROOT = path.resolve(__dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// Run the user's npm as a user would: without the npm_* variables of the `npm test` that started us,
// and without node_modules/.bin on PATH (Node-RED's own bundled npm would be found there first).
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_'))),
  PATH: (process.env.PATH ?? '').split(path.delimiter).filter((p) => !p.includes(`node_modules${path.sep}.bin`)).join(path.delimiter),
};

describe('package: npm pack installs into Node-RED', function () {
  this.timeout(180_000);
  let nr: NodeRedProcess | undefined;
  let userDir: string;

  before(() => {
    const packDir = tempDir('oe-pack-');
    // dist/ is built by `npm test` before the suite; the tarball must carry it (prepare is not run on install from a tarball).
    const out = execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: ROOT, encoding: 'utf8', env });
    const [{ filename, files }] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = files.map((f) => f.path);
    assert.ok(paths.includes('dist/nodes/octoeverywhere-app-connection.js'));
    assert.ok(paths.includes('dist/nodes/octoeverywhere-app-connection.html'));
    assert.ok(paths.includes('dist/nodes/locales/en-US/octoeverywhere-app-connection.json'));
    assert.ok(paths.includes('dist/nodes/icons/octoeverywhere.svg'));
    assert.ok(!paths.some((p) => p.startsWith('src/') || p.startsWith('test/') || p.endsWith('.map')), 'only what users need');
    userDir = tempDir('oe-user-');
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', path.join(packDir, filename)], { cwd: userDir, stdio: 'pipe', env });
  });

  after(async () => {
    await nr?.stop();
  });

  it('is listed by the admin API with the config node, its editor, help and catalog', async () => {
    nr = await startNodeRed({ userDir });
    const sets = (await (await fetch(`${nr.url}/nodes`, { headers: { Accept: 'application/json' } })).json()) as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
    const ours = sets.filter((s) => s.module === 'node-red-contrib-octoeverywhere');
    assert.ok(ours.length > 0, `our module is installed; output:\n${nr.output()}`);
    for (const set of ours) assert.ok(set.enabled && !set.err, JSON.stringify(set));
    assert.doesNotMatch(nr.output(), /octoeverywhere.*(error|Error)/);
    assert.ok(ours.flatMap((s) => s.types).includes('octoeverywhere-app-connection'));

    const html = await (await fetch(`${nr.url}/nodes`, { headers: { Accept: 'text/html' } })).text();
    assert.match(html, /RED\.nodes\.registerType\('octoeverywhere-app-connection'/);
    assert.match(html, /data-help-name="octoeverywhere-app-connection"/);
    const catalog = (await (await fetch(`${nr.url}/locales/node-red-contrib-octoeverywhere/octoeverywhere-app-connection?lng=en-US`)).json()) as { label: { url: string } };
    assert.equal(catalog.label.url, 'Connection URL');
    const icon = await fetch(`${nr.url}/icons/node-red-contrib-octoeverywhere/octoeverywhere.svg`);
    assert.equal(icon.status, 200);
  });
});
