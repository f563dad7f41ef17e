// A real Node-RED process for the tests that need one (palette install, admin auth, the editor):
// its own user dir, loopback only, stopped and awaited by stop().
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface NodeRedProcess {
  url: string;
  port: number;
  userDir: string;
  /** The Node-RED process id (for tests that measure its CPU time). */
  pid: number;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  userDir?: string;
  /** Extra settings.js properties, as a JS object literal body (code). */
  settings?: string;
  flows?: unknown[];
  /** Saved credentials by node id, written to flows_cred.json as Node-RED itself stores them (encrypted with the settings' credentialSecret). */
  credentials?: Record<string, Record<string, string | undefined>>;
  /** Milliseconds to wait for the editor to answer. */
  timeoutMs?: number;
  /** What is polled until it answers: '/settings' unless httpAdminRoot moves the editor. */
  readyPath?: string;
}

/** The Node-RED under test: OE_NODE_RED_PATH for the Node-RED 5 run, else our dev dependency. */
export function nodeRedRoot(): string {
  const main = require.resolve(process.env.OE_NODE_RED_PATH || 'node-red');
  let dir = path.dirname(main);
  // The package root (its red.js is the CLI; lib/red.js is the library entry point).
  while (!fs.existsSync(path.join(dir, 'package.json')) || !fs.existsSync(path.join(dir, 'red.js'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('red.js not found above the node-red entry point');
    dir = up;
  }
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const CREDENTIAL_SECRET = 'test-only-secret';

/** Node-RED's own credential file format (@node-red/runtime lib/nodes/credentials.js): aes-256-ctr, key sha256(secret), iv hex first. */
function encryptCredentials(secret: string, credentials: unknown): { $: string } {
  const key = crypto.createHash('sha256').update(secret).digest();
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-ctr', key, iv);
  return { $: iv.toString('hex') + cipher.update(JSON.stringify(credentials), 'utf8', 'base64') + cipher.final('base64') };
}

export async function startNodeRed(options: StartOptions = {}): Promise<NodeRedProcess> {
  const userDir = options.userDir ?? tempDir('oe-nr-');
  const port = await freePort();
  fs.writeFileSync(
    path.join(userDir, 'settings.js'),
    `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', credentialSecret: '${CREDENTIAL_SECRET}',
      logging: { console: { level: 'info' } }, editorTheme: { tours: false }, telemetry: { enabled: false }, ${options.settings ?? ''} };\n`,
  );
  if (options.flows) fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(options.flows));
  if (options.credentials) fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(encryptCredentials(CREDENTIAL_SECRET, options.credentials)));
  let out = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(nodeRedRoot(), 'red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    },
  );
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited early:\n${out}`);
    try {
      const res = await fetch(`${url}${options.readyPath ?? '/settings'}`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Node-RED did not start in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    userDir,
    pid: child.pid ?? 0,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
