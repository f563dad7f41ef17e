// How every node reports a failure: one error per message to Catch nodes (with a stable code), and a
// red status with the code unless the node chose another. Errors we did not make are wrapped so
// nothing unexpected reaches a user.
import { OctoEverywhereError, toOctoEverywhereError } from '../../client';
import { status } from './status';
import type { Done, Node, NodeStatus } from './types';

/**
 * The one "unexpected error" wrapper: any thrown value as an OctoEverywhereError. Unknown errors keep
 * no text that could hold data (their stack goes to node.trace in fail()).
 */
export function asOctoEverywhereError(err: unknown): OctoEverywhereError {
  return toOctoEverywhereError(err, 'the OctoEverywhere node');
}

/**
 * Whether a failure ends a long-running thing (a poll loop, a registration) until the user acts:
 * the code table's `reconnect` and `refused`. Everything else (retry, offline, supporter, cool-down)
 * passes and is tried again with back-off.
 */
export function stops(err: OctoEverywhereError): boolean {
  return err.behaviour === 'reconnect' || err.behaviour === 'refused';
}

/** An error we did not make keeps its stack, for whoever turns on trace logging. */
export function traceUnexpected(node: Node, err: unknown): void {
  if (!(err instanceof OctoEverywhereError) && err instanceof Error && err.stack) node.trace(err.stack);
}

/**
 * Thrown by an input handler (see adapter.ts onInput) to end the message with `error` while the node
 * shows `status` instead of the red ring: a failure that is an expected, passing state, such as the
 * webcam's yellow "cooling down" after a 609. Catch nodes get `error` as usual.
 */
export class FailureWithStatus extends Error {
  constructor(
    readonly error: unknown,
    readonly status: NodeStatus,
  ) {
    super('A failure with its own node status.');
    this.name = 'FailureWithStatus';
  }
}

/** Red ring with the code: enough to see at a glance what failed without opening the debug tab. */
export function errorStatus(node: Node, err: OctoEverywhereError): void {
  node.status(status.error(err.code));
}

/**
 * Ends a message with a failure: status (`status`, else the one a FailureWithStatus carries, else the
 * red ring with the code), then done(err), which hands err and msg to Catch nodes.
 */
export function fail(node: Node, err: unknown, done: Done, shown?: NodeStatus): OctoEverywhereError {
  if (err instanceof FailureWithStatus) return fail(node, err.error, done, shown ?? err.status);
  traceUnexpected(node, err);
  const e = asOctoEverywhereError(err);
  if (shown) node.status(shown);
  else errorStatus(node, e);
  done(e);
  return e;
}
