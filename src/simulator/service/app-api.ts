// The App APIs (docs/octoeverywhere.md §4) on the service host: Info, Gadget status, Live Links and notification
// webhooks, authenticated by the App Connection's AppToken, in production's enveloped or the docs' bare shape.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JobState } from '../contract';
import type { Account, Connection } from './account';
import { readText, sendJson } from './http-util';
import type { LiveLinks } from './pages';
import { statusText } from './status';
import { isAcceptableWebhookUrl, type Webhooks } from './webhooks';

export type AppApiShape = 'enveloped' | 'bare';

/** What a never-disconnected printer reports as its last disconnect (.NET's DateTime.MinValue, no `Z`). */
export const NEVER_UTC = '0001-01-01T00:00:00';
const MAX_EXPIRATION_HOURS = 17520;
/** States in which a print is "current" for EndWhenCurrentPrintIsComplete. */
const PRINTING_STATES: ReadonlySet<JobState> = new Set<JobState>(['warmingup', 'printing', 'paused', 'resuming']);

/** .NET's round-trip UTC format, seven fractional digits, as production sends timestamps. */
export function dotNetUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

class AppApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly isUserError = false,
  ) {
    super(message);
  }
}

type JsonObject = Record<string, unknown>;
type Handler = (conn: Connection, body: JsonObject) => Promise<object> | object;

/** A body field by name, case-insensitively (ASP.NET model binding ignores case). */
function field(body: JsonObject, name: string): unknown {
  if (name in body) return body[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(body)) if (key.toLowerCase() === lower) return body[key];
  return undefined;
}

function parseBody(text: string): JsonObject {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppApiError(400, 'The request body is not valid JSON.', true);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppApiError(400, 'The request body must be a JSON object.', true);
  }
  return value as JsonObject;
}

export class AppApi {
  /** Lower-cased path → method and handler. */
  private readonly routes: ReadonlyMap<string, { method: 'GET' | 'POST'; handler: Handler }>;

  constructor(
    private readonly account: Account,
    private readonly webhooks: Webhooks,
    private readonly liveLinks: LiveLinks,
    private readonly shape: () => AppApiShape,
  ) {
    this.routes = new Map<string, { method: 'GET' | 'POST'; handler: Handler }>([
      ['/api/appconnection/info', { method: 'GET', handler: (c) => this.info(c) }],
      ['/api/gadget/getstatusfromappconnection', { method: 'POST', handler: (c) => this.gadget(c) }],
      ['/api/live/createfromappconnection', { method: 'POST', handler: (c, b) => this.createLiveLink(c, b) }],
      ['/api/appconnection/setnotificationwebhook', { method: 'POST', handler: (c, b) => this.setWebhook(c, b) }],
      ['/api/appconnection/deletenotificationwebhook', { method: 'POST', handler: (c) => this.deleteWebhook(c) }],
      ['/api/appconnection/testwebhook', { method: 'GET', handler: (c) => this.testWebhook(c) }],
    ]);
  }

  handles(lowerPath: string): boolean {
    return this.routes.has(lowerPath);
  }

  async handle(req: IncomingMessage, res: ServerResponse, lowerPath: string): Promise<void> {
    try {
      const route = this.routes.get(lowerPath);
      if (!route) throw new AppApiError(404, 'Not found.');
      if (req.method !== route.method) throw new AppApiError(405, `Use ${route.method}.`, true);
      const body = route.method === 'POST' ? parseBody(await readText(req)) : {};
      const conn = this.authenticate(req, body);
      this.reply(res, 200, await route.handler(conn, body));
    } catch (err) {
      if (err instanceof AppApiError) this.reply(res, err.status, null, err.message, err.isUserError);
      // Includes an oversized body, whose socket is already gone.
      else if (!res.headersSent && !res.destroyed) this.reply(res, 500, null, 'Internal error.');
    }
  }

  private authenticate(req: IncomingMessage, body: JsonObject): Connection {
    const header = req.headers.apptoken;
    const fromBody = field(body, 'AppToken');
    const appToken = typeof header === 'string' && header !== '' ? header : typeof fromBody === 'string' ? fromBody : '';
    if (appToken === '') throw new AppApiError(400, 'The AppToken is missing.', true);
    const conn = this.account.connectionByAppToken(appToken);
    if (!conn || conn.state === 'removed') throw new AppApiError(603, statusText(603));
    if (conn.state === 'revoked') throw new AppApiError(604, statusText(604));
    if (!this.account.supporter) throw new AppApiError(605, statusText(605));
    return conn;
  }

  private requireOnline(conn: Connection): void {
    if (!this.account.observe(conn.printer).online) throw new AppApiError(601, statusText(601));
  }

  private reply(res: ServerResponse, status: number, result: object | null, error = '', isUserError = false): void {
    if (this.shape() === 'enveloped') {
      sendJson(res, status, { Status: status, Error: error, IsUserError: isUserError, Result: result });
    } else {
      sendJson(res, status, result ?? { Status: status, Error: error });
    }
  }

  private info(conn: Connection): object {
    const { printer } = conn;
    const presence = this.account.observe(printer);
    return {
      LastConnectionTimeUtc: dotNetUtc(presence.lastConnect),
      LastDisconnectTimeUtc: presence.lastDisconnect === undefined ? NEVER_UTC : dotNetUtc(presence.lastDisconnect),
      IsOnline: presence.online,
      PrinterName: printer.name,
      PrinterLocalIp: printer.localIp,
      UserFacingPrinterUrl: this.account.userFacingPrinterUrl(printer),
      PrinterLimits: { ...this.account.limits },
    };
  }

  private gadget(conn: Connection): object {
    this.requireOnline(conn);
    return conn.printer.gadget();
  }

  private createLiveLink(conn: Connection, body: JsonObject): object {
    this.requireOnline(conn);
    const endWithPrint = field(body, 'EndWhenCurrentPrintIsComplete') === true;
    const hours = field(body, 'ExpirationHours') ?? 24;
    if (!endWithPrint && (typeof hours !== 'number' || !Number.isInteger(hours) || hours < 1 || hours > MAX_EXPIRATION_HOURS)) {
      throw new AppApiError(400, `ExpirationHours must be a whole number from 1 to ${MAX_EXPIRATION_HOURS}.`, true);
    }
    if (endWithPrint && !PRINTING_STATES.has(conn.printer.state)) throw new AppApiError(613, statusText(613));
    return this.liveLinks.create(conn.printer, endWithPrint ? 'print' : (hours as number));
  }

  private setWebhook(conn: Connection, body: JsonObject): object {
    const url = field(body, 'WebhookUrl');
    if (typeof url !== 'string' || !isAcceptableWebhookUrl(url)) {
      throw new AppApiError(400, 'WebhookUrl must be a public HTTPS URL.', true);
    }
    const filter = field(body, 'InclusiveEventTypesFilter') ?? [];
    if (!Array.isArray(filter) || !filter.every((t): t is number => Number.isInteger(t))) {
      throw new AppApiError(400, 'InclusiveEventTypesFilter must be a list of event type numbers.', true);
    }
    this.webhooks.set(conn, url, filter);
    return {};
  }

  private deleteWebhook(conn: Connection): object {
    this.webhooks.delete(conn);
    return {};
  }

  private async testWebhook(conn: Connection): Promise<object> {
    const status = await this.webhooks.test(conn);
    if (status === undefined) throw new AppApiError(400, 'No notification webhook is set for this App Connection.', true);
    // Field name unverified (docs/octoeverywhere.md §4); 0 = the webhook URL gave no HTTP answer.
    return { StatusCode: status === 'error' ? 0 : status };
  }
}
