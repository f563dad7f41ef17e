// Node `octoeverywhere-notification-webhook`: receives OctoEverywhere's print-event deliveries on a
// route of Node-RED's own HTTP server and sends each on as the shared event vocabulary. In App
// Connection mode it also registers, renews and (on removal) deletes the webhook at the service.
import type { Request, RequestHandler, Response } from 'express';
import {
  AppConnectionRequiredError,
  type Clock,
  type ClockTimer,
  DEFAULT_WEBHOOK_MAX_BYTES,
  type Delivery,
  DeliveryDeduper,
  EVENT_NAMES,
  OctoEverywhereClient,
  OctoEverywhereError,
  WebhookRejection,
  checkContentType,
  checkSecretKey,
  checkToken,
  checkWebhookPath,
  eventTypesFromNames,
  generateWebhookToken,
  isObject,
  isStrongWebhookToken,
  parseDelivery,
  readBoundedBody,
  webhookUrl,
  type WebhookTestResult,
} from '../client';
import { ADMIN_ROUTES, COMMON, useConnection } from './shared/adapter';
import { clockFor, Timers } from './shared/clock';
import { persistentRecord } from './shared/context-store';
import { asOctoEverywhereError } from './shared/failure';
import type { AppConnectionNode, Node, NodeAPI, NodeDef, NodeStatus } from './shared/types';
import { addPostRoute, routeExists } from './shared/webhook-route';
import { type RegistrationRecord, type RegistrationStore, WebhookRegistration } from './shared/webhook-registration';

const TYPE = 'octoeverywhere-notification-webhook';
/** OctoEverywhere wants an answer within 10 s; a body still arriving after this is a slow sender. */
const READ_TIMEOUT_MS = 10_000;
/** How long "event: …" or "rejected: …" stays before the status returns to "listening". */
const FLASH_MS = 3_000;
const DEFAULT_DEDUPE_SECONDS = 600;
const RECORD_KEY = 'octoeverywhere-webhook-registration';

type WebhookMode = 'app-connection' | 'user';

interface WebhookDef extends NodeDef {
  connection?: string;
  mode?: WebhookMode;
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

const OK_HEADERS = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '2', 'Cache-Control': 'no-store' } as const;

export = function register(RED: NodeAPI): void {
  // Per runtime (not per module load): which node holds which path and which App Connection's webhook.
  const pathOwners = new Map<string, string>();
  const connectionOwners = new Map<string, string>();
  const testers = new Map<string, () => Promise<WebhookTestResult>>();

  function NotificationWebhook(this: Node<WebhookCredentials>, def: WebhookDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const clock = clockFor(RED);
    const timers = new Timers(clock);
    const inFlight = new Set<AbortController>();
    const mode: WebhookMode = def.mode === 'user' ? 'user' : 'app-connection';
    let closed = false;
    let base: NodeStatus = {};
    let flash: ClockTimer | undefined;

    const setBase = (status: NodeStatus): void => {
      base = status;
      if (!flash) node.status(status);
    };
    // The status a delivery flashes: shown when it changes, back to the base FLASH_MS later. A burst
    // of deliveries costs neither a status update nor a timer each.
    let flashed: string | undefined;
    const flashStatus = (status: NodeStatus): void => {
      const key = JSON.stringify(status);
      if (key !== flashed) {
        flashed = key;
        node.status(status);
      }
      flash ??= timers.after(FLASH_MS, () => {
        flash = undefined;
        flashed = undefined;
        node.status(base);
      });
    };
    const broken = (err: OctoEverywhereError): void => {
      setBase({ fill: 'red', shape: 'ring', text: err.code });
      node.error(err);
    };

    node.on('close', () => {
      closed = true;
      timers.cancelAll();
      for (const controller of inFlight) controller.abort();
      inFlight.clear();
    });

    // The token: from the editor (credentials), or made here for a flow deployed without the editor.
    let token = node.credentials?.token;
    if (!isStrongWebhookToken(token)) {
      token = generateWebhookToken();
      node.credentials = { ...node.credentials, token };
      // Kept in the credential store, so it survives once the flows are next saved (and the editor shows it).
      Promise.resolve(RED.nodes.addCredentials(node.id, node.credentials)).catch(() => undefined);
      node.warn(RED._('warnings.token-generated'));
    }
    const secretKey = mode === 'user' ? node.credentials?.secretKey || undefined : undefined;

    if (RED.settings.httpNodeRoot === false) {
      broken(new OctoEverywhereError('OE_HTTP_DISABLED', RED._('errors.http-disabled')));
      return;
    }
    let path: string;
    try {
      path = checkWebhookPath(def.path || `/octoeverywhere/webhook/${node.id}`);
    } catch (err) {
      broken(asOctoEverywhereError(err));
      return;
    }
    const pathKey = path.toLowerCase();
    if (pathOwners.has(pathKey) || routeExists(RED.httpNode, path)) {
      broken(new OctoEverywhereError('OE_WEBHOOK_PATH_IN_USE', RED._('errors.path-in-use', { path })));
      return;
    }

    const { types: eventTypes, unknown } = eventTypesFromNames(Array.isArray(def.events) ? def.events : []);
    if (unknown.length > 0) node.warn(RED._('warnings.unknown-events', { events: unknown.join(', ') }));
    const maxBytes = positiveSetting(RED, 'octoeverywhereWebhookMaxBytes') ?? DEFAULT_WEBHOOK_MAX_BYTES;
    const dedupeSeconds = Number(def.dedupeSeconds);
    const deduper = def.dedupe
      ? new DeliveryDeduper((Number.isFinite(dedupeSeconds) && dedupeSeconds > 0 ? dedupeSeconds : DEFAULT_DEDUPE_SECONDS) * 1000, () => clock.now())
      : undefined;
    const expectedToken = token;

    const deliver = (delivery: Delivery): void => {
      const { event } = delivery;
      // The service filters App Connection deliveries already; user webhooks send everything. A test
      // notification always passes, as the service always delivers it.
      if (eventTypes.length > 0 && event.event !== 'test' && !eventTypes.includes(event.eventType)) return;
      if (deduper?.isRepeat(delivery)) return;
      node.send({ topic: event.event, payload: event });
      flashStatus({ fill: 'green', shape: 'dot', text: RED._('status.event', { name: event.event }) });
    };

    const refuse = (req: Request, res: Response, err: unknown): void => {
      const rejection = err instanceof WebhookRejection ? err : undefined;
      const status = closed ? 503 : rejection?.httpStatus ?? 500;
      const code = closed ? 'OE_CLOSED' : rejection?.code ?? asOctoEverywhereError(err).code;
      // An unread body is not read to its end: the connection closes after the answer.
      if (!req.readableEnded) res.set('Connection', 'close');
      if (!res.headersSent) res.status(status).type('text/plain').send(code);
      if (!closed) {
        node.debug(RED._('debug.rejected', { status, code }));
        flashStatus({ fill: 'yellow', shape: 'ring', text: RED._('status.rejected', { status }) });
      }
    };

    const receive = async (req: Request, res: Response): Promise<void> => {
      const controller = new AbortController();
      inFlight.add(controller);
      const timeout = timers.after(READ_TIMEOUT_MS, () => controller.abort());
      try {
        checkToken(expectedToken, req.originalUrl || req.url);
        checkContentType(req.headers);
        const delivery = parseDelivery(await bodyOf(req, maxBytes, controller.signal));
        checkSecretKey(secretKey, delivery.body);
        if (closed) throw new OctoEverywhereError('OE_CLOSED', 'closed');
        // Answer first: the sender only needs to know it arrived, and must not wait on the flow.
        // Written directly: express's send() would also hash the body for an ETag on every delivery.
        res.writeHead(200, OK_HEADERS).end('OK');
        deliver(delivery);
      } catch (err) {
        refuse(req, res, err);
      } finally {
        timers.cancel(timeout);
        inFlight.delete(controller);
      }
    };

    const handler: RequestHandler = (req, res) => {
      receive(req, res).catch(() => {
        // receive() handles its own failures; this only keeps a broken socket from becoming an unhandled rejection.
        if (!res.headersSent) res.destroy();
      });
    };
    const removeRoute = addPostRoute(RED.httpNode, path, handler);
    pathOwners.set(pathKey, node.id);
    node.on('close', () => {
      removeRoute();
      if (pathOwners.get(pathKey) === node.id) pathOwners.delete(pathKey);
    });
    setBase({ fill: 'green', shape: 'dot', text: RED._('status.listening') });

    if (mode === 'app-connection') {
      startAppConnection(node, def, {
        url: () => webhookUrl(def.publicUrl ?? '', httpRoot(RED), path, expectedToken),
        eventTypes,
        clock,
        setBase,
        broken,
      });
    }
  }

  interface AppConnectionSetup {
    url: () => string;
    eventTypes: number[];
    clock: Clock;
    setBase: (status: NodeStatus) => void;
    broken: (err: OctoEverywhereError) => void;
  }

  /** Registration at the service: only for an App Connection, and only one webhook node per connection. */
  function startAppConnection(node: Node<WebhookCredentials>, def: WebhookDef, setup: AppConnectionSetup): void {
    const connection = useConnection(RED, node, def.connection);
    if (!connection) {
      setup.setBase({ fill: 'red', shape: 'ring', text: RED._(`${COMMON}status.no-connection`) });
      return;
    }
    let url: string;
    let shared: OctoEverywhereClient;
    try {
      url = setup.url();
      shared = connection.client();
      if (!connection.hasAppApi()) throw new AppConnectionRequiredError(RED._('feature'));
    } catch (err) {
      setup.broken(asOctoEverywhereError(err));
      return;
    }
    const owner = connectionOwners.get(connection.id);
    if (owner !== undefined && owner !== node.id) {
      setup.broken(new OctoEverywhereError('OE_WEBHOOK_CONNECTION_IN_USE', RED._('errors.connection-in-use')));
      return;
    }
    connectionOwners.set(connection.id, node.id);

    let reported: string | undefined;
    const registration = new WebhookRegistration({
      client: () => connection.client(),
      url,
      eventTypes: setup.eventTypes,
      clock: setup.clock,
      store: recordStore(RED, node),
      onChange: (s) => {
        if (s.state === 'registering') setup.setBase({ fill: 'yellow', shape: 'ring', text: RED._('status.registering') });
        else if (s.state === 'registered') {
          reported = undefined;
          setup.setBase({ fill: 'green', shape: 'dot', text: RED._('status.listening') });
        } else {
          setup.setBase({ fill: s.state === 'failed' ? 'red' : 'yellow', shape: 'ring', text: s.error.code });
          // One log line per distinct failure, not one per retry.
          if (reported !== s.error.code) node.error(s.error);
          reported = s.error.code;
        }
      },
    });
    testers.set(node.id, () => connection.client().app.testWebhook());
    registration.start();

    node.on('close', (removed: boolean, done: () => void) => {
      testers.delete(node.id);
      if (connectionOwners.get(connection.id) === node.id) connectionOwners.delete(connection.id);
      if (!removed) {
        registration.stop();
        done();
        return;
      }
      // Removed (not redeployed): the service should stop calling a URL that no longer answers.
      let own: OctoEverywhereClient | undefined;
      Promise.resolve()
        .then(() => registration.remove((own = deletionClient(connection, shared))))
        .catch((err: unknown) => node.warn(RED._('warnings.delete-failed', { code: asOctoEverywhereError(err).code })))
        .finally(() => Promise.resolve(own?.close()).finally(done));
    });
  }

  RED.nodes.registerType(TYPE, NotificationWebhook as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: {
      token: { type: 'text' },
      secretKey: { type: 'password' },
    },
  });

  // The editor's event checkboxes come from the one event table.
  RED.httpAdmin.get(`${ADMIN_ROUTES}/notification-webhook/events`, RED.auth.needsPermission(`${TYPE}.read`), (_req, res) => {
    res.json(Object.entries(EVENT_NAMES).map(([type, name]) => ({ type: Number(type), name })));
  });

  // Send test: asks the service to call the deployed node's registered URL and reports the status it got.
  RED.httpAdmin.post(`${ADMIN_ROUTES}/notification-webhook/:id/test`, RED.auth.needsPermission(`${TYPE}.write`), (req, res) => {
    const tester = testers.get(String(req.params.id));
    if (!tester) {
      res.status(404).json({ code: 'OE_NOT_DEPLOYED', message: RED._('errors.not-deployed') });
      return;
    }
    tester().then(
      (result) => {
        const statusCode = result.statusCode;
        res.json({ statusCode: statusCode ?? null, ok: statusCode !== undefined && statusCode >= 200 && statusCode < 300 });
      },
      (err: unknown) => {
        const e = asOctoEverywhereError(err);
        res.status(e.kind === 'permanent' ? 400 : 502).json({ code: e.code, message: e.message });
      },
    );
  });
};

/**
 * A client of its own for the Delete on removal. Node-RED may stop the config node (closing the
 * shared client) before this node in the same deploy, so the shared one cannot be relied on here.
 * It is made from the same connection and credentials, and closed after the one call.
 */
function deletionClient(connection: AppConnectionNode, shared: OctoEverywhereClient): OctoEverywhereClient {
  const creds = connection.credentials ?? {};
  const { baseUrl, serviceUrl, appId, timeoutMs } = shared.connection;
  return new OctoEverywhereClient({
    url: baseUrl,
    serviceUrl,
    appId,
    timeoutMs,
    appApiToken: creds.appApiToken,
    authBearerToken: creds.authBearerToken,
    authBasicHttpUser: creds.authBasicHttpUser,
    authBasicHttpPassword: creds.authBasicHttpPassword,
  });
}

/** The body, read here within bounds, or as a body parser placed in front of httpNode left it. */
function bodyOf(req: Request, maxBytes: number, signal: AbortSignal): Promise<Buffer | string | Record<string, unknown>> {
  const parsed = req as Request & { _body?: boolean };
  if (parsed._body || req.readableEnded) {
    const body: unknown = req.body;
    if (Buffer.isBuffer(body) || typeof body === 'string') {
      if (Buffer.byteLength(body) > maxBytes) return Promise.reject(new WebhookRejection('OE_WEBHOOK_TOO_LARGE', 413, 'too large'));
      return Promise.resolve(body);
    }
    if (isObject(body)) return Promise.resolve(body);
    return Promise.reject(new WebhookRejection('OE_WEBHOOK_BAD_JSON', 400, 'not JSON'));
  }
  return readBoundedBody(req, maxBytes, signal);
}

/** Where httpNode is mounted (httpNodeRoot); '' at the root. */
function httpRoot(RED: NodeAPI): string {
  const app = RED.httpNode as unknown as { path?: () => string };
  return typeof app.path === 'function' ? app.path().replace(/\/+$/, '') : '';
}

function positiveSetting(RED: NodeAPI, name: string): number | undefined {
  const value: unknown = (RED.settings as unknown as Record<string, unknown>)[name];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Without a persistent store, every start registers again, which also renews. */
function recordStore(RED: NodeAPI, node: Node): RegistrationStore | undefined {
  return persistentRecord(RED, node, RECORD_KEY, isRecord);
}

function isRecord(value: unknown): value is RegistrationRecord {
  return isObject(value) && typeof value.at === 'number' && typeof value.fingerprint === 'string';
}
