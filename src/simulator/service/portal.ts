// The App Connection Portal (docs/octoeverywhere.md §2): login → (Supporter) → (add printer) → choose printer →
// authorize, then a 302 to the return URL with the completion keys appended as production sends them.
// The original query string rides along every step in a hidden `q` field, so the flow is stateless
// apart from the login cookie. Buttons and inputs have stable ids for browser-driven tests.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimPrinter } from '../contract';
import type { Account, CompletionKeys } from './account';
import { page } from './html';
import { escapeHtml, lowerCaseParams, readText, redirect, sendHtml } from './http-util';
import { token } from './ids';

export const PORTAL_PATH = '/appportal/v1/';
const SESSION_COOKIE = 'oe_sim_session';

/** Appends `keys` to a return URL (any scheme), before a fragment, with `?` or `&` as the URL needs. */
export function appendCompletion(returnUrl: string, keys: ReadonlyArray<readonly [string, string]>): string {
  const hash = returnUrl.indexOf('#');
  const base = hash < 0 ? returnUrl : returnUrl.slice(0, hash);
  const fragment = hash < 0 ? '' : returnUrl.slice(hash);
  const query = keys.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return base + separator + query + fragment;
}

/** The portal's start parameters, read case-insensitively. */
interface PortalRequest {
  /** The original query string, carried through every step. */
  q: string;
  appId: string;
  returnUrl: string;
  printerId?: string;
  appLogoUrl?: string;
  octoPrintApiKeyAppName?: string;
}

type Parsed = { ok: true; request: PortalRequest } | { ok: false; error: string };

export class Portal {
  private readonly sessions = new Set<string>();

  constructor(private readonly account: Account) {}

  get defaultReturnUrl(): string {
    return `${this.account.serviceUrl}${PORTAL_PATH}complete`;
  }

  /** Serves `lowerPath` if it is a portal page; false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, lowerPath: string, rawQuery: string): Promise<boolean> {
    if (lowerPath === '/appportal/v1' || lowerPath === PORTAL_PATH) {
      this.start(req, res, rawQuery);
      return true;
    }
    if (!lowerPath.startsWith(PORTAL_PATH)) return false;
    const query = new URLSearchParams(rawQuery);
    const step = lowerPath.slice(PORTAL_PATH.length);
    if (req.method === 'GET') {
      if (step === 'complete') this.complete(res, query);
      else if (step === 'nosupporterperks') this.noSupporterPerks(res, query);
      else if (step === 'authorize') this.authorizePage(req, res, query.get('q') ?? '', query.get('printer') ?? '');
      else return false;
      return true;
    }
    if (req.method !== 'POST') return false;
    const form = new URLSearchParams(await readText(req));
    const q = form.get('q') ?? '';
    switch (step) {
      case 'login':
        this.login(res, form, q);
        return true;
      case 'supporter':
        this.account.supporter = true;
        redirect(res, form.has('q') ? `${PORTAL_PATH}?${q}` : `${PORTAL_PATH}nosupporterperks?thanks=1`, 303);
        return true;
      case 'addprinter':
        this.addPrinter(req, res, q);
        return true;
      case 'authorize':
        this.authorize(req, res, q, form.get('printer') ?? '', form.get('action') ?? '');
        return true;
      case 'cancel':
        this.finish(res, q, undefined);
        return true;
      default:
        return false;
    }
  }

  private parse(q: string): Parsed {
    const params = lowerCaseParams(new URLSearchParams(q));
    const appId = params.get('appid') ?? '';
    if (appId === '') return { ok: false, error: 'The appid parameter is required.' };
    const returnUrl = params.get('returnurl') || this.defaultReturnUrl;
    if (!/^[a-z][a-z0-9+.-]*:/i.test(returnUrl)) return { ok: false, error: 'returnUrl must be an absolute URL.' };
    const apiKeyName = params.get('octoprintapikeyappname');
    if (apiKeyName !== undefined && (apiKeyName.length < 2 || apiKeyName.length > 60)) {
      return { ok: false, error: 'octoPrintApiKeyAppName must be 2 to 60 characters.' };
    }
    return {
      ok: true,
      request: {
        q,
        appId,
        returnUrl,
        printerId: params.get('printerid') || undefined,
        appLogoUrl: params.get('applogourl') || undefined,
        octoPrintApiKeyAppName: apiKeyName,
      },
    };
  }

  /** Parses `q` and checks the login; renders the error or login page itself when the flow cannot go on. */
  private gate(req: IncomingMessage, res: ServerResponse, q: string): PortalRequest | undefined {
    const parsed = this.parse(q);
    if (!parsed.ok) {
      sendHtml(res, 400, page('Error', `<h1>Something is wrong with this link</h1><p class="error" id="error">${escapeHtml(parsed.error)}</p>`));
      return undefined;
    }
    if (!this.loggedIn(req)) {
      this.loginPage(res, parsed.request);
      return undefined;
    }
    return parsed.request;
  }

  private start(req: IncomingMessage, res: ServerResponse, q: string): void {
    const request = this.gate(req, res, q);
    if (!request) return;
    if (!this.account.supporter) {
      this.render(
        res,
        request,
        'Supporter Perks needed',
        `
<p>App Connections are a Supporter Perk. Become a Supporter to connect this app.</p>
<form method="post" action="${PORTAL_PATH}supporter" id="supporter-form">${hiddenQ(request)}
<div class="buttons"><button class="primary" id="become-supporter" type="submit">Become a Supporter</button></div></form>
${cancelForm(request)}`,
      );
      return;
    }
    if (request.printerId !== undefined && !this.account.printers.some((p) => p.printerId === request.printerId)) {
      this.addPrinterPage(res, request, request.printerId);
      return;
    }
    this.choosePage(res, request);
  }

  private loginPage(res: ServerResponse, request: PortalRequest, error = ''): void {
    this.render(
      res,
      request,
      'Sign in',
      `
${error ? `<p class="error" id="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${PORTAL_PATH}login" id="login-form">${hiddenQ(request)}
<label for="email">Email</label><input type="email" id="email" name="email" autocomplete="username" value="${escapeHtml(this.account.email)}" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="buttons"><button class="primary" id="login" type="submit">Sign in</button></div></form>
${cancelForm(request)}
<p class="note">Simulator: any email and password work.</p>`,
    );
  }

  private login(res: ServerResponse, form: URLSearchParams, q: string): void {
    const parsed = this.parse(q);
    if (!parsed.ok) {
      sendHtml(res, 400, page('Error', `<p class="error" id="error">${escapeHtml(parsed.error)}</p>`));
      return;
    }
    const email = form.get('email') ?? '';
    const password = form.get('password') ?? '';
    if (!email.includes('@') || password === '') {
      this.loginPage(res, parsed.request, 'Enter your email and password.');
      return;
    }
    const session = token(32);
    this.sessions.add(session);
    redirect(res, `${PORTAL_PATH}?${q}`, 303, {
      'set-cookie': `${SESSION_COOKIE}=${session}; Path=/appportal/; HttpOnly; SameSite=Lax`,
    });
  }

  private addPrinterPage(res: ServerResponse, request: PortalRequest, printerId: string): void {
    const printer = this.account.unlinkedPrinter(printerId);
    const others = new URLSearchParams(request.q);
    for (const name of [...others.keys()]) if (name.toLowerCase() === 'printerid') others.delete(name);
    const choose =
      this.account.printers.length > 0
        ? `<p><a href="${PORTAL_PATH}?${escapeHtml(others.toString())}" id="choose-other">Choose one of my printers instead</a></p>`
        : '';
    const body = printer
      ? `<p>Add <strong id="new-printer-name">${escapeHtml(printer.name)}</strong> to your account to connect it.</p>
<form method="post" action="${PORTAL_PATH}addprinter">${hiddenQ(request)}
<div class="buttons"><button class="primary" id="add-printer" type="submit">Add this printer</button></div></form>`
      : `<p id="waiting">This printer is not connected to OctoEverywhere yet. Install the OctoEverywhere plugin on it, then <a href="${PORTAL_PATH}?${escapeHtml(request.q)}" id="check-again">check again</a>.</p>`;
    this.render(res, request, 'Add this printer', `${body}${choose}${cancelForm(request)}`);
  }

  private addPrinter(req: IncomingMessage, res: ServerResponse, q: string): void {
    const request = this.gate(req, res, q);
    if (!request) return;
    const printer = request.printerId !== undefined ? this.account.unlinkedPrinter(request.printerId) : undefined;
    if (printer) this.account.link(printer);
    redirect(res, `${PORTAL_PATH}?${q}`, 303);
  }

  private choosePage(res: ServerResponse, request: PortalRequest): void {
    const printers = this.account.printers;
    if (printers.length === 0) {
      this.render(
        res,
        request,
        'No printers yet',
        `<p id="no-printers">Your account has no printers. Install the OctoEverywhere plugin first.</p>${cancelForm(request)}`,
      );
      return;
    }
    const preselected = printers.find((p) => p.printerId === request.printerId) ?? printers[0];
    const options = printers
      .map(
        (
          p,
          i,
        ) => `<label class="choice" for="printer-${i}"><input type="radio" id="printer-${i}" name="printer" value="${p.printerId}"${p === preselected ? ' checked' : ''}>
<span>${escapeHtml(p.name)}<small>${escapeHtml(p.kind)}</small></span></label>`,
      )
      .join('\n');
    this.render(
      res,
      request,
      'Choose a printer',
      `
<form method="get" action="${PORTAL_PATH}authorize" id="choose-form">${hiddenQ(request)}
${options}
<div class="buttons"><button class="primary" id="continue" type="submit">Continue</button></div></form>
${cancelForm(request)}`,
    );
  }

  private authorizePage(req: IncomingMessage, res: ServerResponse, q: string, printerId: string): void {
    const request = this.gate(req, res, q);
    if (!request) return;
    const printer = this.account.printers.find((p) => p.printerId === printerId);
    if (!printer) {
      this.choosePage(res, request);
      return;
    }
    const apiKeyNote = request.octoPrintApiKeyAppName !== undefined && printer.kind === 'octoprint' ? '<li>Create an OctoPrint API key for it</li>' : '';
    this.render(
      res,
      request,
      'Allow access?',
      `
<p><strong id="app-id">${escapeHtml(request.appId)}</strong> wants remote access to <strong id="printer-name">${escapeHtml(printer.name)}</strong>:</p>
<ul><li>Control and monitor the printer</li><li>View its webcam</li>${apiKeyNote}</ul>
<form method="post" action="${PORTAL_PATH}authorize" id="authorize-form">${hiddenQ(request)}
<input type="hidden" name="printer" value="${printer.printerId}">
<div class="buttons"><button class="secondary" id="cancel" name="action" value="cancel" type="submit">Cancel</button>
<button class="primary" id="allow" name="action" value="allow" type="submit">Allow</button></div></form>`,
    );
  }

  private authorize(req: IncomingMessage, res: ServerResponse, q: string, printerId: string, action: string): void {
    const request = this.gate(req, res, q);
    if (!request) return;
    const printer = this.account.printers.find((p) => p.printerId === printerId);
    if (action !== 'allow' || !printer) {
      this.finish(res, q, undefined);
      return;
    }
    this.finish(res, q, this.connect(request, printer));
  }

  private connect(request: PortalRequest, printer: SimPrinter): CompletionKeys {
    return this.account.createAppConnection(printer, {
      appId: request.appId,
      octoPrintApiKeyAppName: request.octoPrintApiKeyAppName,
    });
  }

  /** Navigates to the return URL: the completion keys, or `success=false` (keys undefined). */
  private finish(res: ServerResponse, q: string, keys: CompletionKeys | undefined): void {
    const parsed = this.parse(q);
    const returnUrl = parsed.ok ? parsed.request.returnUrl : this.defaultReturnUrl;
    const entries: Array<[string, string]> = keys
      ? Object.entries(keys).filter((e): e is [string, string] => typeof e[1] === 'string')
      : [['success', 'false']];
    redirect(res, appendCompletion(returnUrl, entries));
  }

  private complete(res: ServerResponse, query: URLSearchParams): void {
    const ok = query.get('success') === 'true';
    sendHtml(
      res,
      200,
      page(
        ok ? 'Connected' : 'Not connected',
        ok
          ? '<h1 id="done">Your printer is connected.</h1><p>You can close this window and return to the app.</p>'
          : '<h1 id="done">No connection was made.</h1><p>You can close this window and return to the app.</p>',
      ),
    );
  }

  private noSupporterPerks(res: ServerResponse, query: URLSearchParams): void {
    const appId = lowerCaseParams(query).get('appid') ?? '';
    const body = this.account.supporter
      ? '<h1 id="supporter-active">Supporter Perks are active</h1><p>Your App Connections work again. You can return to the app.</p>'
      : `<h1>Supporter Perks needed</h1><p>${appId ? `<strong>${escapeHtml(appId)}</strong> uses` : 'This app uses'} App Connections, which are a Supporter Perk.</p>
<form method="post" action="${PORTAL_PATH}supporter"><div class="buttons"><button class="primary" id="become-supporter" type="submit">Become a Supporter</button></div></form>`;
    sendHtml(res, 200, page('Supporter Perks', body));
  }

  private loggedIn(req: IncomingMessage): boolean {
    const cookie = req.headers.cookie ?? '';
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE && this.sessions.has(part.slice(eq + 1).trim())) return true;
    }
    return false;
  }

  private render(res: ServerResponse, request: PortalRequest, title: string, body: string): void {
    const logo =
      request.appLogoUrl && /^https?:\/\//i.test(request.appLogoUrl)
        ? `<img class="logo" id="app-logo" alt="" width="100" height="100" src="${escapeHtml(request.appLogoUrl)}">`
        : '';
    sendHtml(res, 200, page(title, `${logo}<h1>${escapeHtml(title)}</h1>${body}`));
  }
}

function hiddenQ(request: PortalRequest): string {
  return `<input type="hidden" name="q" value="${escapeHtml(request.q)}">`;
}

function cancelForm(request: PortalRequest): string {
  return `<form method="post" action="${PORTAL_PATH}cancel" id="cancel-form">${hiddenQ(request)}
<div class="buttons"><button class="secondary" id="cancel-flow" type="submit">Cancel</button></div></form>`;
}
