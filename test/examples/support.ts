// Shared set-up of the example-flow tests: reading the shipped flows, pointing them at local stand-ins
// (the simulator for OctoEverywhere, a capture server for the push service; the MQTT broker is
// test/helpers/mosquitto.ts), the core nodes and Dashboard 2 stubs they need, and a manual clock for the pollers.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { NodeInitializer } from 'node-red';
import { coreNode, helper, nodeModule } from '../helpers/nodes';
import { watchSecret } from '../helpers/secrets';
import { advanceInSteps, type ClockedSimulator, credentialsOf } from '../helpers/simulator';
import type { Simulator } from '../../src/simulator';
import type { AppConnectionCredentials, AppConnectionNode } from '../../src/nodes/shared/types';
import { generateWebhookToken } from '../../src/client';

export const ROOT = path.resolve(__dirname, '..', '..');
export const EXAMPLES_DIR = path.join(ROOT, 'examples');
export const DEMO_FLOW = path.join(ROOT, 'scripts', 'demo-flow.json');

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  wires?: string[][];
  [key: string]: unknown;
}

/** Per node id: the config nodes' connection credentials, the webhook nodes' tokens, the Gadget API keys. */
export type Credentials = Record<string, AppConnectionCredentials | { token: string } | { apiKey: string }>;

/** Our node types, as package.json registers them. */
export function ourTypes(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  return Object.keys(pkg['node-red'].nodes);
}

export function exampleFiles(): string[] {
  return fs
    .readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function readFlow(file: string): FlowNode[] {
  const flow: unknown = JSON.parse(fs.readFileSync(path.isAbsolute(file) ? file : path.join(EXAMPLES_DIR, file), 'utf8'));
  if (!Array.isArray(flow)) throw new Error(`${file} is not a JSON array of nodes`);
  return flow as FlowNode[];
}

// ---- the nodes a flow needs in node-red-node-test-helper ------------------------------------------

/** Core node files by the types they register (those the examples use). */
export const CORE_FILES: Record<string, string> = {
  inject: 'common/20-inject.js',
  debug: 'common/21-debug.js',
  catch: 'common/25-catch.js',
  comment: 'common/90-comment.js',
  function: 'function/10-function.js',
  switch: 'function/10-switch.js',
  change: 'function/15-change.js',
  template: 'function/80-template.js',
  rbe: 'function/rbe.js',
  'mqtt in': 'network/10-mqtt.js',
  'mqtt out': 'network/10-mqtt.js',
  'mqtt-broker': 'network/10-mqtt.js',
  'http in': 'network/21-httpin.js',
  'http response': 'network/21-httpin.js',
  'http request': 'network/21-httprequest.js',
};

export const DASHBOARD_CONFIG_TYPES = ['ui-base', 'ui-theme', 'ui-page', 'ui-group'];
export const DASHBOARD_WIDGET_TYPES = ['ui-text', 'ui-chart', 'ui-template', 'ui-button'];

/**
 * Stand-ins for @flowfuse/node-red-dashboard (not a dependency of ours): the same type names, so the
 * example deploys as it would with the real package. Widgets accept messages (tests listen with
 * `on('input')`); a button sends its configured payload when it receives a message, as a click would.
 */
export const dashboardStubs: NodeInitializer = (RED) => {
  for (const type of DASHBOARD_CONFIG_TYPES) {
    RED.nodes.registerType(type, function (this: unknown, def: object) {
      RED.nodes.createNode(this as never, def as never);
    } as never);
  }
  for (const type of DASHBOARD_WIDGET_TYPES) {
    RED.nodes.registerType(type, function (
      this: { on: (e: string, f: (...a: never[]) => void) => void; send: (m: object) => void },
      def: { payload?: string },
    ) {
      RED.nodes.createNode(this as never, def as never);
      const node = this;
      node.on('input', (_msg: never, _send: never, done: () => void) => {
        if (type === 'ui-button') node.send({ payload: def.payload, topic: 'topic' });
        done();
      });
    } as never);
  }
};

/** Everything a flow's node types need: ours (from src), the core nodes and the dashboard stubs. */
export function modulesFor(flow: FlowNode[]): NodeInitializer[] {
  // The config node first, so that user nodes find it registered.
  const modules = new Set<NodeInitializer>([nodeModule('octoeverywhere-app-connection') as NodeInitializer]);
  const ours = new Set(ourTypes());
  for (const n of flow) {
    if (ours.has(n.type)) modules.add(nodeModule(n.type) as NodeInitializer);
    else if (CORE_FILES[n.type]) modules.add(coreNode(CORE_FILES[n.type]) as unknown as NodeInitializer);
    else if (n.type.startsWith('ui-')) modules.add(dashboardStubs);
  }
  return [...modules];
}

// ---- pointing a flow at local stand-ins ---------------------------------------------------------

export interface Targets {
  sim: Simulator;
  /** Push-service requests (http request nodes) go here instead of ntfy.sh. */
  captureUrl: string;
  brokerPort?: number;
  /** App Connection webhooks register this instead of the placeholder public URL. */
  publicUrl?: string;
}

/**
 * A copy of the flow ready for the test: every App Connection filled from a new simulator App
 * Connection, MQTT at the local broker, push requests at the capture server, webhooks with a known
 * token. Returns the flow and the credentials to load it with.
 */
export function prepare(flow: FlowNode[], t: Targets): { flow: FlowNode[]; credentials: Credentials; tokens: Record<string, string> } {
  const credentials: Credentials = {};
  const tokens: Record<string, string> = {};
  const out = flow.map((original) => {
    const n: FlowNode = { ...original };
    switch (n.type) {
      case 'octoeverywhere-app-connection': {
        const k = t.sim.createAppConnection(0);
        Object.assign(n, { serviceUrl: t.sim.serviceUrl, printerName: k.printername, connectionId: k.id });
        credentials[n.id] = credentialsOf(k);
        break;
      }
      case 'octoeverywhere-gadget-api': {
        const apiKey = t.sim.gadgetApi.addKey();
        watchSecret(apiKey);
        n.serviceUrl = t.sim.gadgetApi.url;
        credentials[n.id] = { apiKey };
        break;
      }
      case 'mqtt-broker':
        Object.assign(n, { broker: '127.0.0.1', port: String(t.brokerPort ?? 1) });
        break;
      case 'http request':
        n.url = `${t.captureUrl}/${n.id}`;
        break;
      case 'octoeverywhere-notification-webhook':
        tokens[n.id] = generateWebhookToken();
        credentials[n.id] = { token: tokens[n.id] };
        if (n.mode !== 'user' && t.publicUrl) n.publicUrl = t.publicUrl;
        break;
      default:
    }
    return n;
  });
  return { flow: out, credentials, tokens };
}

// ---- the capture server: the push service (ntfy) stand-in ---------------------------------------

export interface Captured {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface CaptureServer {
  url: string;
  requests: Captured[];
  close(): Promise<void>;
}

export async function startCapture(): Promise<CaptureServer> {
  const requests: Captured[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"captured"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- Node-RED's httpNode on a real port ------------------------------------------------------------

export interface NodeServer {
  /** Where http in and webhook routes answer, known before the flow loads (App Connection webhooks register it). */
  url: string;
  /** A node initializer that hands this server the runtime's RED.httpNode. */
  attach: NodeInitializer;
  close(): Promise<void>;
}

/** The helper serves only the admin app; this serves RED.httpNode (where http in and webhook routes live). */
export async function startNodeServer(): Promise<NodeServer> {
  let app: http.RequestListener | undefined;
  const server = http.createServer((req, res) => {
    if (app) app(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    attach: (RED) => {
      app = RED.httpNode as unknown as http.RequestListener;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- stepping the manual clock (test/helpers/simulator.ts) with the flow's pollers ------------------

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Lets every poll in flight finish (the flow's config nodes' pollers) and their messages travel. */
export async function settle(_rig: ClockedSimulator, flow: FlowNode[]): Promise<void> {
  for (const n of flow) {
    if (n.type !== 'octoeverywhere-app-connection') continue;
    const config = helper.getNode(n.id) as unknown as AppConnectionNode | null;
    if (config) await config.poller().settled();
  }
  for (let i = 0; i < 3; i++) await turn();
}

/** Moves simulated time in 1 s steps, each poll finishing before time moves on; stops early once `until()`. */
export function step(rig: ClockedSimulator, flow: FlowNode[], ms: number, until?: () => boolean): Promise<void> {
  return advanceInSteps(rig.clock, ms, () => settle(rig, flow), until);
}

/**
 * Waits for real I/O that the simulated clock does not drive (a snapshot fetched, an MQTT message
 * delivered, a push request received); fails with `what` after `timeoutMs`.
 */
export async function eventually(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function isJpeg(body: Buffer): boolean {
  return body.length > 100 && body[0] === 0xff && body[1] === 0xd8 && body[body.length - 2] === 0xff && body[body.length - 1] === 0xd9;
}

export { helper };
