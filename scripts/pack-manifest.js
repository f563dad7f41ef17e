#!/usr/bin/env node
// `prepack` / `postpack`: the packed tarball's package.json without the `prepare` script.
//
// `prepare` builds dist/ for git installs (pacote runs it in the clone) and for `npm install` in a
// clone. A tarball already carries dist/ and npm never runs `prepare` when installing one, but npm 11
// still lists it as an install script of any tarball not from the registry (a .tgz file, a palette
// upload) and warns "not yet covered by allowScripts". So `prepack` takes it out of package.json just
// for the pack, and `postpack` puts the original back byte for byte.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const manifest = path.join(root, 'package.json');
// The untouched package.json while a pack runs; if a pack died before postpack, the next one restores it.
const saved = path.join(root, '.package.json.prepack');

function restore() {
  if (fs.existsSync(saved)) fs.renameSync(saved, manifest);
}

function strip() {
  restore();
  const text = fs.readFileSync(manifest, 'utf8');
  const pkg = JSON.parse(text);
  if (!pkg.scripts || pkg.scripts.prepare === undefined) return;
  fs.writeFileSync(saved, text);
  delete pkg.scripts.prepare;
  fs.writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
}

const action = process.argv[2];
if (action === 'strip') strip();
else if (action === 'restore') restore();
else {
  console.error('Usage: pack-manifest.js strip|restore');
  process.exitCode = 2;
}
