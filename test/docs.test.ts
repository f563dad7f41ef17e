import assert from 'node:assert/strict';
import fs from 'node:fs';
import { README, renderReadme } from '../scripts/gen-docs';

describe('docs', () => {
  it("README tables match the client's event and error tables (run `npm run docs`)", () => {
    const text = fs.readFileSync(README, 'utf8');
    assert.equal(renderReadme(text), text);
  });
});
