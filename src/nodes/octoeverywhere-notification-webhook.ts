// Node `octoeverywhere-notification-webhook`: receives OctoEverywhere's print-event deliveries on a
// route of Node-RED's own HTTP server and sends each on as the shared event vocabulary. In App
// Connection mode it also registers, renews and (on removal) deletes the webhook at the service.
// The units: the receiver (shared/webhook-receiver.ts), the status flash (shared/flash-status.ts),
// the registration and its store (shared/webhook-service.ts, shared/webhook-registration.ts).
import {
  DEFAULT_WEBHOOK_MAX_BYTES,
  type Delivery,
  DeliveryDeduper,
  OctoEverywhereError,
  checkWebhookPath,
  eventTypesFromNames,
  generateWebhookToken,
  isStrongWebhookToken,
  webhookUrl,
} from '../client';
import { COMMON, useConnection } from './shared/adapter';
import { clockFor } from './shared/clock';
import { asOctoEverywhereError } from './shared/failure';
import { FlashStatus } from './shared/flash-status';
import { positive, positiveSetting, type Translate } from './shared/settings';
import { status } from './shared/status';
import type { Node, NodeAPI, NodeDef } from './shared/types';
import { registerWebhookRoutes } from './shared/webhook-admin';
import { WebhookReceiver } from './shared/webhook-receiver';
import { registrationStore } from './shared/webhook-registration';
import { mountPath, routeExists } from './shared/webhook-route';
import { type ServiceWebhook, startServiceWebhook } from './shared/webhook-service';
import { migrate } from './shared/migrations';

const TYPE = 'octoeverywhere-notification-webhook';
/** OctoEverywhere wants an answer within 10 s (settings.octoeverywhereWebhookReadTimeout, ms, may shorten it). */
const READ_TIMEOUT_MS = 10_000;
const DEFAULT_DEDUPE_SECONDS = 600;

interface WebhookDef extends NodeDef {
  connection?: string;
  mode?: 'app-connection' | 'user';
  path?: string;
  publicUrl?: string;
  events?: string[];
  dedupe?: boolean;
  dedupeSeconds?: number | string;
}

interface WebhookCredentials {
  token?: string;
  secretKey?: string;
}

export = function register(RED: NodeAPI): void {
  const t: Translate = (key, vars) => RED._(key, vars);
  // Per runtime (not per module load): which node holds which path, and the deployed nodes' "Send test".
  const pathOwners = new Map<string, string>();
  const services = new Map<string, ServiceWebhook>();

  function NotificationWebhook(this: Node<WebhookCredentials>, def: WebhookDef): void {
    RED.nodes.createNode(this, def);
    def = migrate(TYPE, def); // saved configs in the current shape (shared/migrations.ts)
    const node = this;
    const clock = clockFor(RED);
    const board = new FlashStatus(clock, (s) => node.status(s));
    node.on('close', () => board.close());
    const broken = (err: OctoEverywhereError): void => {
      board.setBase(status.error(err.code));
      node.error(err);
    };

    // The token: from the editor (credentials), or made here for a flow deployed without the editor.
    let token = node.credentials?.token;
    if (!isStrongWebhookToken(token)) {
      token = generateWebhookToken();
      node.credentials = { ...node.credentials, token };
      // Kept in the credential store, so it survives once the flows are next saved (and the editor shows it).
      Promise.resolve(RED.nodes.addCredentials(node.id, node.credentials)).catch(() => undefined);
      node.warn(t('warnings.token-generated'));
    }
    const expectedToken = token;
    if (RED.settings.httpNodeRoot === false) return broken(new OctoEverywhereError('OE_HTTP_DISABLED', t('errors.http-disabled')));
    let path: string;
    try {
      path = checkWebhookPath(def.path || `/octoeverywhere/webhook/${node.id}`);
    } catch (err) {
      return broken(asOctoEverywhereError(err));
    }
    const pathKey = path.toLowerCase();
    if (pathOwners.has(pathKey) || routeExists(RED.httpNode, path))
      return broken(new OctoEverywhereError('OE_WEBHOOK_PATH_IN_USE', t('errors.path-in-use', { path })));

    const { types: eventTypes, unknown } = eventTypesFromNames(Array.isArray(def.events) ? def.events : []);
    if (unknown.length > 0) node.warn(t('warnings.unknown-events', { events: unknown.join(', ') }));
    const maxBytes = positiveSetting(RED, 'octoeverywhereWebhookMaxBytes') ?? DEFAULT_WEBHOOK_MAX_BYTES;
    const deduper = def.dedupe ? new DeliveryDeduper(positive(def.dedupeSeconds, DEFAULT_DEDUPE_SECONDS) * 1000, () => clock.now()) : undefined;
    const receiver = new WebhookReceiver({
      app: RED.httpNode,
      path,
      token: expectedToken,
      secretKey: def.mode === 'user' ? node.credentials?.secretKey || undefined : undefined,
      maxBytes,
      readTimeoutMs: positiveSetting(RED, 'octoeverywhereWebhookReadTimeout') ?? READ_TIMEOUT_MS,
      clock,
      // The service filters App Connection deliveries already; user webhooks send everything. A test
      // notification always passes, as the service always delivers it.
      wanted: (delivery: Delivery) => {
        const { event } = delivery;
        return (eventTypes.length === 0 || event.event === 'test' || eventTypes.includes(event.eventType)) && !deduper?.isRepeat(delivery);
      },
      deliver: ({ event }) => {
        node.send({ topic: event.event, payload: event });
        board.flashStatus(status.working(t('status.event', { name: event.event })));
      },
      rejected: (httpStatus, code) => {
        node.debug(t('debug.rejected', { status: httpStatus, code }));
        board.flashStatus(status.waiting(t('status.rejected', { status: httpStatus })));
      },
      parsedFirst: () => {
        node.warn(t('warnings.parsed-first', { maxBytes, path }));
        board.setBase(status.alert('warn', t('status.parsed-first')));
      },
    });
    receiver.start();
    pathOwners.set(pathKey, node.id);
    node.on('close', () => {
      receiver.close();
      if (pathOwners.get(pathKey) === node.id) pathOwners.delete(pathKey);
    });
    board.setBase(status.working(t('status.listening')));
    if (def.mode === 'user') return;

    // App Connection mode: registration at the service, one webhook node per connection.
    const connection = useConnection(RED, node, def.connection);
    if (!connection) return board.setBase(status.error(t(`${COMMON}status.no-connection`)));
    const service = startServiceWebhook({
      node,
      connection,
      url: () => webhookUrl(def.publicUrl ?? '', mountPath(RED.httpNode), path, expectedToken),
      eventTypes,
      clock,
      store: registrationStore(RED, node),
      t,
      setBase: (s) => board.setBase(s),
      broken,
    });
    if (!service) return;
    services.set(node.id, service);
    node.on('close', (removed: boolean, done: () => void) => {
      if (services.get(node.id) === service) services.delete(node.id);
      void service.close(removed).finally(done);
    });
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs the cast (the credentials type differs); the linter's type view of @types/node-red does not
  RED.nodes.registerType(TYPE, NotificationWebhook as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    // Both are passwords: the editor's /credentials answer (which read-only users may call) only
    // says whether they are set. Stored credentials do not depend on the type, so saved tokens stay.
    credentials: { token: { type: 'password' }, secretKey: { type: 'password' } },
  });

  registerWebhookRoutes(RED, services);
};
