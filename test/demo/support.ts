// Runs `npm start` (scripts/start.js) for real in a user dir of the test's own, as the demo tests and
// the Chromium test of the demo comment's steps do.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../helpers/node-red-process';

const ROOT = path.resolve(__dirname, '..', '..');

export interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

export interface Demo {
  url: string;
  /** The simulator this start made (the line it prints). */
  serviceUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/** Runs `node scripts/start.js` on a free port with `userDir`, until it prints that the demo is ready. */
export async function startDemo(userDir: string): Promise<Demo> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), OE_DEMO_USER_DIR: userDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await exited;
  };
  const deadline = Date.now() + 60_000;
  while (!/Live page:/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`npm start did not get ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = /Simulator \(stands in for octoeverywhere\.com\): (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
  assert.ok(m, out);
  return { url: `http://127.0.0.1:${port}`, serviceUrl: m[1], output: () => out, stop };
}

export async function flowsOf(url: string): Promise<{ flows: FlowNode[]; rev: string }> {
  return (await (await fetch(`${url}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json()) as { flows: FlowNode[]; rev: string };
}
