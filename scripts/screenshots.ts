// `npm run screenshots`: the README's pictures, taken from the real `npm start` demo in Debian's
// Chromium: the editor with the demo flow and its debug output, the printer dialog, and the live page.
// Writes docs/*.png. Needs /usr/bin/chromium (apt-get install chromium).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../test/e2e/support';
import { freePort, tempDir } from '../test/helpers/node-red-process';

const ROOT = path.resolve(__dirname, '..');
const DOCS = path.join(ROOT, 'docs');

async function main(): Promise<void> {
  const port = await freePort();
  // A fresh user dir (unless one is given): the editor as a new clone shows it, not as an earlier
  // demo's saved flows left it.
  const own = process.env.OE_DEMO_USER_DIR ? undefined : tempDir('oe-screenshots-');
  const demo = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.js')], {
    env: { ...process.env, PORT: String(port), OE_DEMO_TIME_SCALE: '60', ...(own ? { OE_DEMO_USER_DIR: own } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stopped = new Promise((resolve) => demo.once('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      demo.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('Live page:')) resolve();
      });
      demo.once('exit', () => reject(new Error('the demo stopped before it was ready')));
    });
    // Let the print run a little, so the debug sidebar and the live page have something to show.
    await new Promise((r) => setTimeout(r, 15_000));
    const editor = `http://127.0.0.1:${port}`;
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${editor}/`);
      await page.waitForSelector('.red-ui-flow-node-group, g.red-ui-flow-node', { timeout: 30_000 });
      await page.evaluate(() => (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('debug'));
      await page.waitForSelector('.red-ui-debug-msg', { timeout: 30_000 });
      await page.waitForTimeout(2_000);
      fs.mkdirSync(DOCS, { recursive: true });
      await page.screenshot({ path: path.join(DOCS, 'editor.png') });

      const live = await browser.context.newPage();
      await live.setViewportSize({ width: 900, height: 1100 });
      await live.goto(`${editor}/octoeverywhere-demo`);
      await live.waitForTimeout(6_000);
      await live.screenshot({ path: path.join(DOCS, 'demo-live-page.png') });
    } finally {
      await browser.close();
    }
  } finally {
    demo.kill('SIGINT');
    await stopped;
    if (own) fs.rmSync(own, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
