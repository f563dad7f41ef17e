// Issue 15.6: the code's references to OctoEverywhere's behaviour point at the project's own
// reference, docs/octoeverywhere.md, and each names a section that exists; none points at notes
// outside the repository.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function tracked(...patterns: string[]): string[] {
  return execFileSync('git', ['ls-files', ...patterns], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

describe('references to the OctoEverywhere behaviour we rely on', () => {
  const sections = new Set([...fs.readFileSync(path.join(ROOT, 'docs', 'octoeverywhere.md'), 'utf8').matchAll(/^#{2,3} §(\d+(?:\.\d+)?) /gm)].map((m) => m[1]));

  it('docs/octoeverywhere.md has its numbered sections and links to the public docs', () => {
    for (const n of ['1', '3', '4', '5', '7', '8', '9.1', '9.2', '10']) assert.ok(sections.has(n), `§${n}`);
    const text = fs.readFileSync(path.join(ROOT, 'docs', 'octoeverywhere.md'), 'utf8');
    assert.ok((text.match(/https:\/\/docs\.octoeverywhere\.com\//g) ?? []).length >= 5, 'links to the public docs');
  });

  it('every `docs/octoeverywhere.md §N` in the code names an existing section, and nothing cites a facts sheet', () => {
    const missing: string[] = [];
    const outside: string[] = [];
    let references = 0;
    for (const file of tracked('src', 'test', 'scripts', 'bench', 'resources', 'nodes')) {
      if (!/\.(ts|js|html)$/.test(file)) continue;
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      // A reference may break across a comment line: `octoeverywhere.md` at the end of one, `§7` on the next.
      for (const m of text.matchAll(/octoeverywhere\.md(?:\s*\/\/)?\s+§(\d+(?:\.\d+)?)/g)) {
        references++;
        if (!sections.has(m[1])) missing.push(`${file}: §${m[1]}`);
      }
      if (/facts sheet|facts §|octoeverywhere-api(-more)?\.md|\/work\/shared/.test(text) && file !== 'test/package/references.test.ts') outside.push(file);
    }
    assert.ok(references >= 39, `the code cites the reference (${references} times)`);
    assert.deepEqual(missing, [], 'sections that do not exist');
    assert.deepEqual(outside, [], 'references to notes outside the repository');
  });
});
