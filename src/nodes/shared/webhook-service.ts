// The App Connection side of the notification webhook node: one webhook per App Connection (claimed
// from the config node), registered and renewed through the config node's shared client
// (WebhookRegistration), shown on the node's base status, and deleted on removal — that Delete is
// handed to the config node (deregister), which keeps the client open until it is done.
import { AppConnectionRequiredError, OctoEverywhereError, type Clock, type WebhookTestResult } from '../../client';
import { asOctoEverywhereError } from './failure';
import type { Translate } from './settings';
import { status } from './status';
import type { AppConnectionNode, Node, NodeStatus } from './types';
import { type RegistrationStore, WebhookRegistration } from './webhook-registration';

export interface ServiceOptions {
  node: Node;
  connection: AppConnectionNode;
  /** The public URL with its token; throws when it cannot be made. */
  url: () => string;
  eventTypes: number[];
  clock: Clock;
  store?: RegistrationStore;
  t: Translate;
  setBase: (status: NodeStatus) => void;
  broken: (err: OctoEverywhereError) => void;
}

export interface ServiceWebhook {
  /** Asks the service to call the registered URL (the editor's "Send test"). */
  test(): Promise<WebhookTestResult>;
  /** Redeploy: stops renewing (the registration stays). Removed: deletes it; resolves when done. */
  close(removed: boolean): Promise<void>;
}

/** Registers at the service; undefined (the node shows why) when this node cannot hold the webhook. */
export function startServiceWebhook(o: ServiceOptions): ServiceWebhook | undefined {
  const { node, connection, t } = o;
  let url: string;
  try {
    url = o.url();
    connection.client();
    if (!connection.hasAppApi()) throw new AppConnectionRequiredError(t('feature'));
  } catch (err) {
    o.broken(asOctoEverywhereError(err));
    return undefined;
  }
  if (!connection.claimWebhook(node.id)) {
    o.broken(new OctoEverywhereError('OE_WEBHOOK_CONNECTION_IN_USE', t('errors.connection-in-use')));
    return undefined;
  }

  let reported: string | undefined;
  const registration = new WebhookRegistration({
    client: () => connection.client(),
    url,
    eventTypes: o.eventTypes,
    clock: o.clock,
    store: o.store,
    onChange: (s) => {
      if (s.state === 'registering') o.setBase(status.waiting(t('status.registering')));
      else if (s.state === 'registered') {
        reported = undefined;
        o.setBase(status.working(t('status.listening')));
      } else {
        o.setBase(s.state === 'failed' ? status.error(s.error.code) : status.waiting(s.error.code));
        // One log line per distinct failure, not one per retry.
        if (reported !== s.error.code) node.error(s.error);
        reported = s.error.code;
      }
    },
  });
  registration.start();

  return {
    test: () => connection.client().app.testWebhook(),
    close: (removed) => {
      if (!removed) {
        registration.stop();
        connection.deregister(node);
        return Promise.resolve();
      }
      // Removed (not redeployed): the service should stop calling a URL that no longer answers. The
      // config node may be closing in the same deploy: it waits for this before closing the client.
      registration.stop();
      const work = Promise.resolve()
        .then(() => registration.remove(connection.client()))
        .catch((err: unknown) => node.warn(t('warnings.delete-failed', { code: asOctoEverywhereError(err).code })));
      connection.deregister(node, work);
      return work;
    },
  };
}
