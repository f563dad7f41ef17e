// The part every node shares: finding its App Connection, handling each input message so that it ends
// in exactly one send-or-error and one done(), and cancelling what is in flight when the node closes.
import { OctoEverywhereError, type OctoEverywhereClient } from '../../client';
import { fail } from './failure';
import type { AppConnectionNode, Done, Node, NodeAPI, NodeMessageInFlow, Send } from './types';

/** Catalog keys shared by all nodes live in the config node's catalog. */
export const COMMON = 'node-red-contrib-octoeverywhere/octoeverywhere-app-connection:';

/** Every admin route of the package lives under this, as `/octoeverywhere/<area>/…` (RED.httpAdmin). */
export const ADMIN_ROUTES = '/octoeverywhere';

export interface InputContext {
  client: OctoEverywhereClient;
  connection: AppConnectionNode;
  /** Aborted when the node closes: pass it to every request. */
  signal: AbortSignal;
}

export type InputHandler<M extends NodeMessageInFlow = NodeMessageInFlow> = (msg: M, send: Send, ctx: InputContext) => Promise<void>;

/**
 * The App Connection config node a node uses (property `connection`). Without one, the node shows
 * a red status and every message fails with OE_NO_CONNECTION.
 */
export function useConnection(RED: NodeAPI, node: Node, connectionId: string | undefined): AppConnectionNode | undefined {
  const connection = connectionId ? (RED.nodes.getNode(connectionId) as AppConnectionNode | null) : null;
  if (!connection || typeof connection.client !== 'function') {
    node.status({ fill: 'red', shape: 'ring', text: RED._(`${COMMON}status.no-connection`) });
    return undefined;
  }
  return connection;
}

/**
 * Registers the input handler. Every message ends exactly once: the handler's sends and done(), or
 * one error (Catch nodes get its code) and a red status. Messages still running when the node
 * closes are cancelled and ended quietly, since their flow is gone.
 */
export function onInput<M extends NodeMessageInFlow = NodeMessageInFlow>(
  RED: NodeAPI,
  node: Node,
  connection: AppConnectionNode | undefined,
  handler: InputHandler<M>,
): void {
  const inFlight = new Set<AbortController>();
  let closing = false;

  node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
    if (!connection) {
      fail(node, new OctoEverywhereError('OE_NO_CONNECTION', RED._(`${COMMON}errors.no-connection`)), done);
      return;
    }
    let client: OctoEverywhereClient;
    try {
      client = connection.client();
    } catch (err) {
      fail(node, err, done);
      return;
    }
    const controller = new AbortController();
    inFlight.add(controller);
    handler(msg as M, send, { client, connection, signal: controller.signal }).then(
      () => done(),
      (err: unknown) => {
        if (closing && controller.signal.aborted) done();
        else fail(node, err, done);
      },
    ).finally(() => inFlight.delete(controller));
  });

  node.on('close', () => {
    closing = true;
    for (const controller of inFlight) controller.abort();
    inFlight.clear();
  });
}
