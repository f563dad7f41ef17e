// Issue 15.6: docs/architecture.md and CONTRIBUTING.md are a map that stays true — every file they
// name exists — and the map answers the three questions a new contributor asks: who owns the socket
// of a printer, what happens on redeploy, where to add a node.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
/** Where a bare or partial name in the docs is looked for, in order. */
const BASES = ['', 'src/nodes', 'src/nodes/shared', 'src/client', 'test/helpers'];
/** Names of other programs' files, and of what a run writes, that are not in the repository. */
const NOT_OURS = new Set(['settings.js', '10-mqtt.js', 'bench/results.json']); // the last one written by npm run bench

describe('docs/architecture.md and CONTRIBUTING.md: the map', () => {
  for (const doc of ['docs/architecture.md', 'CONTRIBUTING.md']) {
    it(`${doc}: every file it names exists`, () => {
      const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
      const missing: string[] = [];
      let named = 0;
      for (const m of text.matchAll(/`([^`\s]+\.(?:ts|js|json|html|md))(?:\s[^`]*)?`/g)) {
        const name = m[1];
        if (name.includes('<') || name.includes('…') || name.startsWith('/') || name.startsWith('.') || NOT_OURS.has(name)) continue;
        named++;
        if (!BASES.some((base) => fs.existsSync(path.join(ROOT, base, name)))) missing.push(name);
      }
      assert.ok(named >= 10, `${doc} names the files (${named})`);
      assert.deepEqual(missing, [], `${doc} names files that do not exist`);
    });
  }

  it('answers who owns the socket of a printer, what happens on redeploy, and where to add a node', () => {
    const text = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
    assert.match(text, /\*\*the socket of a printer\*\*[^]*?is owned by that printer's config node, through its\s+`PrinterConnection`/);
    assert.match(text, /^## What happens on redeploy and on removal$/m);
    assert.match(text, /\*\*Redeploy\*\* \(`close\(removed = false\)`\)/);
    const where = text.slice(text.indexOf('## Where to add a node'));
    for (const step of ['src/client/', 'src/nodes/shared/', 'migrate(TYPE, def)', 'package.json', 'resources/migrations.js', 'test/nodes/migrations.test.ts']) {
      assert.ok(where.includes(step), `where to add a node names ${step}`);
    }
  });
});
