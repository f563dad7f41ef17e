// Issue 15.6: the lint habits hold — `npm test` runs ESLint and Prettier, an eslint-disable comment
// that disables nothing fails the lint, and every one that remains says why.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

describe('lint habits', () => {
  it('npm test runs the lint (ESLint and Prettier) before the tests', () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    assert.match(scripts.test, /npm run lint/);
    assert.ok(scripts.test.indexOf('npm run lint') < scripts.test.indexOf('mocha'), 'lint before mocha');
    assert.match(scripts.lint, /eslint \./);
    assert.match(scripts.lint, /prettier --check \./);
  });

  it('every eslint-disable comment in the repository says why (`-- reason`), and an unused one is an error', () => {
    const files = execFileSync('git', ['ls-files', '*.ts', '*.js'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    const bare: string[] = [];
    for (const file of files) {
      const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        // The comment itself, not a string that mentions it (like this test's own patterns).
        const m = /^\s*(?:\/\/|\/\*)\s*eslint-disable(?:-next-line|-line)?\b(.*)$/.exec(line);
        if (m && !/\s--\s+\S/.test(m[1])) bare.push(`${file}:${i + 1}`);
      });
    }
    assert.deepEqual(bare, [], 'eslint-disable without a reason');
    const config = fs.readFileSync(path.join(ROOT, 'eslint.config.js'), 'utf8');
    assert.match(config, /reportUnusedDisableDirectives: 'error'/);
  });
});
