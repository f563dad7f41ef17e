#!/usr/bin/env node
// `npm start`: the local OctoEverywhere simulator with a printer printing in a loop (Gadget warning
// and all), and a real Node-RED with this package and a demo flow connected to it. The editor is on
// 127.0.0.1:1880 (PORT); the user dir is .node-red/ (git-ignored; OE_DEMO_USER_DIR). Ctrl-C stops both.
//
// The simulator makes new credentials on every start, so each start re-points the demo's config node
// at it through the admin API, but only while that node still points at the simulator an earlier start
// deployed (scripts/demo-setup.js): a printer the user connected there is never touched.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const setup = require('./demo-setup');

const root = path.resolve(__dirname, '..');
const userDir = path.resolve(process.env.OE_DEMO_USER_DIR || path.join(root, '.node-red'));
const port = Number(process.env.PORT) || 1880;
const TIME_SCALE = Number(process.env.OE_DEMO_TIME_SCALE) || 30;

async function main() {
  if (!fs.existsSync(path.join(root, 'dist', 'simulator', 'index.js'))) {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit' });
  }
  const { startSimulator } = require(path.join(root, 'dist', 'simulator'));
  const sim = await startSimulator({ timeScale: TIME_SCALE });
  const printer = sim.printers[0];
  loopPrints(sim, printer);
  const connection = sim.createAppConnection(printer, { appId: 'devtest' });

  const { migrated } = setup.prepareUserDir(userDir, { root, port });
  if (migrated)
    console.log(`Re-encrypted ${path.join(userDir, 'flows_cred.json')} with this user dir's own credential secret (earlier versions used a published one).`);
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
    sim.close().finally(() => process.exit(stopping ? 0 : (code ?? 0)));
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

/**
 * Deploys the demo flow on first start; afterwards re-points only the config nodes that still point at
 * the simulator an earlier start deployed, and says which it left and why.
 */
async function connectDemo(editor, sim, c) {
  const current = await (await fetch(`${editor}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json();
  const plan = setup.planDeploy({
    flows: current.flows,
    record: setup.readRecord(userDir),
    credentials: setup.storedCredentials(userDir),
    demoFlow: JSON.parse(fs.readFileSync(path.join(__dirname, 'demo-flow.json'), 'utf8')),
    target: {
      serviceUrl: sim.serviceUrl,
      printerName: c.printername,
      connectionId: c.id,
      credentials: {
        url: c.url,
        authBasicHttpUser: c.authbasichttpuser,
        authBasicHttpPassword: c.authbasichttppassword,
        authBearerToken: c.authBearerToken,
        appApiToken: c.appApiToken,
      },
    },
  });
  for (const { id, name, why } of plan.left) {
    console.log(
      `Left config node "${name}" (${id}) as it is: ${why}. npm start re-points a config node only while it points at a simulator npm start deployed.`,
    );
  }
  if (!plan.flows) {
    console.log(
      `No demo printer to connect to the simulator: your flow is left as it is. To get the demo printer back, delete the config node "${setup.DEMO_CONNECTION}" in the editor (its secrets go with it), deploy and start again.`,
    );
    return;
  }
  const res = await fetch(`${editor}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify({ flows: plan.flows, rev: current.rev }),
  });
  if (!res.ok) throw new Error(`Deploying the demo flow failed: HTTP ${res.status}`);
  setup.writeRecord(userDir, setup.recordOf(sim.serviceUrl, c));
  console.log(`Connected ${plan.repointed.map((id) => `"${id}"`).join(', ')} to this start's simulator.`);
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
