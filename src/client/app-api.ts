// OctoEverywhere's App APIs (docs/octoeverywhere.md §4): connection info, Gadget status, Live Links and notification
// webhooks. The wire's field names stop here; callers get our own types.
import type { AppConnection, CallOptions } from './connection';
import { InvalidArgumentError, OctoEverywhereError, serviceError } from './errors';
import { checkString } from './validate';
import { isObject, toBool, toInt, toText } from './values';

export interface PrinterLimits {
  maxDownloadFileSizeBytes?: number;
  maxUploadFileSizeBytes?: number;
  maxSingleWebcamStreamLengthSeconds?: number;
  maxTotalWebcamStreamTimePerTimeWindowSeconds?: number;
  webcamStreamTimeWindowSeconds?: number;
}

export interface ConnectionInfo {
  printerName: string;
  printerLocalIp?: string;
  isOnline: boolean;
  /** null when the printer never disconnected (the wire's 0001-01-01). */
  lastDisconnectTime: Date | null;
  lastConnectionTime: Date | null;
  userFacingPrinterUrl?: string;
  limits: PrinterLimits;
}

export const GADGET_STATES = ['disabled', 'disabled-for-current-print', 'idle', 'active', 'paused-due-to-failure'] as const;
export type GadgetStateName = (typeof GADGET_STATES)[number] | 'unknown';
export type GadgetColor = 'g' | 'y' | 'r' | 'w';

export interface GadgetStatus {
  /** 0 Disabled, 1 DisabledForCurrentPrint, 2 Idle, 3 Active, 4 PausedDueToFailure. */
  state: number;
  stateName: GadgetStateName;
  /** A few words; meaningful while state is Active. */
  status: string;
  statusColor: GadgetColor;
  /** 1 failure … 10 perfect; null when not reported. */
  rating: number | null;
}

export interface LiveLink {
  liveId: string;
  url: string;
  shortUrl: string;
}

export interface LiveLinkOptions {
  /** 1..17520; default 24. Ignored when endWhenCurrentPrintIsComplete. */
  expirationHours?: number;
  endWhenCurrentPrintIsComplete?: boolean;
}

export interface WebhookTestResult {
  /** The HTTP status the service got from the webhook URL, when it says. */
  statusCode?: number;
  /** The service's answer as it came (field names are not documented). */
  raw: unknown;
}

const NEVER = /^0001-01-01/;

/** The App API calls of one connection. */
export class AppApi {
  constructor(private readonly connection: AppConnection) {}

  async info(call: CallOptions = {}): Promise<ConnectionInfo> {
    return parseInfo(await this.connection.appApi('Connection info', 'GET', '/api/appconnection/info', undefined, call));
  }

  async gadgetStatus(call: CallOptions = {}): Promise<GadgetStatus> {
    return parseGadget(await this.connection.appApi('Gadget status', 'POST', '/api/gadget/GetStatusFromAppConnection', {}, call));
  }

  async createLiveLink(options: LiveLinkOptions = {}, call: CallOptions = {}): Promise<LiveLink> {
    const body: Record<string, unknown> = {};
    if (options.endWhenCurrentPrintIsComplete) {
      body.EndWhenCurrentPrintIsComplete = true;
    } else if (options.expirationHours !== undefined) {
      const h = Number(options.expirationHours);
      if (!Number.isInteger(h) || h < 1 || h > 17520) {
        throw new InvalidArgumentError('Expiration hours must be a whole number from 1 to 17520.');
      }
      body.ExpirationHours = h;
    }
    const raw = unwrap(await this.connection.appApi('Creating a Live Link', 'POST', '/api/live/createfromappconnection', body, call));
    const liveId = toText(raw.LiveId);
    const url = toText(raw.Url);
    if (!liveId || !url) throw invalidResponse('Live Link');
    return { liveId, url, shortUrl: toText(raw.ShortUrl) ?? url };
  }

  /** Registers (or replaces) the notification webhook. An empty or absent filter means all events. */
  async setNotificationWebhook(webhookUrl: string, eventTypes?: readonly number[], call: CallOptions = {}): Promise<void> {
    checkString(webhookUrl, 'The webhook URL', 2048);
    const body: Record<string, unknown> = { WebhookUrl: webhookUrl };
    if (eventTypes && eventTypes.length > 0) {
      if (!eventTypes.every((t) => Number.isInteger(t) && t > 0)) throw new InvalidArgumentError('Event types must be positive whole numbers.');
      body.InclusiveEventTypesFilter = [...eventTypes];
    }
    await this.connection.appApi('Registering the notification webhook', 'POST', '/api/appconnection/SetNotificationWebhook', body, call);
  }

  async deleteNotificationWebhook(call: CallOptions = {}): Promise<void> {
    await this.connection.appApi('Deleting the notification webhook', 'POST', '/api/appconnection/DeleteNotificationWebhook', {}, call);
  }

  async testWebhook(call: CallOptions = {}): Promise<WebhookTestResult> {
    const raw = await this.connection.appApi('Testing the notification webhook', 'GET', '/api/appconnection/TestWebhook', undefined, call);
    const body = unwrap(raw);
    // The field names of this answer are not documented: take the first integer that looks like an HTTP status.
    const statusCode = Object.entries(body)
      .filter(([k]) => /status|code/i.test(k) && k !== 'Status')
      .map(([, v]) => toInt(v))
      .find((v): v is number => v !== undefined && v >= 100 && v <= 999);
    return { statusCode, raw: body };
  }
}

/** Production wraps results as {Status, Error, IsUserError, Result}; the docs show bare objects. Accept both. */
export function unwrap(body: unknown): Record<string, unknown> {
  if (!isObject(body)) throw invalidResponse('App API');
  if (isObject(body.Result)) {
    const status = toInt(body.Status);
    if (status !== undefined && status !== 200 && status >= 400) throw serviceError(status, 'The App API call');
    return body.Result;
  }
  // An error envelope with no Result: Status is then the envelope's integer, not Gadget's text.
  if (typeof body.Status === 'number' && 'Error' in body && !('State' in body) && body.Status !== 200) {
    throw serviceError(body.Status, 'The App API call');
  }
  return body;
}

export function parseInfo(body: unknown): ConnectionInfo {
  const r = unwrap(body);
  const limits = isObject(r.PrinterLimits) ? r.PrinterLimits : {};
  return {
    printerName: toText(r.PrinterName) ?? '',
    printerLocalIp: toText(r.PrinterLocalIp),
    isOnline: toBool(r.IsOnline) ?? false,
    lastDisconnectTime: toDate(r.LastDisconnectTimeUtc),
    lastConnectionTime: toDate(r.LastConnectionTimeUtc),
    userFacingPrinterUrl: toText(r.UserFacingPrinterUrl),
    limits: {
      maxDownloadFileSizeBytes: toInt(limits.MaxDownloadFileSizeBytes),
      maxUploadFileSizeBytes: toInt(limits.MaxUploadFileSizeBytes),
      maxSingleWebcamStreamLengthSeconds: toInt(limits.MaxSingleWebcamStreamLengthSeconds),
      maxTotalWebcamStreamTimePerTimeWindowSeconds: toInt(limits.MaxTotalWebcamStreamTimePerTimeWindowSeconds),
      webcamStreamTimeWindowSeconds: toInt(limits.WebcamStreamTimeWindow),
    },
  };
}

export function parseGadget(body: unknown): GadgetStatus {
  const r = unwrap(body);
  const state = toInt(r.State);
  if (state === undefined) throw invalidResponse('Gadget status');
  const color = typeof r.StatusColor === 'string' ? r.StatusColor.toLowerCase() : 'w';
  return {
    state,
    stateName: GADGET_STATES[state] ?? 'unknown',
    status: toText(r.Status) ?? '',
    statusColor: (['g', 'y', 'r', 'w'].includes(color) ? color : 'w') as GadgetColor,
    rating: toInt(r.Rating) ?? null,
  };
}

function invalidResponse(what: string): OctoEverywhereError {
  return new OctoEverywhereError('OE_INVALID_RESPONSE', `The ${what} answer from OctoEverywhere has an unexpected shape.`, { kind: 'temporary' });
}

/** .NET dates: `0001-01-01T00:00:00` means never; a date without a zone is UTC. */
export function toDate(value: unknown): Date | null {
  if (typeof value !== 'string' || value === '' || NEVER.test(value)) return null;
  const withZone = /(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`;
  const d = new Date(withZone);
  return Number.isNaN(d.getTime()) ? null : d;
}
