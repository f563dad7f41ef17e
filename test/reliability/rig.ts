// The shared rig of the reliability, fuzz and security tests: every OctoEverywhere node type in one
// flow against the simulator, in the real runtime (node-red-node-test-helper), with a Catch and a
// Complete node over all of them, so each input message can be followed to its one end (an output,
// an error, or done() without output). Also records process-level faults (unhandled rejections,
// uncaught exceptions) and every status a node shows.
import assert from 'node:assert/strict';
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { NodeAPI } from 'node-red';
import { coreNode, helper, nodeModule } from '../helpers/nodes';

type Module = (RED: NodeAPI) => void | Promise<void>;

const CATCH = coreNode('common/25-catch.js') as unknown as Module;
const COMPLETE = coreNode('common/24-complete.js') as unknown as Module;

/** Every node type of the package, config node first. */
export const NODE_TYPES = [
  'octoeverywhere-app-connection',
  'octoeverywhere-printer-request',
  'octoeverywhere-printer-command',
  'octoeverywhere-live-link',
  'octoeverywhere-webcam-snapshot',
  'octoeverywhere-status-poll',
  'octoeverywhere-notification-webhook',
] as const;

/** The node modules (loaded from src through tsx), plus Catch and Complete. */
export function modules(onRed?: (RED: NodeAPI) => void): Module[] {
  const ours = NODE_TYPES.map((t) => nodeModule(t) as Module);
  const probe: Module = (RED) => onRed?.(RED);
  return [...ours, CATCH, COMPLETE, probe];
}

/** Ids of the nodes that take input messages in the all-nodes flow. */
export const INPUT_NODES = ['req', 'cmd', 'live', 'cam', 'poll'] as const;
export type InputNode = (typeof INPUT_NODES)[number];

export interface FlowOptions {
  serviceUrl: string;
  /** Suffix for node ids and the webhook path, so several flows can be told apart (redeploys). */
  suffix?: string;
  webhookPath?: string;
  /** 'user' (default) or 'app-connection' (registers at the service; needs publicUrl). */
  webhookMode?: 'user' | 'app-connection';
  publicUrl?: string;
  pollIntervalSec?: number;
}

type FlowNode = { id: string; type: string; [key: string]: unknown };

/** One tab with every node type wired to `out`, a Catch → `errs` and a Complete → `done` over all of them. */
export function allNodesFlow(o: FlowOptions): FlowNode[] {
  const s = o.suffix ?? '';
  const at = { z: `tab${s}`, x: 100, y: 100 };
  const conn = `c1${s}`;
  const ids = [...INPUT_NODES.map((id) => `${id}${s}`), `hook${s}`];
  return [
    { id: `tab${s}`, type: 'tab', label: `reliability ${s}` },
    { id: conn, type: 'octoeverywhere-app-connection', serviceUrl: o.serviceUrl, appId: 'nodered', printerName: 'Voron 2.4' },
    { id: `req${s}`, type: 'octoeverywhere-printer-request', connection: conn, method: 'GET', path: '/printer/info', ret: 'obj', wires: [[`out${s}`]], ...at },
    { id: `cmd${s}`, type: 'octoeverywhere-printer-command', connection: conn, action: 'status', wires: [[`out${s}`]], ...at },
    { id: `live${s}`, type: 'octoeverywhere-live-link', connection: conn, expiration: 24, expirationType: 'num', wires: [[`out${s}`]], ...at },
    { id: `cam${s}`, type: 'octoeverywhere-webcam-snapshot', connection: conn, mode: 'snapshot', webcam: '', wires: [[`out${s}`]], ...at },
    {
      id: `poll${s}`,
      type: 'octoeverywhere-status-poll',
      connection: conn,
      interval: o.pollIntervalSec ?? 10,
      output: 'always',
      wires: [[`out${s}`], [`out${s}`]],
      ...at,
    },
    {
      id: `hook${s}`,
      type: 'octoeverywhere-notification-webhook',
      connection: conn,
      mode: o.webhookMode ?? 'user',
      path: o.webhookPath ?? `/oe/reliability${s}`,
      publicUrl: o.publicUrl ?? '',
      events: [],
      wires: [[`out${s}`]],
      ...at,
    },
    { id: `out${s}`, type: 'helper', ...at },
    { id: `catch${s}`, type: 'catch', scope: null, uncaught: false, wires: [[`errs${s}`]], ...at },
    { id: `errs${s}`, type: 'helper', ...at },
    { id: `complete${s}`, type: 'complete', scope: ids, uncaught: false, wires: [[`done${s}`]], ...at },
    { id: `done${s}`, type: 'helper', ...at },
  ];
}

export interface Ledger {
  /** Messages put in, by node. */
  in: Map<string, number>;
  out: number;
  errors: number;
  completes: number;
  /** Messages that ended more than once (must stay 0). */
  duplicates: string[];
  /** Error codes seen on Catch, with counts. */
  codes: Map<string, number>;
  /** Our message ids not yet ended. */
  pending(): string[];
  send(node: InputNode, msg?: Record<string, unknown>): Promise<End>;
  summary(): { in: number; out: number; errors: number; lost: number; duplicates: number };
}

export interface End {
  kind: 'out' | 'error' | 'done';
  msg: Record<string, unknown>;
  code?: string;
}

interface HelperNode {
  on(event: 'input', fn: (msg: Record<string, unknown>) => void): void;
  receive(msg: Record<string, unknown>): void;
}

/**
 * Follows messages through the loaded all-nodes flow. A message "ends" at its first output or error;
 * done() must follow exactly once (the Complete node sees a successful done, Catch an error). An
 * output followed by a later error, or two outputs, is a duplicate.
 */
export function ledger(suffix = ''): Ledger {
  const endings = new Map<string, Array<End['kind']>>();
  const waiting = new Map<string, (end: End) => void>();
  const expected = new Set<string>();
  const result: Ledger = {
    in: new Map(),
    out: 0,
    errors: 0,
    completes: 0,
    duplicates: [],
    codes: new Map(),
    pending: () => [...expected].filter((id) => !(endings.get(id) ?? []).some((k) => k === 'out' || k === 'error' || k === 'done')),
    async send(node, msg = {}) {
      const id = `rel-${node}-${Math.random().toString(36).slice(2)}`;
      expected.add(id);
      result.in.set(node, (result.in.get(node) ?? 0) + 1);
      const ended = new Promise<End>((resolve) => waiting.set(id, resolve));
      (helper.getNode(`${node}${suffix}`) as unknown as HelperNode).receive({ payload: 'x', ...msg, _msgid: id });
      return ended;
    },
    summary() {
      const total = [...result.in.values()].reduce((a, b) => a + b, 0);
      return { in: total, out: result.out, errors: result.errors, lost: result.pending().length, duplicates: result.duplicates.length };
    },
  };
  const record = (kind: End['kind'], msg: Record<string, unknown>): void => {
    const id = String(msg._msgid);
    if (!expected.has(id)) return;
    const list = endings.get(id) ?? [];
    list.push(kind);
    endings.set(id, list);
    // Per message: at most one output-or-error, and at most one done signal (complete or error).
    const outputs = list.filter((k) => k === 'out').length;
    const errors = list.filter((k) => k === 'error').length;
    const dones = list.filter((k) => k === 'done').length;
    if (outputs + errors > 1 || dones + errors > 1) result.duplicates.push(`${id}: ${list.join(',')}`);
    const code = kind === 'error' ? String((msg.error as { code?: unknown } | undefined)?.code ?? 'none') : undefined;
    if (code) result.codes.set(code, (result.codes.get(code) ?? 0) + 1);
    const resolve = waiting.get(id);
    if (resolve && kind !== 'done') {
      waiting.delete(id);
      resolve({ kind, msg, code });
    }
  };
  (helper.getNode(`out${suffix}`) as unknown as HelperNode).on('input', (msg) => {
    if (expected.has(String(msg._msgid))) result.out += 1;
    record('out', msg);
  });
  (helper.getNode(`errs${suffix}`) as unknown as HelperNode).on('input', (msg) => {
    if (expected.has(String(msg._msgid))) result.errors += 1;
    record('error', msg);
  });
  (helper.getNode(`done${suffix}`) as unknown as HelperNode).on('input', (msg) => {
    if (expected.has(String(msg._msgid))) result.completes += 1;
    record('done', msg);
    // A message that ends with done() and no output (webcam stop) resolves here.
    const id = String(msg._msgid);
    const resolve = waiting.get(id);
    if (resolve && !(endings.get(id) ?? []).includes('out')) {
      setImmediate(() => {
        if (waiting.get(id) === resolve) {
          waiting.delete(id);
          resolve({ kind: 'done', msg });
        }
      });
    }
  });
  return result;
}

/** Process-level faults while a test runs: unhandled rejections and uncaught exceptions. */
export interface FaultRecorder {
  faults: string[];
  stop(): void;
}

export function recordProcessFaults(): FaultRecorder {
  const faults: string[] = [];
  const onRejection = (reason: unknown): void => {
    faults.push(`unhandledRejection: ${reason instanceof Error ? `${reason.name} ${reason.message}` : String(reason)}`);
  };
  const onException = (err: Error): void => {
    faults.push(`uncaughtException: ${err.name} ${err.message}`);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    faults,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

export interface Status {
  fill?: string;
  shape?: string;
  text?: string;
}

/** Every status the node with `id` showed since the helper loaded (the helper spies on Node.prototype.status). */
export function statusesOf(id: string): Status[] {
  const proto = (helper as unknown as { _NodePrototype: { status: { getCalls(): Array<{ thisValue: { id?: string } | undefined; args: [Status] }> } } })
    ._NodePrototype;
  return proto.status
    .getCalls()
    .filter((c) => c.thisValue?.id === id)
    .map((c) => c.args[0]);
}

/** The last status of a node (undefined when it showed none). */
export function lastStatus(id: string): Status | undefined {
  const all = statusesOf(id);
  return all[all.length - 1];
}

/** Waits (real time, in small steps) for a condition that depends on real I/O. */
export async function until(what: string, test: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Prints a figure line the docs quote (the reporter shows console output of the run). */
export function figure(label: string, values: Record<string, unknown>): void {
  console.log(
    `      [figure] ${label}: ${Object.entries(values)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ')}`,
  );
}

/**
 * Heap in use after a full garbage collection, with the test helper's call history (its spies keep
 * every status, log and send call) cleared first, so what remains is what the nodes hold.
 */
export function heapAfterGc(): number {
  (helper as unknown as { _sandbox?: { resetHistory(): void } })._sandbox?.resetHistory();
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export interface RawReply {
  status: number | 'reset';
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One HTTP request on its own connection (no pooling, no timers left behind), with a raw path. */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string | number> = {},
): Promise<RawReply> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers });
    let settled = false;
    const finish = (reply: RawReply): void => {
      if (!settled) resolve(reply);
      settled = true;
    };
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', () => finish({ status: 'reset', body: '', headers: {} }));
    req.end(body);
  });
}
