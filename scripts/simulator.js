#!/usr/bin/env node
// `npm run simulator [-- --port N --time-scale X --bare]` in a clone: the simulator CLI
// (src/simulator/cli.ts), built first if there is no build. `npx octoeverywhere-simulator` is for an
// installed package; in a clone npx installs the project itself, which rebuilds dist/.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'simulator', 'cli.js');
if (!fs.existsSync(cli)) {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit' });
}
// The CLI reads its options from process.argv, which npm run passes on after `--`.
require(cli);
