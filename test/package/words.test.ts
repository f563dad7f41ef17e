// Issue 15.4: the nodes' words come from the catalogs. No English sentence is written as a string in
// the node code (src/nodes/): what a user reads there is RED._() of a catalog key. (The client, free of
// Node-RED, has its own English messages; the nodes put theirs in the catalogs.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
/** A string that starts like a sentence: a capitalised word and two lower-case ones. */
const SENTENCE = /^[A-Z][a-z]+ [a-z]+ [a-z]/;

describe('words: the nodes speak through their catalogs', () => {
  it('no English sentence as a string literal in src/nodes/', () => {
    const files = execFileSync('git', ['ls-files', 'src/nodes'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 20);
    const found: string[] = [];
    for (const file of files) {
      fs.readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.trim();
          if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return;
          for (const m of line.matchAll(/'([^'\\]*)'|`([^`\\]*)`/g)) {
            const text = m[1] ?? m[2] ?? '';
            if (SENTENCE.test(text)) found.push(`${file}:${i + 1}: ${text}`);
          }
        });
    }
    assert.deepEqual(found, []);
  });
});
