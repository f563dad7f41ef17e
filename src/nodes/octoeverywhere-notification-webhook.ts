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
  checkDepth,
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
import { migrate } from './shared/migrations';
import type { AppConnectionNode, Node, NodeAPI, NodeDef, NodeStatus } from './shared/types';
import { addFrontMiddleware, addPostRoute, mountingApp, mountPath, requestPathMatcher, routeExists } from './shared/webhook-route';
import { type RegistrationRecord, type RegistrationStore, WebhookRegistration } from './shared/webhook-registration';

const TYPE = 'octoeverywhere-notification-webhook';
/**
 * OctoEverywhere wants an answer within 10 s; a body still arriving after this is a slow sender
 * (settings.octoeverywhereWebhookReadTimeout, in ms, may shorten it).
 */
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
    def = migrate(TYPE, def); // saved configs in the current shape (shared/migrations.ts)
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
    const readTimeoutMs = positiveSetting(RED, 'octoeverywhereWebhookReadTimeout') ?? READ_TIMEOUT_MS;
    const expectedToken = token;

    // Everything that decides a delivery's fate runs before the answer: what is answered 200 is sent on.
    const wanted = (delivery: Delivery): boolean => {
      const { event } = delivery;
      // The service filters App Connection deliveries already; user webhooks send everything. A test
      // notification always passes, as the service always delivers it.
      if (eventTypes.length > 0 && event.event !== 'test' && !eventTypes.includes(event.eventType)) return false;
      return !deduper?.isRepeat(delivery);
    };
    const deliver = (delivery: Delivery): void => {
      const { event } = delivery;
      node.send({ topic: event.event, payload: event });
      flashStatus({ fill: 'green', shape: 'dot', text: RED._('status.event', { name: event.event }) });
    };

    const refuse = (req: Request, res: Response, err: unknown): void => {
      const rejection = err instanceof WebhookRejection ? err : undefined;
      const status = closed ? 503 : rejection?.httpStatus ?? 500;
      const code = closed ? 'OE_CLOSED' : rejection?.code ?? asOctoEverywhereError(err).code;
      // Node's own methods only: the guard may answer before Express has set up the request.
      // An unread body is not read to its end: the connection closes after the answer.
      if (!res.headersSent) {
        res.writeHead(status, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Length': String(Buffer.byteLength(code)),
          'Cache-Control': 'no-store',
          ...(req.readableEnded ? {} : { Connection: 'close' }),
        });
        res.end(code);
      }
      if (!closed) {
        node.debug(RED._('debug.rejected', { status, code }));
        flashStatus({ fill: 'yellow', shape: 'ring', text: RED._('status.rejected', { status }) });
      }
    };

    /** The checks that need no body: a wrong token or label is refused without reading a byte. */
    const checkHead = (req: Request): void => {
      checkToken(expectedToken, req.originalUrl || req.url);
      checkContentType(req.headers);
    };
    /** Reads the body within the size bound and the read deadline. */
    const readBody = async (req: Request): Promise<Buffer> => {
      const controller = new AbortController();
      inFlight.add(controller);
      const timeout = timers.after(readTimeoutMs, () => controller.abort());
      try {
        return await readBoundedBody(req, maxBytes, controller.signal);
      } finally {
        timers.cancel(timeout);
        inFlight.delete(controller);
      }
    };
    // Bodies this node's guard read ahead, before any parser in front of httpNode could.
    const readAhead = new WeakSet<Request>();
    let warnedParsed = false;
    /** Something this node could not get in front of read the body: enforce the size, and say so once. */
    const parsedBefore = (req: Request): Buffer | string | Record<string, unknown> => {
      if (!warnedParsed) {
        warnedParsed = true;
        node.warn(RED._('warnings.parsed-first', { maxBytes, path }));
        setBase({ fill: 'yellow', shape: 'dot', text: RED._('status.parsed-first') });
      }
      return alreadyRead(req, maxBytes);
    };

    const receive = async (req: Request, res: Response): Promise<void> => {
      try {
        checkHead(req);
        let raw: Buffer | string | Record<string, unknown>;
        if (readAhead.has(req)) raw = req.body as Buffer;
        else if (isParsed(req)) raw = parsedBefore(req);
        else raw = await readBody(req);
        const delivery = parseDelivery(raw);
        checkSecretKey(secretKey, delivery.body);
        const send = wanted(delivery);
        if (closed) throw new OctoEverywhereError('OE_CLOSED', 'closed');
        // Answer first: the sender only needs to know it arrived, and must not wait on the flow.
        // Written directly: express's send() would also hash the body for an ETag on every delivery.
        res.writeHead(200, OK_HEADERS).end('OK');
        if (send) deliver(delivery);
      } catch (err) {
        refuse(req, res, err);
      }
    };

    const handler: RequestHandler = (req, res) => {
      receive(req, res).catch(() => {
        // receive() handles its own failures; this only keeps a broken socket from becoming an unhandled rejection.
        if (!res.headersSent) res.destroy();
      });
    };

    // In front of whatever the app that mounts httpNode runs first (with Node-RED's default settings,
    // the editor's JSON and form parsers, which would read up to 5 MB with no deadline): for this
    // node's path only, refuse on the token, label or declared size, else read the body within the
    // limits and mark it read (req._body), so that those parsers pass it by.
    const inFront = mountingApp(RED.httpNode);
    const matches = requestPathMatcher(`${mountPath(RED.httpNode)}${path}`);
    const guard: RequestHandler = (req, res, next) => {
      if (req.method !== 'POST' || !matches(req.originalUrl || req.url) || isParsed(req)) {
        next();
        return;
      }
      Promise.resolve()
        .then(async () => {
          checkHead(req);
          const body = await readBody(req);
          (req as ParsedRequest)._body = true;
          req.body = body;
          readAhead.add(req);
        })
        .then(
          () => next(),
          (err: unknown) => refuse(req, res, err),
        )
        .catch(() => {
          // As in handler(): a broken socket must not become an unhandled rejection.
          if (!res.headersSent) res.destroy();
        });
    };
    const removeGuard = inFront ? addFrontMiddleware(inFront, guard) : () => undefined;
    const removeRoute = addPostRoute(RED.httpNode, path, handler);
    pathOwners.set(pathKey, node.id);
    node.on('close', () => {
      removeRoute();
      removeGuard();
      if (pathOwners.get(pathKey) === node.id) pathOwners.delete(pathKey);
    });
    setBase({ fill: 'green', shape: 'dot', text: RED._('status.listening') });

    if (mode === 'app-connection') {
      startAppConnection(node, def, {
        url: () => webhookUrl(def.publicUrl ?? '', mountPath(RED.httpNode), path, expectedToken),
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
    // Both are passwords: the editor's /credentials answer (which read-only users may call) only
    // says whether they are set. Stored credentials do not depend on the type, so saved tokens stay.
    credentials: {
      token: { type: 'password' },
      secretKey: { type: 'password' },
    },
  });

  // The token, for the editor to show the webhook URL: only to users who may change the node, never cached.
  RED.httpAdmin.get(`${ADMIN_ROUTES}/notification-webhook/:id/token`, RED.auth.needsPermission(`${TYPE}.write`), (req, res) => {
    res.set('Cache-Control', 'no-store');
    const creds = RED.nodes.getCredentials(String(req.params.id)) as WebhookCredentials | undefined;
    if (!isStrongWebhookToken(creds?.token)) {
      res.status(404).json({ code: 'OE_NOT_DEPLOYED', message: RED._('errors.no-token') });
      return;
    }
    res.json({ token: creds.token });
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

type ParsedRequest = Request & { _body?: boolean };

/** True when a body parser has already read the request (body-parser's own marker, or the stream is done). */
function isParsed(req: Request): boolean {
  return (req as ParsedRequest)._body === true || req.readableEnded;
}

/**
 * The body as a parser in front of httpNode left it, held to the same size bound: the declared
 * length, else the length of the text or of the parsed value written out again.
 */
function alreadyRead(req: Request, maxBytes: number): Buffer | string | Record<string, unknown> {
  const tooLarge = new WebhookRejection('OE_WEBHOOK_TOO_LARGE', 413, `The delivery is larger than ${maxBytes} bytes.`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge;
  const body: unknown = req.body;
  if (Buffer.isBuffer(body) || typeof body === 'string') {
    if (Buffer.byteLength(body) > maxBytes) throw tooLarge;
    return body;
  }
  if (!isObject(body)) throw new WebhookRejection('OE_WEBHOOK_BAD_JSON', 400, 'not JSON');
  checkDepth(body); // before writing it out again, which recurses
  if (Buffer.byteLength(JSON.stringify(body)) > maxBytes) throw tooLarge;
  return body;
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
