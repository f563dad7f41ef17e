// live-link: creates an OctoEverywhere Live Link (a public, expiring live view of the printer) through
// the App API. Needs an App Connection: a Shared Connection has no App API token.
import { InvalidArgumentError, type LiveLinkOptions, OctoEverywhereError } from '../client';
import { isObject } from '../client/values';
import { errorStatus } from './shared/failure';
import { configured, onInput, useConnection } from './shared/adapter';
import { requiredNumber, type Translate } from './shared/settings';
import { status } from './shared/status';
import type { Node, NodeAPI, NodeDef } from './shared/types';
import { migrate } from './shared/migrations';

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
  const t: Translate = (key, vars) => RED._(key, vars);

  function LiveLinkNode(this: Node, def: LiveLinkDef): void {
    RED.nodes.createNode(this, def);
    def = migrate(TYPE, def); // saved configs in the current shape (shared/migrations.ts)
    const node = this;
    const connection = useConnection(RED, node, def.connection);
    // A configuration that cannot work is shown at deploy time, not only when a message arrives.
    if (connection) {
      try {
        if (!connection.client().connection.hasAppApi) node.status(status.error(t('status.needs-app-connection')));
      } catch (err) {
        if (err instanceof OctoEverywhereError) errorStatus(node, err);
      }
    }
    const fixed = configured<LiveLinkOptions>(node, () =>
      def.expirationType === 'print'
        ? { endWhenCurrentPrintIsComplete: true }
        : { expirationHours: hoursOf(def.expiration ?? DEFAULT_HOURS, t('label.expiration-hours'), t) },
    );

    onInput(RED, node, connection, async (msg, send, { client }) => {
      const options = optionsOf(msg.payload, t) ?? fixed;
      if (options instanceof Error) throw options;
      node.status(status.busy(t('status.creating')));
      const link = await client.app.createLiveLink(options);
      // The wire's names are this node's public contract (they are what the OctoEverywhere docs show).
      msg.payload = { LiveId: link.liveId, Url: link.url, ShortUrl: link.shortUrl };
      node.status(status.working(t('status.created')));
      send(msg);
    });
  }

  RED.nodes.registerType(TYPE, LiveLinkNode);
};

/**
 * Options from msg.payload when it asks for them: `{expirationHours}` or `{endWhenCurrentPrintIsComplete: true}`.
 * Any other payload (an inject timestamp, say) leaves the node's own setting in force.
 */
function optionsOf(payload: unknown, t: Translate): LiveLinkOptions | undefined {
  if (!isObject(payload)) return undefined;
  const hasHours = payload.expirationHours !== undefined;
  const hasEnd = payload.endWhenCurrentPrintIsComplete !== undefined;
  if (!hasHours && !hasEnd) return undefined;
  if (hasEnd && typeof payload.endWhenCurrentPrintIsComplete !== 'boolean') throw new InvalidArgumentError(t('errors.end-type'), 'OE_INVALID_EXPIRATION');
  if (payload.endWhenCurrentPrintIsComplete === true) return { endWhenCurrentPrintIsComplete: true };
  return { expirationHours: hasHours ? hoursOf(payload.expirationHours, 'msg.payload.expirationHours', t) : DEFAULT_HOURS };
}

function hoursOf(value: unknown, what: string, t: Translate): number {
  return requiredNumber(value, { what, min: MIN_HOURS, max: MAX_HOURS, integer: true, code: 'OE_INVALID_EXPIRATION' }, t);
}
