// What the end-to-end tests share: a real Node-RED that loads this package from a user dir (as a
// palette install would), settings that point nothing at the internet, admin users, and headless
// Chromium (Debian's, driven by playwright-core) that may only talk to this machine.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { nodeRedRoot, startNodeRed, tempDir, type NodeRedProcess, type StartOptions } from '../helpers/node-red-process';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');

/** The package under test: this checkout, or OE_E2E_PACKAGE_ROOT (another built copy of it). */
export function packageRoot(): string {
  return process.env.OE_E2E_PACKAGE_ROOT || path.resolve(__dirname, '..', '..');
}

/** `npm test` builds first; a lone run builds only when there is no build at all. */
export function ensureBuilt(): void {
  const root = packageRoot();
  if (!fs.existsSync(path.join(root, 'dist', 'nodes'))) {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { cwd: root, stdio: 'inherit' });
  }
}

/** A user dir whose node_modules links this package and whose package.json lists it (like scripts/start.js). */
export function userDirWithPackage(): string {
  const userDir = tempDir('oe-e2e-');
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.symlinkSync(packageRoot(), path.join(userDir, 'node_modules', 'node-red-contrib-octoeverywhere'), 'dir');
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({ name: 'oe-e2e', private: true, dependencies: { 'node-red-contrib-octoeverywhere': '*' } }),
  );
  return userDir;
}

/** No update checks, no telemetry prompt, no palette catalogue, no installs: nothing leaves this machine. */
const OFFLINE_SETTINGS = `telemetry: { enabled: false, updateNotification: false },
  editorTheme: { tours: false, palette: { catalogues: [] } },
  externalModules: { palette: { allowInstall: false, allowUpdate: false, allowUpload: false }, modules: { allowInstall: false } },
  diagnostics: { enabled: false, ui: false }`;

export interface AdminUser {
  username: string;
  password: string;
  permissions: string;
}

export const ADMIN: AdminUser = { username: 'admin', password: 'admin-test-password', permissions: '*' };
export const VIEWER: AdminUser = { username: 'viewer', password: 'viewer-test-password', permissions: 'read' };

/** settings.js `adminAuth` for these users, with bcrypt hashes made by Node-RED's own bcryptjs. */
function adminAuthSettings(users: readonly AdminUser[]): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED's own bcryptjs, found at run time
  const bcrypt = require(require.resolve('bcryptjs', { paths: [nodeRedRoot(), path.join(nodeRedRoot(), 'node_modules', '@node-red', 'editor-api')] })) as {
    hashSync(password: string, rounds: number): string;
  };
  const list = users.map((u) => ({ username: u.username, password: bcrypt.hashSync(u.password, 4), permissions: u.permissions }));
  return `adminAuth: { type: 'credentials', users: ${JSON.stringify(list)} }`;
}

export async function startNodeRedWithPackage(
  options: {
    users?: readonly AdminUser[];
    flows?: unknown[];
    credentials?: StartOptions['credentials'];
    /** More settings.js properties (code). */
    settings?: string;
    readyPath?: string;
    /** One made by userDirWithPackage(), e.g. with a flows_cred.json already in it. */
    userDir?: string;
  } = {},
): Promise<NodeRedProcess> {
  ensureBuilt();
  const extra = [OFFLINE_SETTINGS, ...(options.users ? [adminAuthSettings(options.users)] : []), ...(options.settings ? [options.settings] : [])].join(',\n  ');
  return startNodeRed({
    userDir: options.userDir ?? userDirWithPackage(),
    settings: extra,
    flows: options.flows ?? [],
    credentials: options.credentials,
    timeoutMs: 60_000,
    readyPath: options.readyPath,
  });
}

/** An editor access token, as the login form gets one. */
export async function login(nodeRed: NodeRedProcess, user: AdminUser): Promise<string> {
  const res = await fetch(`${nodeRed.url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: user.permissions, username: user.username, password: user.password }),
  });
  if (res.status !== 200) throw new Error(`login as ${user.username} failed: HTTP ${res.status}`);
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

/**
 * Whether the browser tests can run: they skip (with the reason) when Debian's chromium is absent,
 * unless OE_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
 */
export function browserAvailable(ctx: Mocha.Context): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  const why = `${CHROMIUM} is missing: install it with "apt-get install chromium" to run the browser tests`;
  if (process.env.OE_REQUIRE_BROWSER === '1') throw new Error(`${why} (OE_REQUIRE_BROWSER=1)`);

  console.log(`      skipped: ${why}`);
  ctx.skip();
  return false;
}

export interface LocalBrowser {
  context: BrowserContext;
  /** Requests the browser tried to make off this machine (blocked). */
  blocked: string[];
  close(): Promise<void>;
}

const LOCAL_HOST = /^(127\.\d+\.\d+\.\d+|localhost|[a-z0-9-]+\.localhost|\[::1\])$/i;

/** Headless Chromium with a fresh profile; anything not addressed to this machine is aborted and recorded. */
export async function launchBrowser(): Promise<LocalBrowser> {
  const { chromium } = await import('playwright-core');
  const profile = tempDir('oe-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 1000 },
  });
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if ((url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'ws:') && !LOCAL_HOST.test(url.hostname)) {
      blocked.push(url.origin);
      return route.abort();
    }
    return route.continue();
  });
  return {
    context,
    blocked,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface EditorSession {
  nodeRed: NodeRedProcess;
  browser: LocalBrowser;
  page: Page;
  close(): Promise<void>;
}

/** Node-RED with the package and `flows`, and Chromium on its editor once `ready(page)` resolves. */
export async function openEditor(flows: unknown[], ready: (page: Page) => Promise<unknown>): Promise<EditorSession> {
  const nodeRed = await startNodeRedWithPackage({ flows });
  const browser = await launchBrowser();
  const page = await browser.context.newPage();
  await page.goto(`${nodeRed.url}/`);
  await ready(page);
  return {
    nodeRed,
    browser,
    page,
    async close() {
      await browser.close();
      await nodeRed.stop();
    },
  };
}

export function artifactPath(name: string): string {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

/** Walks the simulator's portal as a user would: sign in if asked, choose the printer, Allow or Cancel. */
export async function completePortal(page: Page, printerName: string, action: 'allow' | 'cancel' = 'allow'): Promise<void> {
  await page.waitForSelector('#login-form, #choose-form');
  if (await page.$('#login-form')) {
    await page.fill('#email', 'demo@example.com');
    await page.fill('#password', 'any password');
    await Promise.all([page.waitForSelector('#choose-form'), page.click('#login')]);
  }
  await page.locator('label.choice', { hasText: printerName }).click();
  await Promise.all([page.waitForSelector('#authorize-form'), page.click('#continue')]);
  assert.equal(await page.textContent('#printer-name'), printerName);
  await page.click(action === 'allow' ? '#allow' : '#cancel');
}
