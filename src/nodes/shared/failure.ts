// How every node reports a failure: one error per message to Catch nodes (with a stable code), and a
// red status with the code. Errors we did not make are wrapped so nothing unexpected reaches a user.
import { OctoEverywhereError } from '../../client';
import type { Done, Node } from './types';

/** Any thrown value as an OctoEverywhereError; unknown errors keep no text that could hold data. */
export function asOctoEverywhereError(err: unknown): OctoEverywhereError {
  if (err instanceof OctoEverywhereError) return err;
  const name = err instanceof Error ? err.name : typeof err;
  return new OctoEverywhereError('OE_INTERNAL', `An unexpected ${name} happened in the OctoEverywhere node; please report it.`, { kind: 'temporary' });
}

/** Red ring with the code: enough to see at a glance what failed without opening the debug tab. */
export function errorStatus(node: Node, err: OctoEverywhereError): void {
  node.status({ fill: 'red', shape: 'ring', text: err.code });
}

/** Ends a message with a failure: status, then done(err), which hands err and msg to Catch nodes. */
export function fail(node: Node, err: unknown, done: Done): OctoEverywhereError {
  const e = asOctoEverywhereError(err);
  errorStatus(node, e);
  done(e);
  return e;
}
