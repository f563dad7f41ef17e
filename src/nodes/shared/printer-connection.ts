// The behaviour of the App Connection config node, free of Node-RED wiring: the one owner of
// everything its printer's nodes share — the client, the status poller, the webcam state, the one
// notification webhook registration — and of their release. User nodes register on start and
// deregister on close; a user node's close work (the webhook Delete on removal) is handed over in
// deregister, and close() waits for it before the client goes (Node-RED starts the close of every
// node of a deploy in one synchronous loop, then awaits them all).
import { type Clock, OctoEverywhereClient, OctoEverywhereError, type AppConnectionOptions } from '../../client';
import { LiveFeed, type LiveFeedOptions } from './live-feed';
import { StatusPoller } from './poller';
import type { AppConnectionCredentials, AppConnectionDef } from './types';
import { PrinterWebcams } from './webcam-state';

/** The one mapping from the config node's values (and settings) to client options. */
export function clientOptions(def: Partial<AppConnectionDef>, creds: AppConnectionCredentials, timeoutMs?: number): AppConnectionOptions {
  return {
    url: creds.url ?? '',
    authBasicHttpUser: creds.authBasicHttpUser,
    authBasicHttpPassword: creds.authBasicHttpPassword,
    authBearerToken: creds.authBearerToken,
    appApiToken: creds.appApiToken,
    octoPrintApiKey: creds.octoPrintApiKey,
    authType: def.authType === 'basic' ? 'basic' : 'bearer',
    serviceUrl: def.serviceUrl || undefined,
    appId: def.appId || undefined,
    localUrl: def.localUrl || undefined,
    timeoutMs,
  };
}

export interface PrinterConnectionOptions {
  def: AppConnectionDef;
  credentials: AppConnectionCredentials;
  clock: Clock;
  /** settings.js `octoeverywhereRequestTimeout`, when set. */
  timeoutMs?: number;
  /** The config node's words for the errors it raises itself. */
  words: { invalidConfig: string; closed: string } & LiveFeedOptions['words'];
}

/** A user node as the connection knows it: by id, so nothing of Node-RED's is kept. */
export interface ConnectionUser {
  readonly id: string;
}

export class PrinterConnection {
  readonly #users = new Set<string>();
  /** Close work handed over by users (deregister): close() waits for it before the client goes. */
  readonly #closeWork = new Set<Promise<unknown>>();
  #client?: OctoEverywhereClient;
  readonly #configError?: OctoEverywhereError;
  #poller?: StatusPoller;
  #webcams?: PrinterWebcams;
  #webhookOwner?: string;
  /** The one live printer socket (issue 16), opened by the first live/auto status node. */
  #live?: LiveFeed;
  #closed = false;

  constructor(private readonly options: PrinterConnectionOptions) {
    try {
      this.#client = new OctoEverywhereClient(clientOptions(options.def, options.credentials, options.timeoutMs));
    } catch (err) {
      this.#configError = err instanceof OctoEverywhereError ? err : new OctoEverywhereError('OE_CONFIG_INVALID', options.words.invalidConfig);
    }
  }

  /** Why no client can be made from these settings, if that is so. */
  get configError(): OctoEverywhereError | undefined {
    return this.#configError;
  }

  /** The nodes registered now (for tests and the architecture's promise that nothing is left). */
  get users(): number {
    return this.#users.size;
  }

  /** The shared client, or the configuration error that prevents one (thrown); OE_CLOSED after close. */
  client(): OctoEverywhereClient {
    if (this.#configError) throw this.#configError;
    if (!this.#client) throw this.closedError();
    return this.#client;
  }

  get hasAppApi(): boolean {
    return this.#client?.connection.hasAppApi ?? false;
  }

  /** The printer's one status poller, made on first use. */
  poller(): StatusPoller {
    if (this.#closed) throw this.closedError();
    this.#poller ??= new StatusPoller(() => this.client(), {
      clock: this.options.clock,
      hasAppApi: this.hasAppApi,
      printerName: this.options.def.printerName || null,
      closedMessage: this.options.words.closed,
    });
    return this.#poller;
  }

  /** The printer's one live socket feed, made on first use (the socket opens with its first subscriber). */
  live(): LiveFeed {
    if (this.#closed) throw this.closedError();
    this.#live ??= new LiveFeed(() => this.client(), {
      clock: this.options.clock,
      printerName: this.options.def.printerName || null,
      serialNumber: this.options.def.serialNumber,
      words: { noPush: this.options.words.noPush, needsSerial: this.options.words.needsSerial, unknownMqtt: this.options.words.unknownMqtt },
    });
    return this.#live;
  }

  /** The webcam list and 609 cool-down every webcam node of the printer shares. */
  webcams(): PrinterWebcams {
    if (this.#closed) throw this.closedError();
    this.#webcams ??= new PrinterWebcams(this.options.clock);
    return this.#webcams;
  }

  register(user: ConnectionUser): void {
    this.#users.add(user.id);
  }

  /**
   * A user node closes. `work` is what it still has to do with the shared client (a Delete on
   * removal); the connection keeps the client open until it has settled.
   */
  deregister(user: ConnectionUser, work?: Promise<unknown>): void {
    this.#users.delete(user.id);
    this.releaseWebhook(user.id);
    if (!work) return;
    const tracked = work.then(noop, noop).finally(() => this.#closeWork.delete(tracked));
    this.#closeWork.add(tracked);
  }

  /** One notification webhook per App Connection: true when `nodeId` holds it (now or already). */
  claimWebhook(nodeId: string): boolean {
    if (this.#webhookOwner !== undefined && this.#webhookOwner !== nodeId) return false;
    this.#webhookOwner = nodeId;
    return true;
  }

  releaseWebhook(nodeId: string): void {
    if (this.#webhookOwner === nodeId) this.#webhookOwner = undefined;
  }

  /**
   * Stops polling and forgets webcam state at once, waits for the users' close work, then closes
   * the client. Never rejects.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#poller?.close();
    this.#poller = undefined;
    this.#live?.close();
    this.#live = undefined;
    this.#webcams?.close();
    this.#webcams = undefined;
    // Node-RED starts every node's close of a deploy in one synchronous loop, users before their
    // config node in a flow; but config-like nodes of one flow close in creation order. One turn
    // later every user has been asked to close and has handed over its work, whatever the order.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#closeWork.size > 0) await Promise.all([...this.#closeWork]);
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(noop);
  }

  private closedError(): OctoEverywhereError {
    return new OctoEverywhereError('OE_CLOSED', this.options.words.closed);
  }
}

function noop(): void {}
