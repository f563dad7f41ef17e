#!/usr/bin/env node
// Compiles src/ to dist/ and assembles dist/nodes/: each node's compiled .js beside its editor
// .html, plus locales/ and icons/, which is where Node-RED looks for them.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], {
  stdio: 'inherit',
});

const outNodes = path.join(dist, 'nodes');
fs.mkdirSync(outNodes, { recursive: true });
for (const entry of fs.readdirSync(path.join(root, 'nodes'))) {
  fs.cpSync(path.join(root, 'nodes', entry), path.join(outNodes, entry), { recursive: true });
}
fs.cpSync(path.join(root, 'icons'), path.join(outNodes, 'icons'), { recursive: true });
const simAssets = path.join(root, 'src', 'simulator', 'assets');
if (fs.existsSync(simAssets)) {
  fs.cpSync(simAssets, path.join(dist, 'simulator', 'assets'), { recursive: true });
}
const cli = path.join(dist, 'simulator', 'cli.js');
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
