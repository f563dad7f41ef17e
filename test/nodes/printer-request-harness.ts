// A flow for one OctoEverywhere node under test, against the simulator: config node → node under test →
// helper node, with a Catch node for its errors. Every message sent is awaited until it comes out of
// one of the two, so tests can count messages in against messages out plus errors.
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { coreNode, helper, nodeModule } from '../helpers/nodes';
import { secretsIn } from '../helpers/secrets';
import { credentialsOf } from '../helpers/simulator';
import type { Simulator } from '../../src/simulator';
import type { AppConnectionCredentials } from '../../src/nodes/shared/types';

const CATCH = coreNode('common/25-catch.js') as unknown;

export interface ErrorLike {
  code?: string;
  message: string;
  [key: string]: unknown;
}

export interface Outcome {
  msg: Record<string, unknown>;
  /** Set when the message ended in an error (Catch node). */
  error?: ErrorLike;
}

export interface Harness {
  node: Node;
  statuses: Array<{ fill?: string; shape?: string; text?: string }>;
  warnings: unknown[];
  send(msg: Record<string, unknown>): Promise<Outcome>;
  /** Messages sent / ended on the output / ended as errors. */
  counts: { in: number; out: number; errors: number };
}

export interface LoadOptions {
  type: string;
  sim: Simulator;
  /** undefined: the node has no connection configured. */
  credentials?: AppConnectionCredentials;
  node?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export async function loadFlow(options: LoadOptions): Promise<Harness> {
  // Flow nodes need a tab and a position: without them the runtime takes them for config nodes.
  const at = { z: 'f1', x: 100, y: 100 };
  const flow: Array<{ id: string; type: string; [key: string]: unknown }> = [
    { id: 'f1', type: 'tab' },
    { id: 'n1', type: options.type, connection: options.credentials ? 'c1' : '', wires: [['out']], ...at, ...options.node },
    { id: 'out', type: 'helper', ...at },
    { id: 'catch', type: 'catch', scope: ['n1'], uncaught: false, wires: [['errs']], ...at },
    { id: 'errs', type: 'helper', ...at },
  ];
  if (options.credentials) flow.push({ id: 'c1', type: 'octoeverywhere-app-connection', serviceUrl: options.sim.serviceUrl, ...options.config });
  await helper.load(
    [nodeModule('octoeverywhere-app-connection'), nodeModule(options.type), CATCH] as Parameters<typeof helper.load>[0],
    flow,
    options.credentials ? { c1: options.credentials } : {},
  );
  const node = helper.getNode('n1');
  const pending = new Map<string, (o: Outcome) => void>();
  const counts = { in: 0, out: 0, errors: 0 };
  // The statuses set while the flow started (deploy time) were recorded by the helper's spy.
  type Call = { thisValue: unknown; args: [Harness['statuses'][number]] };
  const spy = (node as unknown as { status: { getCalls(): Call[] } }).status;
  const statuses: Harness['statuses'] = spy
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0]);
  const warnings: unknown[] = [];
  // The helper emits `call:<method>` events, which Node's typings do not list.
  const spied = node as unknown as { on(event: string, fn: (call: { args: unknown[] }) => void): void };
  spied.on('call:status', (call) => statuses.push(call.args[0] as Harness['statuses'][number]));
  spied.on('call:warn', (call) => warnings.push(call.args[0]));
  const settle = (msg: Record<string, unknown>, error?: ErrorLike): void => {
    const id = String(msg._msgid);
    pending.get(id)?.({ msg, error });
    pending.delete(id);
  };
  helper.getNode('out').on('input', (msg: Record<string, unknown>) => {
    counts.out += 1;
    settle(msg);
  });
  helper.getNode('errs').on('input', (msg: Record<string, unknown>) => {
    counts.errors += 1;
    settle(msg, msg.error as ErrorLike);
  });
  let seq = 0;
  return {
    node,
    statuses,
    warnings,
    counts,
    send(msg) {
      const id = `m${(seq += 1)}`;
      counts.in += 1;
      return new Promise<Outcome>((resolve) => {
        pending.set(id, resolve);
        node.receive({ ...msg, _msgid: id });
      });
    },
  };
}

/** After each test: every message ended exactly once, and no status, warning or log line holds a secret. */
export function assertNothingLostOrLeaked(harnesses: Harness[]): void {
  for (const h of harnesses.splice(0)) {
    assert.equal(h.counts.out + h.counts.errors, h.counts.in, 'every message ends exactly once');
    assert.deepEqual(secretsIn(JSON.stringify([h.statuses, h.warnings])), []);
  }
  assert.deepEqual(secretsIn(JSON.stringify(helper.log().args)), [], 'no secret in the log');
}

export type ErrorCase = [what: string, setup: () => Promise<Harness>, code: string];

/**
 * The OctoEverywhere failures (601 to 605) a node that calls the service must end a message with,
 * each as [what, set-up that loads the node, code]. Built when the suite is declared, so the
 * simulator comes from `simulator()` at set-up time; `load(credentials?)` loads the node (default:
 * a fresh App Connection). The 606 case differs per node, so each test adds its own.
 */
export function serviceErrorCases(simulator: () => Simulator, load: (credentials?: AppConnectionCredentials) => Promise<Harness>): ErrorCase[] {
  return [
    [
      '601 printer offline',
      async () => {
        simulator().printers[0].online = false;
        return load();
      },
      'OE_601',
    ],
    [
      '602 plugin timed out',
      async () => {
        Object.assign(simulator().chaos, { errorRate: 1, errorStatus: 602 });
        return load();
      },
      'OE_602',
    ],
    [
      '603 connection removed',
      async () => {
        const k = simulator().createAppConnection(0);
        simulator().remove(k.id);
        return load(credentialsOf(k));
      },
      'OE_603',
    ],
    [
      '604 connection revoked',
      async () => {
        const k = simulator().createAppConnection(0);
        simulator().revoke(k.id);
        return load(credentialsOf(k));
      },
      'OE_604',
    ],
    [
      '605 no Supporter Perks',
      async () => {
        simulator().setSupporter(false);
        return load();
      },
      'OE_605',
    ],
  ];
}
