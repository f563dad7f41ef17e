// The config node's admin routes: connecting a printer through the App Connection Portal in one click
// (start → portal window → callback → the editor reads the result once), pasting a completion URL,
// finding a Printer ID on the LAN and testing a connection. Every route that returns or uses a secret
// needs the config node's write permission; the callback needs none because a top-level navigation
// from the portal carries no editor token: its one-time state is the authority.
import fs from 'node:fs';
import path from 'node:path';
import type { Request, RequestHandler, Response } from 'express';
import {
  buildPortalUrl,
  findPrinterId,
  OctoEverywhereClient,
  OctoEverywhereError,
  parseCompletion,
  type AppConnectionOptions,
  type CompletionResult,
} from '../../client';
import { ADMIN_ROUTES } from './adapter';
import { PortalStates, type PortalOutcome, type PortalStatesOptions } from './portal-states';
import type { AppConnectionCredentials, NodeAPI } from './types';

/** Relative to the editor's URL, for the portal's return and logo addresses. */
export const CALLBACK_PATH = `${ADMIN_ROUTES.slice(1)}/portal/callback`;
export const LOGO_PATH = `${ADMIN_ROUTES.slice(1)}/portal/logo.svg`;
const PERMISSION = 'octoeverywhere-app-connection.write';
/** Node-RED shows a saved password credential in the editor as this placeholder. */
export const SAVED_PASSWORD = '__PWRD__';
const TEST_TIMEOUT_MS = 15_000;

const PASSWORD_FIELDS = ['authBasicHttpPassword', 'authBearerToken', 'appApiToken', 'octoPrintApiKey'] as const;
const TEXT_FIELDS = ['url', 'authBasicHttpUser'] as const;

/** What a connection test found, for the dialog to show. */
export type TestState = 'online' | 'offline' | 'shared' | 'no-supporter' | 'reconnect' | 'invalid' | 'error';

export interface TestAnswer {
  state: TestState;
  printerName?: string;
  code?: string;
  message?: string;
  helpUrl?: string;
}

export function registerPortalRoutes(RED: NodeAPI, options: PortalStatesOptions = {}): PortalStates {
  const states = new PortalStates(options);
  const admin = RED.httpAdmin;
  const canWrite = RED.auth.needsPermission(PERMISSION) as RequestHandler;

  admin.post(`${ADMIN_ROUTES}/portal/start`, canWrite, handle((req, res) => {
    const body = bodyOf(req);
    const editor = editorBase(str(body.editorUrl));
    if (!editor) {
      res.status(400).json({ code: 'OE_INVALID_ARGUMENT', message: 'editorUrl must be the editor\'s own http(s) address.' });
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
  }));

  admin.get(`${ADMIN_ROUTES}/portal/callback`, handle((req, res) => {
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    const state = new URLSearchParams(query).get('state') ?? '';
    let outcome: PortalOutcome;
    try {
      outcome = { ok: true, connection: parseCompletion(query) };
    } catch (err) {
      const e = asOctoError(err);
      outcome = { ok: false, code: e.code, message: e.message };
    }
    if (!state || !states.complete(state, outcome)) {
      sendPage(res, 400, RED._('portal.page.expired-title'), RED._('portal.page.expired'));
      return;
    }
    if (outcome.ok) {
      const name = outcome.connection.printerName;
      sendPage(res, 200, name ? RED._('portal.page.connected', { printer: name }) : RED._('portal.page.connected-unnamed'), RED._('portal.page.return'), true);
    } else {
      const reason = outcome.code === 'OE_PORTAL_FAILED' ? RED._('portal.page.cancelled') : outcome.message;
      sendPage(res, 200, RED._('portal.page.failed'), `${reason} ${RED._('portal.page.try-again')}`, true);
    }
  }));

  admin.get(`${ADMIN_ROUTES}/portal/result`, canWrite, handle((req, res) => {
    res.set('Cache-Control', 'no-store');
    const outcome = states.read(typeof req.query.state === 'string' ? req.query.state : '');
    if (outcome === undefined) res.status(404).json({ status: 'unknown' });
    else if (outcome === 'pending') res.json({ status: 'pending' });
    else if (outcome.ok) res.json({ status: 'connected', connection: outcome.connection });
    else res.json({ status: 'failed', code: outcome.code, message: outcome.message });
  }));

  admin.post(`${ADMIN_ROUTES}/portal/parse`, canWrite, handle((req, res) => {
    res.set('Cache-Control', 'no-store');
    try {
      const connection: CompletionResult = parseCompletion(str(bodyOf(req).completion));
      res.json({ connection });
    } catch (err) {
      sendError(res, 400, err);
    }
  }));

  // Shown by the portal (a third-party page) at 100×100 px: the white icon on the node colour. No
  // permission: an <img> carries no editor token, and the picture is no secret.
  admin.get(`/${LOGO_PATH}`, handle((_req, res) => {
    res.set({ 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' }).send(logoSvg());
  }));

  admin.post(`${ADMIN_ROUTES}/app-connection/printer-id`, canWrite, handle(async (req, res) => {
    try {
      res.json(await findPrinterId(str(bodyOf(req).localUrl)));
    } catch (err) {
      sendError(res, 400, err);
    }
  }));

  admin.post(`${ADMIN_ROUTES}/app-connection/test`, canWrite, handle(async (req, res) => {
    const body = bodyOf(req);
    const id = str(body.id);
    const saved = id ? ((RED.nodes.getCredentials(id) as AppConnectionCredentials | undefined) ?? {}) : {};
    const credentials = dialogCredentials(isRecord(body.credentials) ? body.credentials : {}, saved);
    res.set('Cache-Control', 'no-store').json(await testConnection({
      ...credentials,
      authType: body.authType === 'basic' ? 'basic' : 'bearer',
      serviceUrl: str(body.serviceUrl) || undefined,
      appId: str(body.appId) || undefined,
    }));
  }));

  return states;
}

/**
 * The credentials the dialog means: what it sent, except that the saved-password placeholder (or a
 * field it did not send) stands for the value already saved. An empty string is the user's own choice.
 */
export function dialogCredentials(sent: Record<string, unknown>, saved: AppConnectionCredentials): AppConnectionCredentials {
  const out: AppConnectionCredentials = {};
  for (const key of [...TEXT_FIELDS, ...PASSWORD_FIELDS]) {
    const value = sent[key];
    out[key] = typeof value === 'string' && value !== SAVED_PASSWORD ? value : saved[key];
  }
  return out;
}

/** Info API for an App Connection; the command API's ping for a Shared Connection (it has no App APIs). */
export async function testConnection(values: Omit<AppConnectionOptions, 'url'> & { url?: string }): Promise<TestAnswer> {
  let client: OctoEverywhereClient;
  try {
    client = new OctoEverywhereClient({ ...values, url: values.url ?? '', localUrl: undefined, timeoutMs: TEST_TIMEOUT_MS });
  } catch (err) {
    return { state: 'invalid', ...errorFields(asOctoError(err)) };
  }
  try {
    if (!client.connection.hasAppApi) {
      await client.commands.ping();
      return { state: 'shared' };
    }
    const info = await client.app.info();
    return { state: info.isOnline ? 'online' : 'offline', printerName: info.printerName };
  } catch (err) {
    const e = asOctoError(err);
    const state: TestState = e.status === 605 ? 'no-supporter' : e.status === 603 || e.status === 604 || e.status === 606 ? 'reconnect' : 'error';
    return { state, ...errorFields(e) };
  } finally {
    await client.close();
  }
}

function errorFields(e: OctoEverywhereError): Pick<TestAnswer, 'code' | 'message' | 'helpUrl'> {
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

/** Client errors carry their own codes and secret-free messages; anything else is said in general words. */
function asOctoError(err: unknown): OctoEverywhereError {
  return err instanceof OctoEverywhereError ? err : new OctoEverywhereError('OE_UNEXPECTED', 'Something unexpected went wrong.');
}

function sendError(res: Response, status: number, err: unknown): void {
  const e = asOctoError(err);
  res.status(status).json(errorFields(e));
}

/** Express 4 does not catch a rejected handler: answer 500 without detail rather than hang. */
function handle(fn: (req: Request, res: Response) => void | Promise<void>): RequestHandler {
  return (req, res) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch(() => {
        if (!res.headersSent) res.status(500).json({ code: 'OE_UNEXPECTED', message: 'Something unexpected went wrong.' });
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
    const file = [path.join(__dirname, '..', 'icons', 'octoeverywhere.svg'), path.join(__dirname, '..', '..', '..', 'icons', 'octoeverywhere.svg')].find((f) => fs.existsSync(f));
    const icon = file ? fs.readFileSync(file, 'utf8').trim().replace(/^<svg /, '<svg x="30" y="20" ') : '';
    logo = `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100"><rect width="100" height="100" rx="20" fill="#5a8fd6"/>${icon}</svg>`;
  }
  return logo;
}
