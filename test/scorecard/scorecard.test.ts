// The Node-RED Flow Library scorecard's checks that need no network (the ones node-red-dev validate
// runs on a package before it is published), asserted on this repository: package.json metadata,
// statically readable node definitions, icons, help and messages catalogs, examples, dependencies.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { exampleFiles, readFlow } from '../examples/support';

const ROOT = path.resolve(__dirname, '..', '..');

interface PackageJson {
  name: string;
  license?: string;
  repository?: { type?: string; url?: string } | string;
  keywords?: string[];
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  files?: string[];
  'node-red'?: { version?: string; nodes?: Record<string, string> };
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;
const nodes = Object.entries(pkg['node-red']?.nodes ?? {});

/** What an editor file declares, read the way the Flow Library reads it: literals only, no evaluation. */
export interface Registration {
  type: string;
  category?: string;
  color?: string;
  icon?: string;
}

/** Every `RED.nodes.registerType('<type>', {` in an editor .html, with its literal category, color and icon. */
export function registrations(html: string): Registration[] {
  const found: Registration[] = [];
  const start = /RED\.nodes\.registerType\(\s*(['"])([^'"]+)\1\s*,\s*\{/g;
  for (let m = start.exec(html); m; m = start.exec(html)) {
    const body = objectLiteral(html, m.index + m[0].length - 1);
    const prop = (name: string): string | undefined => {
      // A property at the top level of the definition, with a string literal value.
      const re = new RegExp(`(?:^|[,{\\s])${name}\\s*:\\s*(['"])([^'"]*)\\1`);
      return re.exec(topLevel(body))?.[2];
    };
    found.push({ type: m[2], category: prop('category'), color: prop('color'), icon: prop('icon') });
  }
  return found;
}

/** The text of the `{ … }` starting at `open`, braces in strings and comments skipped. */
function objectLiteral(text: string, open: number): string {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '/' && text[i + 1] === '/') i = text.indexOf('\n', i);
    else if (c === '/' && text[i + 1] === '*') i = text.indexOf('*/', i) + 1;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(open, i + 1);
  }
  throw new Error('unbalanced braces in a node definition');
}

/** The definition with its nested objects and functions blanked out, so only top-level keys remain. */
function topLevel(body: string): string {
  let out = '';
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      if (depth <= 1) out += c;
      continue;
    }
    if (c === '/' && body[i + 1] === '/') {
      i = body.indexOf('\n', i);
      continue;
    }
    if (c === '/' && body[i + 1] === '*') {
      i = body.indexOf('*/', i) + 1;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    if (c === '{' || c === '[' || c === '(') depth++;
    if (depth <= 1) out += c;
    if (c === '}' || c === ']' || c === ')') depth--;
  }
  return out;
}

describe('Flow Library scorecard (offline checks)', () => {
  it('package.json: license, repository, keywords with node-red, node-red.version, engines.node', () => {
    assert.ok(pkg.license && pkg.license.length > 0, 'license');
    assert.ok(fs.existsSync(path.join(ROOT, 'LICENSE')), 'a LICENSE file');
    const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
    assert.match(repo ?? '', /^(git\+)?https:\/\/github\.com\/[^/]+\/[^/]+?(\.git)?$/, 'repository URL');
    assert.ok(pkg.keywords?.includes('node-red'), 'the node-red keyword (the Flow Library lists only packages with it)');
    assert.match(pkg['node-red']?.version ?? '', /^>=\s*\d+\.\d+/, 'node-red.version, the Node-RED versions supported');
    assert.match(pkg.engines?.node ?? '', /^>=\s*\d+/, 'engines.node');
    assert.match(pkg.name, /^node-red-contrib-|^@[^/]+\/node-red-/, 'a name the Flow Library accepts for a contributed package');
  });

  it('package.json: every node-red.nodes entry exists after the build, and examples/ is published', () => {
    assert.ok(nodes.length > 0);
    for (const [type, file] of nodes) {
      assert.ok(fs.existsSync(path.join(ROOT, file)), `${type}: ${file} is missing (npm test builds first; alone, run npm run build)`);
      assert.ok(fs.existsSync(path.join(ROOT, file.replace(/\.js$/, '.html'))), `${type}: its .html beside the .js`);
      assert.equal(path.basename(file, '.js'), type, `${type}: file named after the type`);
    }
    assert.ok(
      pkg.files?.some((f) => f.replace(/\/$/, '') === 'examples'),
      'examples/ is in "files"',
    );
  });

  it('each node .html has a literal registerType with literal category, color and icon, and the icon exists', () => {
    for (const [type] of nodes) {
      const html = fs.readFileSync(path.join(ROOT, 'nodes', `${type}.html`), 'utf8');
      const regs = registrations(html);
      assert.deepEqual(
        regs.map((r) => r.type),
        [type],
        `${type}.html registers exactly its own type with a literal name`,
      );
      const [reg] = regs;
      assert.ok(reg.category, `${type}: literal category`);
      if (reg.category !== 'config') {
        assert.equal(reg.category, 'OctoEverywhere', `${type}: our palette category`);
        assert.match(reg.color ?? '', /^#[0-9a-fA-F]{6}$/, `${type}: literal color`);
      }
      assert.ok(reg.icon, `${type}: literal icon`);
      const icon = path.join(ROOT, 'icons', reg.icon ?? '');
      assert.ok(fs.existsSync(icon), `${type}: icons/${reg.icon} exists`);
      assert.match(fs.readFileSync(icon, 'utf8'), /<svg[\s>]/, `${type}: the icon is an SVG`);
    }
  });

  it('the static reader finds what it should (and not a property of a nested object)', () => {
    const html = `<script>RED.nodes.registerType('x-node', { defaults: { icon: { value: 'no.svg' }, color: { value: '#000000' } },
      category: 'Cat', // { a brace in a comment
      label: function () { return "}"; }, color: "#123456", icon: 'x.svg' });</script>`;
    assert.deepEqual(registrations(html), [{ type: 'x-node', category: 'Cat', color: '#123456', icon: 'x.svg' }]);
    assert.deepEqual(registrations('RED.nodes.registerType(type, {category: "x"})'), [], 'a computed type name is not read');
  });

  it('each type has a messages catalog and help in locales/en-US', () => {
    for (const [type] of nodes) {
      const dir = path.join(ROOT, 'nodes', 'locales', 'en-US');
      const catalog = JSON.parse(fs.readFileSync(path.join(dir, `${type}.json`), 'utf8')) as unknown;
      assert.ok(catalog && typeof catalog === 'object', `${type}.json is an object`);
      const help = fs.readFileSync(path.join(dir, `${type}.html`), 'utf8');
      assert.match(help, new RegExp(`data-help-name=["']${type}["']`), `${type}: help for this type`);
      assert.match(help, /<p>[^<]{20,}/, `${type}: a first paragraph (the palette tooltip)`);
    }
  });

  it('examples/ exists and its flows cover every node type', () => {
    const files = exampleFiles();
    assert.ok(files.length >= 1);
    const used = new Set(files.flatMap((f) => readFlow(f).map((n) => n.type)));
    for (const [type] of nodes) assert.ok(used.has(type), `${type} appears in an example`);
  });

  it('at most 6 production dependencies', () => {
    const deps = Object.keys(pkg.dependencies ?? {});
    assert.ok(deps.length <= 6, `${deps.length} dependencies: ${deps.join(', ')}`);
    assert.ok(!('node-red' in (pkg.dependencies ?? {})), 'node-red itself is never a dependency');
  });
});
