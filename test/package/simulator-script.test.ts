// `npm run simulator` in a clone: the simulator CLI starts (building first if needed), prints where it
// listens, answers there, and stops on Ctrl-C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('package: npm run simulator', function () {
  this.timeout(120_000);

  it('starts the simulator CLI, which answers at the address it prints and stops on SIGINT', async () => {
    // Its own process group, so that SIGINT reaches npm's shell and the simulator alike, as Ctrl-C does.
    const child = spawn(npm, ['run', 'simulator', '--', '--port', '0', '--time-scale', '60'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const portal = await new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const m = /Portal: (http:\/\/127\.0\.0\.1:\d+\S*)/.exec(out);
          if (m && /Ctrl-C to stop/.test(out)) resolve(m[1]);
        };
        child.stdout.on('data', check);
        void exited.then(() => reject(new Error(`npm run simulator exited early:\n${out}`)));
      });
      assert.match(out, /OctoEverywhere simulator on http:\/\/127\.0\.0\.1:\d+/);
      assert.match(out, /App Connection /, "it lists the printers' App Connections");
      const res = await fetch(portal);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /<html/i);
    } finally {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGINT');
    }
    await exited;
    assert.match(out, /Simulator closed\./);
  });
});
