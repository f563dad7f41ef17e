// Shared set-up of the status-poll tests (on test/helpers/simulator.ts's manual-clock simulator): the
// flow, recording both outputs, and stepping time so that every poll has finished before simulated
// time moves on (polls are real HTTP; only time is simulated).
import type { NodeMessage, NodeInitializer } from 'node-red';
import type { TestFlows } from 'node-red-node-test-helper';
import { helper, nodeModule } from '../helpers/nodes';
import { advanceInSteps, type ClockedSimulator, credentialsOf } from '../helpers/simulator';
import type { Simulator } from '../../src/simulator';
import type { StatusPoller } from '../../src/nodes/shared/poller';
import type { AppConnectionCredentials, AppConnectionNode } from '../../src/nodes/shared/types';
import type { Clock, PrinterEvent } from '../../src/client';
import type { LiveFeed } from '../../src/nodes/shared/live-feed';

export const configModule = nodeModule('octoeverywhere-app-connection') as NodeInitializer;
export const pollModule = nodeModule('octoeverywhere-status-poll') as NodeInitializer;
export const OWN = 'node-red-contrib-octoeverywhere/octoeverywhere-status-poll:';
export const COMMON = 'node-red-contrib-octoeverywhere/octoeverywhere-app-connection:';

/** Config node credentials of a new App Connection (or the Shared Connection when `shared`) to printer 0. */
export function credentials(sim: Simulator, shared = false): { creds: AppConnectionCredentials; id: string } {
  const keys = shared ? sim.sharedConnection(0) : sim.createAppConnection(0);
  return { id: keys.id, creds: credentialsOf(keys) };
}

export interface PollNodeSpec {
  id: string;
  interval?: number;
  output?: 'change' | 'always';
  bedCooldownC?: number;
}

/** The config node c1 and status-poll nodes, each wired to helper nodes `<id>-status` and `<id>-events`. */
export function flow(sim: Simulator, nodes: PollNodeSpec[] = [{ id: 'p1' }]): TestFlows {
  const out: Array<Record<string, unknown>> = [{ id: 'c1', type: 'octoeverywhere-app-connection', printerName: 'Voron 2.4', serviceUrl: sim.serviceUrl }];
  for (const n of nodes) {
    out.push(
      {
        id: n.id,
        type: 'octoeverywhere-status-poll',
        connection: 'c1',
        interval: n.interval ?? 10,
        output: n.output ?? 'change',
        bedCooldownC: n.bedCooldownC ?? 40,
        wires: [[`${n.id}-status`], [`${n.id}-events`]],
      },
      { id: `${n.id}-status`, type: 'helper' },
      { id: `${n.id}-events`, type: 'helper' },
    );
  }
  return out as TestFlows;
}

/** Loads the config node and the status-poll `nodes` on a new connection, and lets the first poll finish. */
export async function loadPolls(rig: ClockedSimulator, nodes?: PollNodeSpec[], shared = false): Promise<{ poller: StatusPoller; id: string }> {
  const { creds, id } = credentials(rig.sim, shared);
  await helper.load([configModule, pollModule], flow(rig.sim, nodes), { c1: creds });
  const poller = pollerOf(rig.clock);
  await settle(poller);
  return { poller, id };
}

export interface Recorded {
  status: Array<Record<string, unknown>>;
  events: PrinterEvent[];
  nodeStatus: Array<{ fill?: string; shape?: string; text?: string }>;
  errors: unknown[];
  warnings: unknown[];
}

/** Records both outputs, every node status, and the node's errors and warnings. */
export function record(id: string): Recorded {
  const rec: Recorded = { status: [], events: [], nodeStatus: [], errors: [], warnings: [] };
  helper.getNode(`${id}-status`).on('input', (msg: NodeMessage) => rec.status.push(msg.payload as Record<string, unknown>));
  helper.getNode(`${id}-events`).on('input', (msg: NodeMessage) => rec.events.push(msg.payload as PrinterEvent));
  const node = helper.getNode(id) as unknown as {
    status: (s: Recorded['nodeStatus'][number]) => void;
    error: (e: unknown, m?: unknown) => void;
    warn: (w: unknown) => void;
  };
  const { status, error, warn } = node;
  node.status = (s) => {
    rec.nodeStatus.push(s);
    status.call(node, s);
  };
  node.error = (e, m) => {
    rec.errors.push(e);
    error.call(node, e, m);
  };
  node.warn = (w) => {
    rec.warnings.push(w);
    warn.call(node, w);
  };
  return rec;
}

/** The poller config node c1 owns (on the runtime's clock, `clock`). */
export function pollerOf(_clock: Clock): StatusPoller {
  return (helper.getNode('c1') as unknown as AppConnectionNode).poller();
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Lets the poll in flight finish and its messages reach the helper nodes. */
export async function settle(poller: StatusPoller): Promise<void> {
  await poller.settled();
  for (let i = 0; i < 3; i++) await turn();
}

/** Moves simulated time in 1 s steps, letting each poll finish before time moves on. */
export function step(rig: ClockedSimulator, poller: StatusPoller, ms: number, until?: () => boolean): Promise<void> {
  return advanceInSteps(rig.clock, ms, () => settle(poller), until);
}

/** Counts calls of a method, with the simulated time of each. */
export function countCalls<T extends object, K extends keyof T>(target: T, key: K, clock: { now(): number }): { times: number[]; restore(): void } {
  const original = target[key];
  const times: number[] = [];
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    times.push(clock.now());
    return (original as unknown as (...a: unknown[]) => unknown).apply(this, args);
  };
  target[key] = wrapped as T[K];
  return {
    times,
    restore: () => {
      target[key] = original;
    },
  };
}

// ---- live and auto modes (status-live*.test.ts) ---------------------------------------------------

export type Mode = 'poll' | 'live' | 'auto';

/** Config node `c1` (with `config` added) and a status node per entry, each wired to helpers `<id>-status` and `<id>-events`. */
export function liveFlow(
  serviceUrl: string,
  nodes: Array<{ id: string; mode: Mode; readings?: 'push' | 'interval' }>,
  config: Record<string, unknown> = {},
): TestFlows {
  const out: Array<Record<string, unknown>> = [{ id: 'c1', type: 'octoeverywhere-app-connection', printerName: 'Voron 2.4', serviceUrl, ...config }];
  for (const n of nodes) {
    out.push(
      {
        id: n.id,
        type: 'octoeverywhere-status-poll',
        connection: 'c1',
        interval: 10,
        output: 'change',
        bedCooldownC: 40,
        mode: n.mode,
        ...(n.readings ? { readings: n.readings } : {}),
        version: 2,
        wires: [[`${n.id}-status`], [`${n.id}-events`]],
      },
      { id: `${n.id}-status`, type: 'helper' },
      { id: `${n.id}-events`, type: 'helper' },
    );
  }
  return out as TestFlows;
}

const configNode = (): AppConnectionNode => helper.getNode('c1') as unknown as AppConnectionNode;
/** The poller and the live feed of config node `c1`. */
export const livePoller = (): StatusPoller => configNode().poller();
export const liveFeed = (): LiveFeed => configNode().live();
export const eventNames = (events: PrinterEvent[]): string[] => events.map((e) => e.event);

/** Lets the poll in flight and the socket's frames arrive (real loopback I/O; only time is simulated). */
export async function drainLive(): Promise<void> {
  await settle(livePoller());
  await new Promise((resolve) => setTimeout(resolve, 5));
  await settle(livePoller());
}

/** Moves the clock a second at a time, draining after each, for `ms` or until `done()`. */
export async function runLive(clock: { advance(ms: number): Promise<unknown> }, ms: number, done?: () => boolean): Promise<void> {
  for (let t = 0; t < ms; t += 1000) {
    await clock.advance(1000);
    await drainLive();
    if (done?.()) return;
  }
}

export { helper };
