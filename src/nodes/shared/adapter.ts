// The part every node shares: finding (and registering with) its App Connection, reading its
// settings so that a configuration error is shown one way, handling each input message so that it
// ends in exactly one send-or-error and one done(), cancelling what is in flight when the node
// closes, and the admin routes' look-up of a deployed connection.
import { setMaxListeners } from 'node:events';
import type { Request, Response } from 'express';
import { OctoEverywhereError, type OctoEverywhereClient } from '../../client';
import { asOctoEverywhereError, errorStatus, fail } from './failure';
import { status } from './status';
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

/** The deployed App Connection config node with this id, if there is one. */
export function findConnection(RED: NodeAPI, id: string | undefined): AppConnectionNode | undefined {
  const connection = id ? (RED.nodes.getNode(id) as AppConnectionNode | null) : null;
  return connection && connection.type === CONFIG_TYPE && typeof connection.register === 'function' ? connection : undefined;
}

const CONFIG_TYPE = 'octoeverywhere-app-connection';

/**
 * The App Connection config node a node uses (property `connection`), registered with it until the
 * node closes. Without one, the node shows a red status and every message fails with OE_NO_CONNECTION.
 */
export function useConnection(RED: NodeAPI, node: Node, connectionId: string | undefined): AppConnectionNode | undefined {
  const connection = findConnection(RED, connectionId);
  if (!connection) {
    node.status(status.error(RED._(`${COMMON}status.no-connection`)));
    return undefined;
  }
  connection.register(node);
  node.on('close', () => connection.deregister(node));
  return connection;
}

/**
 * A node's settings, read once at deploy: a configuration error shows as a red ring with its code
 * (never a throw from the constructor) and is returned, so every message then fails with it.
 */
export function configured<T>(node: Node, read: () => T): T | OctoEverywhereError {
  try {
    return read();
  } catch (err) {
    const e = asOctoEverywhereError(err);
    errorStatus(node, e);
    return e;
  }
}

export interface Deployed {
  connection: AppConnectionNode;
  client: OctoEverywhereClient;
}

/**
 * The one handler of the admin routes that ask a deployed connection's printer (`:connectionId`):
 * 404 OE_NOT_DEPLOYED or 409 (its settings cannot be used) before anything is asked; `answer`'s
 * result as JSON; the request to the printer aborted when the editor gives up; a failure as its code
 * and our own message only.
 */
export function deployedRoute(RED: NodeAPI, answer: (deployed: Deployed, signal: AbortSignal) => Promise<unknown>): (req: Request, res: Response) => void {
  return (req, res) => {
    const deployed = deployedClient(RED, req, res);
    if (!deployed) return;
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    answer(deployed, abort.signal).then(
      (body) => {
        if (!res.headersSent && !res.writableEnded) res.json(body);
      },
      (err: unknown) => answerFailure(res, err, abort.signal.aborted),
    );
  };
}

/**
 * For an admin route about a deployed connection (`:connectionId`): its client, or an answer already
 * sent — 404 OE_NOT_DEPLOYED, or 409 with the reason its settings cannot be used (never a secret).
 */
function deployedClient(RED: NodeAPI, req: Request, res: Response): Deployed | undefined {
  const connection = findConnection(RED, String(req.params.connectionId));
  if (!connection) {
    res.status(404).json({ code: 'OE_NOT_DEPLOYED', message: RED._(`${COMMON}errors.not-deployed`) });
    return undefined;
  }
  try {
    return { connection, client: connection.client() };
  } catch (err) {
    const e = asOctoEverywhereError(err);
    res.status(409).json({ code: e.code, message: e.message });
    return undefined;
  }
}

/**
 * An admin route's failure: the code and our own message only (never a credential); 409 when the
 * connection closed meanwhile, 500 for ours, 502 for the far side's. Nothing when the editor left.
 */
function answerFailure(res: Response, err: unknown, aborted = false): void {
  const e = asOctoEverywhereError(err);
  if (res.headersSent || res.writableEnded || aborted) return;
  res.status(e.code === 'OE_CLOSED' ? 409 : e.code === 'OE_INTERNAL' ? 500 : 502).json({ code: e.code, message: e.message });
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
  // One signal for all of the node's messages, aborted when it closes: an AbortController per message
  // cost more than the relay fast path's own work. Each request lets go of it when it ends.
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
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
    handler(msg as M, send, { client, connection, signal: controller.signal }).then(
      () => done(),
      (err: unknown) => {
        if (closing && controller.signal.aborted) done();
        else fail(node, err, done);
      },
    );
  });

  node.on('close', () => {
    closing = true;
    controller.abort();
  });
}
