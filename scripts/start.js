#!/usr/bin/env node
// `npm start`: a real Node-RED with this package loaded, its user dir in .node-red/ (git-ignored),
// the editor on 127.0.0.1:1880. Ctrl-C stops it.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const userDir = path.join(root, '.node-red');
fs.mkdirSync(userDir, { recursive: true });

// Node-RED loads packages listed in the user dir's package.json from its node_modules: link this one.
const modules = path.join(userDir, 'node_modules');
fs.mkdirSync(modules, { recursive: true });
const link = path.join(modules, 'node-red-contrib-octoeverywhere');
if (!fs.existsSync(link)) fs.symlinkSync(root, link, 'dir');
fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'octoeverywhere-demo', private: true, dependencies: { 'node-red-contrib-octoeverywhere': '*' } }, null, 2));

const port = Number(process.env.PORT) || 1880;
const settings = path.join(userDir, 'settings.js');
fs.writeFileSync(settings, `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  flowFile: 'flows.json',
  credentialSecret: 'octoeverywhere-local-demo',
  editorTheme: { tours: false },
};
`);

const nodeRedDir = path.dirname(require.resolve('node-red/package.json', { paths: [root] }));
const child = spawn(process.execPath, [path.join(nodeRedDir, 'red.js'), '--userDir', userDir, '--settings', settings], { stdio: 'inherit' });
const stop = () => child.kill('SIGINT');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code) => process.exit(code ?? 0));
