// The config node's admin routes: connecting a printer through the App Connection Portal in one click
// (start → portal window → callback → the editor reads the result once), pasting a completion URL,
// finding a Printer ID on the LAN, testing a connection and giving a saved node's Connection URL and
// Basic user back to the dialog. Every route that returns or uses a secret or those values needs the
// config node's write permission; the callback needs none because a top-level navigation
// from the portal carries no editor token: its one-time state is the authority.
import fs from 'node:fs';
import path from 'node:path';
import type { Request, RequestHandler, Response } from 'express';
import {
  buildPortalUrl,
  connectionHostKind,
  DEFAULT_SERVICE_URL,
  FEATURES,
  findPrinterId,
  type JobStatus,
  livePlatformOf,
  needsSerialNumber,
  OctoEverywhereClient,
  OctoEverywhereError,
  parseCompletion,
  parseJobStatus,
  parseSerialNumber,
  type AppConnectionOptions,
  type CompletionResult,
  type ConnectionInfo,
} from '../../client';
import { baseUrlString, parseBaseUrl, parseLocalUrl } from '../../client/urls';
import { ADMIN_ROUTES } from './adapter';
import { asOctoEverywhereError } from './failure';
import { clientOptions } from './printer-connection';
import { PortalStates, type PortalOutcome, type PortalStatesOptions } from './portal-states';
import type { AppConnectionCredentials, AppConnectionDef, NodeAPI } from './types';

/** Relative to the editor's URL, for the portal's return and logo addresses. */
export const CALLBACK_PATH = `${ADMIN_ROUTES.slice(1)}/portal/callback`;
export const LOGO_PATH = `${ADMIN_ROUTES.slice(1)}/portal/logo.svg`;
const PERMISSION = 'octoeverywhere-app-connection.write';
/** Node-RED shows a saved password credential in the editor as this placeholder. */
export const SAVED_PASSWORD = '__PWRD__';
const TEST_TIMEOUT_MS = 15_000;

const PASSWORD_FIELDS = ['authBasicHttpPassword', 'authBearerToken', 'appApiToken', 'octoPrintApiKey'] as const;
/** Not secrets, but private: password credentials too, given back only by the private route. */
const PRIVATE_FIELDS = ['url', 'authBasicHttpUser'] as const;

const TYPE = 'octoeverywhere-app-connection';
const LAN_TIMEOUT_MS = 5_000;

export type CheckLevel = 'ok' | 'warn' | 'error';
export type CheckId = 'settings' | 'secrets' | 'relay' | 'app-api' | 'lan' | 'printer' | 'live';

/**
 * One line of a connection test. The dialog shows it from its catalog as `test.<id>.<result>` with
 * `args`; `message` args are the client's own words (built from its code table, never from a secret).
 */
export interface TestCheck {
  id: CheckId;
  level: CheckLevel;
  result: string;
  code?: string;
  args?: Record<string, string | string[]>;
  helpUrl?: string;
}

/** What a connection test found: every part on its own, and the worst level of them. */
export interface TestAnswer {
  level: CheckLevel;
  checks: TestCheck[];
}

/** The values a connection test uses: the dialog's, with saved secrets only where the addresses are the saved ones. */
export interface TestValues extends Omit<AppConnectionOptions, 'url'> {
  url?: string;
  /** The dialog's serial number (Bambu Lab / Elegoo CC2): only its presence and shape are tested. */
  serialNumber?: string;
}

export function registerPortalRoutes(RED: NodeAPI, options: PortalStatesOptions = {}): PortalStates {
  const states = new PortalStates(options);
  const admin = RED.httpAdmin;
  const canWrite = RED.auth.needsPermission(PERMISSION) as RequestHandler;

  admin.post(
    `${ADMIN_ROUTES}/portal/start`,
    canWrite,
    handle((req, res) => {
      const body = bodyOf(req);
      const editor = editorBase(str(body.editorUrl));
      if (!editor) {
        res.status(400).json({ code: 'OE_INVALID_ARGUMENT', message: RED._('portal.errors.editor-url') });
        return;
      }
      const state = states.create();
      const returnUrl = new URL(CALLBACK_PATH, editor);
      returnUrl.searchParams.set('state', state);
      try {
        const portalUrl = buildPortalUrl({
          serviceUrl: str(body.serviceUrl) || undefined,
          appId: str(body.appId) || undefined,
          printerId: str(body.printerId) || undefined,
          octoPrintApiKeyAppName: str(body.octoPrintApiKeyAppName) || undefined,
          appLogoUrl: new URL(LOGO_PATH, editor).toString(),
          returnUrl: returnUrl.toString(),
        });
        res.json({ state, portalUrl });
      } catch (err) {
        states.discard(state);
        sendError(res, 400, err);
      }
    }),
  );

  admin.get(
    `${ADMIN_ROUTES}/portal/callback`,
    handle((req, res) => {
      const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
      const state = new URLSearchParams(query).get('state') ?? '';
      let outcome: PortalOutcome;
      try {
        outcome = { ok: true, connection: parseCompletion(query) };
      } catch (err) {
        const e = asOctoEverywhereError(err);
        outcome = { ok: false, code: e.code, message: e.message };
      }
      if (!state || !states.complete(state, outcome)) {
        sendPage(res, 400, RED._('portal.page.expired-title'), RED._('portal.page.expired'));
        return;
      }
      if (outcome.ok) {
        const name = outcome.connection.printerName;
        sendPage(
          res,
          200,
          name ? RED._('portal.page.connected', { printer: name }) : RED._('portal.page.connected-unnamed'),
          RED._('portal.page.return'),
          true,
        );
      } else {
        const reason = outcome.code === 'OE_PORTAL_FAILED' ? RED._('portal.page.cancelled') : outcome.message;
        sendPage(res, 200, RED._('portal.page.failed'), `${reason} ${RED._('portal.page.try-again')}`, true);
      }
    }),
  );

  admin.get(
    `${ADMIN_ROUTES}/portal/result`,
    canWrite,
    handle((req, res) => {
      res.set('Cache-Control', 'no-store');
      const outcome = states.read(typeof req.query.state === 'string' ? req.query.state : '');
      if (outcome === undefined) res.status(404).json({ status: 'unknown' });
      else if (outcome === 'pending') res.json({ status: 'pending' });
      else if (outcome.ok) res.json({ status: 'connected', connection: outcome.connection, trustedHost: trustedHost(outcome.connection) });
      else res.json({ status: 'failed', code: outcome.code, message: outcome.message });
    }),
  );

  admin.post(
    `${ADMIN_ROUTES}/portal/parse`,
    canWrite,
    handle((req, res) => {
      res.set('Cache-Control', 'no-store');
      try {
        const connection: CompletionResult = parseCompletion(str(bodyOf(req).completion));
        res.json({ connection, trustedHost: trustedHost(connection) });
      } catch (err) {
        sendError(res, 400, err);
      }
    }),
  );

  // Shown by the portal (a third-party page) at 100×100 px: the white icon on the node colour. No
  // permission: an <img> carries no editor token, and the picture is no secret.
  admin.get(
    `/${LOGO_PATH}`,
    handle((_req, res) => {
      res.set({ 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' }).send(logoSvg());
    }),
  );

  admin.post(
    `${ADMIN_ROUTES}/app-connection/printer-id`,
    canWrite,
    handle(async (req, res) => {
      try {
        res.json(await findPrinterId(str(bodyOf(req).localUrl)));
      } catch (err) {
        sendError(res, 400, err);
      }
    }),
  );

  // The saved node's Connection URL and Basic user: not secrets, but private (a read-only editor user
  // does not see them), so they are password credentials and the dialog of a user who may change the
  // node reads them here. Only for our own config type: other nodes' credentials are none of ours.
  admin.get(
    `${ADMIN_ROUTES}/app-connection/:id/private`,
    canWrite,
    handle((req, res) => {
      res.set('Cache-Control', 'no-store');
      const id = str(req.params.id);
      if (!savedConfig(RED, id)) {
        res.status(404).json({ code: 'OE_NOT_FOUND', message: RED._('portal.errors.not-found') });
        return;
      }
      const saved = (RED.nodes.getCredentials(id) as AppConnectionCredentials | undefined) ?? {};
      res.json({ url: saved.url ?? '', authBasicHttpUser: saved.authBasicHttpUser ?? '' });
    }),
  );

  admin.post(
    `${ADMIN_ROUTES}/app-connection/test`,
    canWrite,
    handle(async (req, res) => {
      const body = bodyOf(req);
      const id = str(body.id);
      const sent = isRecord(body.credentials) ? body.credentials : {};
      // Only a deployed config node of ours has saved values to stand in for placeholders.
      const config = id ? savedConfig(RED, id) : undefined;
      const saved = config ? ((RED.nodes.getCredentials(id) as AppConnectionCredentials | undefined) ?? {}) : {};
      const address = {
        url: resolvedUrl(sent.url, saved.url),
        serviceUrl: str(body.serviceUrl),
        localUrl: str(body.localUrl),
      };
      res.set('Cache-Control', 'no-store');
      // Saved secrets go only to the saved addresses: a changed (or undeployed) address gets only what the dialog itself holds.
      const atSavedAddresses = config !== undefined && sameAddresses(address, saved.url, config);
      if (!atSavedAddresses && wantsSaved(sent, saved)) {
        res.json(answer([{ id: 'secrets', level: 'error', result: 'not-sent', code: 'OE_SECRETS_NOT_SENT' }]));
        return;
      }
      const credentials = dialogCredentials(sent, atSavedAddresses ? saved : {});
      // The dialog's values through the same mapping the deployed config node uses.
      const dialog = {
        authType: body.authType === 'basic' ? 'basic' : 'bearer',
        serviceUrl: address.serviceUrl,
        appId: str(body.appId),
        localUrl: address.localUrl,
      } as const;
      res.json(await testConnection({ ...clientOptions(dialog, { ...credentials, url: address.url }), serialNumber: str(body.serialNumber) }));
    }),
  );

  return states;
}

/**
 * The credentials the dialog means: what it sent, except that the saved-password placeholder (or a
 * field it did not send) stands for the value already saved. An empty string is the user's own choice.
 */
export function dialogCredentials(sent: Record<string, unknown>, saved: AppConnectionCredentials): AppConnectionCredentials {
  const out: AppConnectionCredentials = {};
  for (const key of [...PRIVATE_FIELDS, ...PASSWORD_FIELDS]) {
    const value = sent[key];
    out[key] = typeof value === 'string' && value !== SAVED_PASSWORD ? value : saved[key];
  }
  return out;
}

/** The deployed definition of one of our config nodes (its non-secret properties), if there is one. */
function savedConfig(RED: NodeAPI, id: string): AppConnectionDef | undefined {
  let found: AppConnectionDef | undefined;
  if (id)
    RED.nodes.eachNode((n) => {
      if (n.id === id && n.type === TYPE) found = n;
    });
  return found;
}

/** The Connection URL the dialog means; a placeholder (or nothing) stands for the saved one. */
function resolvedUrl(sent: unknown, saved: string | undefined): string {
  return typeof sent === 'string' && sent !== SAVED_PASSWORD ? sent.trim() : (saved ?? '');
}

/** Whether the dialog leaves any saved secret (or the Basic user) to the server with the placeholder. */
function wantsSaved(sent: Record<string, unknown>, saved: AppConnectionCredentials): boolean {
  return [...PASSWORD_FIELDS, 'authBasicHttpUser' as const].some((k) => sent[k] === SAVED_PASSWORD && typeof saved[k] === 'string' && saved[k] !== '');
}

function sameAddresses(address: { url: string; serviceUrl: string; localUrl: string }, savedUrl: string | undefined, config: AppConnectionDef): boolean {
  return (
    normalised(address.url, false) === normalised(savedUrl ?? '', false) &&
    normalised(address.serviceUrl || DEFAULT_SERVICE_URL, false) === normalised(config.serviceUrl || DEFAULT_SERVICE_URL, false) &&
    normalised(address.localUrl, true) === normalised(config.localUrl ?? '', true)
  );
}

/** An address as the client would use it (case, trailing slash); the raw text when it cannot be parsed. */
function normalised(value: string, local: boolean): string {
  const text = value.trim();
  if (text === '') return '';
  try {
    const url = local ? parseLocalUrl(text) : parseBaseUrl(text, 'URL');
    return url ? baseUrlString(url) : '';
  } catch {
    return text;
  }
}

function trustedHost(connection: CompletionResult): boolean {
  return connectionHostKind(connection.url) !== undefined;
}

function answer(checks: TestCheck[]): TestAnswer {
  const level: CheckLevel = checks.some((c) => c.level === 'error') ? 'error' : checks.some((c) => c.level === 'warn') ? 'warn' : 'ok';
  return { level, checks };
}

function failed(id: CheckId, err: unknown): TestCheck {
  const e = asOctoEverywhereError(err);
  return { id, level: 'error', result: 'failed', code: e.code, helpUrl: e.helpUrl, args: { code: e.code, message: e.message } };
}

/** The names of a status's Features bits (light, home, …), in the table's order. */
function featureNames(bits: number): string[] {
  return Object.entries(FEATURES)
    .filter(([, bit]) => (bits & bit) !== 0)
    .map(([name]) => name);
}

/**
 * Tests what the nodes will use, each part on its own: the relay (the command API's status through
 * the Connection URL with its auth header), the App APIs (Info with the App API token), the LAN URL
 * when set, and what that says about the printer. Nothing in the answer repeats a value it was given.
 */
export async function testConnection(values: TestValues): Promise<TestAnswer> {
  let client: OctoEverywhereClient;
  try {
    const { serialNumber: _serial, ...options } = values;
    client = new OctoEverywhereClient({ ...options, url: values.url ?? '', timeoutMs: values.timeoutMs ?? TEST_TIMEOUT_MS });
  } catch (err) {
    const e = asOctoEverywhereError(err);
    return answer([{ id: 'settings', level: 'error', result: 'invalid', code: e.code, args: { code: e.code, message: e.message } }]);
  }
  try {
    const hasAppApi = client.connection.hasAppApi;
    const [relay, info, lan] = await Promise.all([
      client.commands.status().then(
        (wire) => ({ ok: true as const, status: parseJobStatus(wire) }),
        (err: unknown) => ({ ok: false as const, err }),
      ),
      hasAppApi
        ? client.app.info().then(
            (i): { ok: true; info: ConnectionInfo } => ({ ok: true, info: i }),
            (err: unknown) => ({ ok: false as const, err }),
          )
        : undefined,
      client.connection.localUrl ? testLan(client, client.connection.localUrl) : undefined,
    ]);
    const checks: TestCheck[] = [];
    checks.push(relay.ok ? { id: 'relay', level: 'ok', result: 'ok' } : failed('relay', relay.err));
    // No App API token: a Shared Connection has none; an App Connection URL (app-…) is missing its own.
    if (!info) checks.push({ id: 'app-api', level: 'warn', result: namesAppConnection(client.connection.baseUrl) ? 'no-token' : 'shared' });
    else checks.push(info.ok ? { id: 'app-api', level: 'ok', result: 'ok' } : failed('app-api', info.err));
    if (lan) checks.push(lan.check);

    // The printer: online when its plugin answered the relay. Online by the Info API alone is said as
    // unreached: OctoEverywhere reaches it, the nodes (through this Connection URL) do not.
    const known = info?.ok ? info.info : undefined;
    if (relay.ok || known) {
      const result = relay.ok ? 'online' : known?.isOnline === true ? 'unreached' : 'offline';
      const args: Record<string, string | string[]> = {};
      if (known?.printerName) args.printer = known.printerName;
      if (relay.ok && relay.status.platformVersion) args.platform = relay.status.platformVersion;
      if (lan?.pluginVersion) args.plugin = lan.pluginVersion;
      if (relay.ok) args.features = featureNames(relay.status.features);
      checks.push({ id: 'printer', level: relay.ok ? 'ok' : 'warn', result, args });
    }
    const live = relay.ok ? liveCheck(relay.status, values.serialNumber) : undefined;
    if (live) checks.push(live);
    return answer(checks);
  } finally {
    await client.close();
  }
}

/** Whether a Connection URL's host is an App Connection's (`app-….octoeverywhere.com`, the simulator's `app-….localhost`). */
function namesAppConnection(baseUrl: string): boolean {
  return /^app-/i.test(new URL(baseUrl).hostname);
}

const MQTT_PLATFORM_NAMES = { bambu: 'Bambu Lab', 'elegoo-cc2': 'Elegoo CC2' } as const;

/**
 * Bambu Lab and Elegoo CC2 only: whether status nodes can go live (the serial number is there and of
 * the right shape). Nothing is subscribed: on a Bambu printer a wrong serial drops every client.
 */
function liveCheck(status: JobStatus, serial: string | undefined): TestCheck | undefined {
  const verdict = livePlatformOf(status);
  if (verdict.platform ? !needsSerialNumber(verdict.platform) : verdict.why === 'no-push') return undefined;
  const platform = verdict.platform === 'bambu' || verdict.platform === 'elegoo-cc2' ? MQTT_PLATFORM_NAMES[verdict.platform] : 'Bambu Lab / Elegoo CC2';
  let parsed: string | undefined;
  try {
    parsed = parseSerialNumber(serial);
  } catch (err) {
    const e = asOctoEverywhereError(err);
    return { id: 'live', level: 'warn', result: 'serial-invalid', code: e.code, args: { code: e.code, message: e.message } };
  }
  if (parsed === undefined) return { id: 'live', level: 'warn', result: 'needs-serial', code: 'OE_LIVE_NEEDS_SERIAL', args: { platform } };
  if (!verdict.platform)
    return { id: 'live', level: 'warn', result: 'unknown-platform', code: 'OE_LIVE_PLATFORM_UNKNOWN', args: { version: status.platformVersion ?? '—' } };
  return { id: 'live', level: 'ok', result: 'ready', args: { platform } };
}

/** Whether the LAN URL answers (any HTTP status will do), and the plugin's version when it says. */
async function testLan(client: OctoEverywhereClient, localUrl: string): Promise<{ check: TestCheck; pluginVersion?: string }> {
  try {
    const res = await client.connection.request({ path: '/', via: 'local', responseType: 'buffer', timeoutMs: LAN_TIMEOUT_MS, maxResponseBytes: 1024 * 1024 });
    const found = await findPrinterId(localUrl, { timeoutMs: LAN_TIMEOUT_MS }).catch(() => undefined);
    return { check: { id: 'lan', level: 'ok', result: 'ok', args: { status: String(res.statusCode) } }, pluginVersion: found?.pluginVersion };
  } catch (err) {
    const e = asOctoEverywhereError(err);
    return { check: { id: 'lan', level: 'warn', result: 'failed', code: e.code, args: { code: e.code, message: e.message } } };
  }
}

function errorFields(e: OctoEverywhereError): { code: string; message: string; helpUrl?: string } {
  return { code: e.code, message: e.message, helpUrl: e.helpUrl };
}

/** The editor's base address (origin and path, ending in '/'), which also serves the admin routes. */
function editorBase(value: string): URL | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    url.search = '';
    url.hash = '';
    url.username = '';
    url.password = '';
    if (!url.pathname.endsWith('/')) url.pathname = url.pathname.replace(/[^/]*$/, '');
    return url;
  } catch {
    return undefined;
  }
}

function sendError(res: Response, status: number, err: unknown): void {
  const e = asOctoEverywhereError(err);
  res.status(status).json(errorFields(e));
}

/** Express 4 does not catch a rejected handler: answer 500 without detail rather than hang. */
function handle(fn: (req: Request, res: Response) => void | Promise<void>): RequestHandler {
  return (req, res) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch((err: unknown) => {
        if (!res.headersSent) res.status(500).json(errorFields(asOctoEverywhereError(err)));
      });
  };
}

function bodyOf(req: Request): Record<string, unknown> {
  return isRecord(req.body) ? req.body : {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The small page the portal lands on. The completion's secrets are in this page's URL: it keeps
 * them out of history and referrers, and tries to close the window it was opened in.
 */
function sendPage(res: Response, status: number, title: string, text: string, closeSoon = false): void {
  const script = `<script>try{history.replaceState(null,'',location.pathname)}catch(e){}${closeSoon ? 'setTimeout(function(){try{window.close()}catch(e){}},1500);' : ''}</script>`;
  res
    .status(status)
    .set({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Content-Type-Options': 'nosniff' })
    .send(`<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title><style>:root{color-scheme:light dark}body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}</style></head>
<body><h1 id="oe-title">${escapeHtml(title)}</h1><p id="oe-text">${escapeHtml(text)}</p>${script}</body></html>`);
}

let logo: string | undefined;
/** The package icon (white strokes) centred on a tile of the node colour; read once. */
function logoSvg(): string {
  if (logo === undefined) {
    // Beside the compiled nodes in dist/nodes/icons, or the project's icons/ when run from src/.
    const file = [path.join(__dirname, '..', 'icons', 'octoeverywhere.svg'), path.join(__dirname, '..', '..', '..', 'icons', 'octoeverywhere.svg')].find((f) =>
      fs.existsSync(f),
    );
    const icon = file
      ? fs
          .readFileSync(file, 'utf8')
          .trim()
          .replace(/^<svg /, '<svg x="30" y="20" ')
      : '';
    logo = `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100"><rect width="100" height="100" rx="20" fill="#5a8fd6"/>${icon}</svg>`;
  }
  return logo;
}
