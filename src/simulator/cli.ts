#!/usr/bin/env node
// `octoeverywhere-simulator`: runs the local OctoEverywhere for demos and manual testing, and prints
// the values a Node-RED user would paste in (local demo: printing credentials is intended here).
import { parseArgs } from 'node:util';
import { startSimulator } from './index';

const USAGE = `Usage: octoeverywhere-simulator [--port N] [--time-scale X] [--bare]
  --port N         listen on 127.0.0.1:N (default: a free port)
  --time-scale X   simulated seconds per real second (default 1; 60 = a 2 h print in 2 min)
  --bare           answer the App APIs in the documented bare shape instead of production's envelope`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'time-scale': { type: 'string' },
      bare: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  const timeScale = values['time-scale'] === undefined ? 1 : Number(values['time-scale']);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !(timeScale > 0)) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }

  const sim = await startSimulator({ port, timeScale, appApiShape: values.bare ? 'bare' : 'enveloped' });
  console.log(`OctoEverywhere simulator on ${sim.serviceUrl} (stands in for https://octoeverywhere.com)`);
  console.log(`Portal: ${sim.portalUrl}?appid=devtest`);
  console.log('Relay hosts are *.localhost: browsers resolve them; for Node clients map *.localhost to 127.0.0.1.\n');
  for (const printer of sim.printers) {
    const app = sim.createAppConnection(printer, { appId: 'devtest', octoPrintApiKeyAppName: 'Node-RED' });
    const shared = sim.sharedConnection(printer);
    console.log(`${printer.name} (${printer.kind}) — Printer ID ${printer.printerId}, LAN ${printer.url}`);
    console.log(`  App Connection ${app.id}`);
    console.log(`    url                ${app.url}`);
    console.log(`    appApiToken        ${app.appApiToken}`);
    console.log(`    basic user/pass    ${app.authbasichttpuser} / ${app.authbasichttppassword}`);
    console.log(`    authBearerToken    ${app.authBearerToken}`);
    if (app.octoPrintApiKey) console.log(`    octoPrintApiKey    ${app.octoPrintApiKey}`);
    if (printer.mqtt) {
      const key = encodeURIComponent(app.authBearerToken);
      console.log(`    MQTT proxy         ${app.url.replace(/^http/, 'ws')}/octoeverywhere-command-api/proxy/mqtt?oe_api_key=${key}`);
      console.log(`    serial number      ${printer.mqtt.serialNumber}`);
    }
    console.log(`  Shared Connection  ${shared.url}`);
    console.log(`    basic user/pass    ${shared.authBasicHttpUser} / ${shared.authBasicHttpPassword}`);
    console.log(`    authBearerToken    ${shared.authBearerToken}\n`);
  }
  console.log(`Gadget Failure Detection API: ${sim.gadgetApi.url} (service URL of the Gadget API key config node)`);
  console.log(`    developer API key  ${sim.gadgetApi.addKey()}\n`);
  console.log('Ctrl-C to stop.');

  const stop = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    sim.close().then(
      () => console.log('Simulator closed.'),
      (err: unknown) => {
        console.error(err);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
