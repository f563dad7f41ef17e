#!/usr/bin/env node
// `npm start`: the local OctoEverywhere simulator with a printer printing in a loop (Gadget warning
// and all), and a real Node-RED with this package and a demo flow connected to it. The editor is on
// 127.0.0.1:1880; the user dir is .node-red/ (git-ignored). Ctrl-C stops both.
//
// The simulator makes new credentials on every start, so each start re-points the demo's config node
// (id DEMO_CONNECTION) at it through the admin API; the rest of the user's flow is left as it is.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const userDir = path.join(root, '.node-red');
const port = Number(process.env.PORT) || 1880;
const TIME_SCALE = Number(process.env.OE_DEMO_TIME_SCALE) || 30;
const DEMO_CONNECTION = 'oe-demo-connection';

async function main() {
  if (!fs.existsSync(path.join(root, 'dist', 'simulator', 'index.js'))) {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit' });
  }
  const { startSimulator } = require(path.join(root, 'dist', 'simulator'));
  const sim = await startSimulator({ timeScale: TIME_SCALE });
  const printer = sim.printers[0];
  loopPrints(sim, printer);
  const connection = sim.createAppConnection(printer, { appId: 'devtest' });

  prepareUserDir();
  const nodeRedDir = path.dirname(require.resolve('node-red/package.json', { paths: [root] }));
  const settings = path.join(userDir, 'settings.js');
  const child = spawn(process.execPath, [path.join(nodeRedDir, 'red.js'), '--userDir', userDir, '--settings', settings], { stdio: 'inherit' });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGINT');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code) => {
    sim.close().finally(() => process.exit(stopping ? 0 : code ?? 0));
  });

  const editor = `http://127.0.0.1:${port}`;
  await waitFor(`${editor}/settings`, () => child.exitCode !== null);
  await connectDemo(editor, sim, connection);
  console.log(`\nOctoEverywhere demo: editor ${editor}/  ·  simulated printer "${printer.name}" printing at ${TIME_SCALE}× speed`);
  console.log(`Simulator (stands in for octoeverywhere.com): ${sim.serviceUrl}  ·  portal ${sim.portalUrl}?appid=devtest`);
  console.log(`Live page: ${editor}/octoeverywhere-demo  ·  Ctrl-C stops both.\n`);
}

/** Prints forever: a new print after each cool-down, with a Gadget warning partway through. */
function loopPrints(sim, printer) {
  if (typeof printer.setLoop === 'function') printer.setLoop(true);
  printer.on('event', (event) => {
    if (event.EventType === 1) {
      // Warn at about 40 % of the default 2 h print, then look good again a little later.
      sim.clock.setTimeout(() => printer.scriptGadget('warn'), 48 * 60 * 1000);
      sim.clock.setTimeout(() => printer.scriptGadget('good'), 60 * 60 * 1000);
    }
  });
  printer.startPrint('benchy.gcode');
}

function prepareUserDir() {
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  // Node-RED loads the packages its user dir lists from its node_modules: link this one there.
  const link = path.join(userDir, 'node_modules', 'node-red-contrib-octoeverywhere');
  if (!fs.existsSync(link)) fs.symlinkSync(root, link, 'dir');
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({ name: 'octoeverywhere-demo', private: true, dependencies: { 'node-red-contrib-octoeverywhere': '*' } }, null, 2),
  );
  fs.writeFileSync(
    path.join(userDir, 'settings.js'),
    `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  flowFile: 'flows.json',
  credentialSecret: 'octoeverywhere-local-demo',
  editorTheme: { tours: false },
  // A local demo: no update checks or usage reports leave this machine, and no consent prompt.
  telemetry: { enabled: false },
};
`,
  );
}

/** Deploys the demo flow on first start; afterwards only re-points its config node at this simulator. */
async function connectDemo(editor, sim, c) {
  const current = await (await fetch(`${editor}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json();
  const credentials = {
    url: c.url,
    authBasicHttpUser: c.authbasichttpuser,
    authBasicHttpPassword: c.authbasichttppassword,
    authBearerToken: c.authBearerToken,
    appApiToken: c.appApiToken,
  };
  let flows = current.flows;
  const demo = flows.find((n) => n.id === DEMO_CONNECTION);
  if (!demo) {
    if (flows.length > 0) {
      console.log('The flow has no demo connection (you removed it): leaving your flow as it is.');
      return;
    }
    flows = JSON.parse(fs.readFileSync(path.join(__dirname, 'demo-flow.json'), 'utf8'));
  }
  flows = flows.map((n) =>
    n.id === DEMO_CONNECTION ? { ...n, serviceUrl: sim.serviceUrl, printerName: c.printername, connectionId: c.id, credentials } : n,
  );
  const res = await fetch(`${editor}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify({ flows, rev: current.rev }),
  });
  if (!res.ok) throw new Error(`Deploying the demo flow failed: HTTP ${res.status}`);
}

async function waitFor(url, gaveUp) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !gaveUp()) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('Node-RED did not start.');
}

main().catch((err) => {
  console.error(err && err.message ? err.message : err);
  process.exit(1);
});
