// live-link: creates an OctoEverywhere Live Link (a public, expiring live view of the printer) through
// the App API. Needs an App Connection: a Shared Connection has no App API token.
import { InvalidArgumentError, isObject, type LiveLinkOptions, OctoEverywhereError } from '../client';
import { errorStatus } from './shared/failure';
import { onInput, useConnection } from './shared/adapter';
import { migrate } from './shared/migrations';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from './shared/types';

const TYPE = 'octoeverywhere-live-link';
const MIN_HOURS = 1;
const MAX_HOURS = 17520;
const DEFAULT_HOURS = 24;

interface LiveLinkDef extends NodeDef {
  connection?: string;
  /** Hours as typed, when expirationType is 'num'. */
  expiration?: string | number;
  /** 'num': after `expiration` hours; 'print': when the current print completes. */
  expirationType?: 'num' | 'print';
}

export = function register(RED: NodeAPI): void {
  function LiveLinkNode(this: Node, def: LiveLinkDef): void {
    RED.nodes.createNode(this, def);
    def = migrate(TYPE, def); // saved configs in the current shape (shared/migrations.ts)
    const node = this;
    const connection = useConnection(RED, node, def.connection);
    // A configuration that cannot work is shown at deploy time, not only when a message arrives.
    if (connection) {
      try {
        if (!connection.client().connection.hasAppApi) node.status({ fill: 'red', shape: 'ring', text: RED._('status.needs-app-connection') });
      } catch (err) {
        if (err instanceof OctoEverywhereError) errorStatus(node, err);
      }
    }
    let fixed: LiveLinkOptions | undefined;
    let fixedError: OctoEverywhereError | undefined;
    try {
      fixed = def.expirationType === 'print' ? { endWhenCurrentPrintIsComplete: true } : { expirationHours: hoursOf(def.expiration ?? DEFAULT_HOURS, 'The node\'s expiration') };
    } catch (err) {
      fixedError = err as OctoEverywhereError;
      errorStatus(node, fixedError);
    }

    onInput(RED, node, connection, async (msg, send, { client }) => {
      const options = optionsOf(msg.payload) ?? fixed;
      if (!options) throw fixedError ?? new InvalidArgumentError('No expiration is set.', 'OE_INVALID_EXPIRATION');
      node.status({ fill: 'blue', shape: 'dot', text: RED._('status.creating') });
      const link = await client.app.createLiveLink(options);
      // The wire's names are this node's public contract (they are what the OctoEverywhere docs show).
      (msg as NodeMessageInFlow).payload = { LiveId: link.liveId, Url: link.url, ShortUrl: link.shortUrl };
      node.status({ fill: 'green', shape: 'dot', text: RED._('status.created') });
      send(msg);
    });
  }

  RED.nodes.registerType(TYPE, LiveLinkNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

/**
 * Options from msg.payload when it asks for them: `{expirationHours}` or `{endWhenCurrentPrintIsComplete: true}`.
 * Any other payload (an inject timestamp, say) leaves the node's own setting in force.
 */
function optionsOf(payload: unknown): LiveLinkOptions | undefined {
  if (!isObject(payload)) return undefined;
  const hasHours = payload.expirationHours !== undefined;
  const hasEnd = payload.endWhenCurrentPrintIsComplete !== undefined;
  if (!hasHours && !hasEnd) return undefined;
  if (hasEnd && typeof payload.endWhenCurrentPrintIsComplete !== 'boolean') {
    throw new InvalidArgumentError('msg.payload.endWhenCurrentPrintIsComplete must be true or false.', 'OE_INVALID_EXPIRATION');
  }
  if (payload.endWhenCurrentPrintIsComplete === true) return { endWhenCurrentPrintIsComplete: true };
  return { expirationHours: hasHours ? hoursOf(payload.expirationHours, 'msg.payload.expirationHours') : DEFAULT_HOURS };
}

function hoursOf(value: unknown, what: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < MIN_HOURS || n > MAX_HOURS) {
    throw new InvalidArgumentError(`${what} must be a whole number of hours from ${MIN_HOURS} to ${MAX_HOURS}.`, 'OE_INVALID_EXPIRATION');
  }
  return n;
}
