// The App Connection Portal (docs/octoeverywhere.md §1–2): the URL that starts it, and the parser for the completion
// URL it navigates to, whose secrets are given once and never again.
import { CompletionError, InvalidArgumentError } from './errors';
import { DEFAULT_APP_ID, DEFAULT_SERVICE_URL } from './connection';
import { baseUrlString, parseBaseUrl } from './urls';

export interface PortalOptions {
  serviceUrl?: string;
  appId?: string;
  returnUrl?: string;
  printerId?: string;
  appLogoUrl?: string;
  /** 2–60 characters; asks the portal to create an OctoPrint API key (best effort). */
  octoPrintApiKeyAppName?: string;
}

/** What a successful completion returns: the values of one App Connection. */
export interface CompletionResult {
  id: string;
  url: string;
  appApiToken?: string;
  printerName?: string;
  userPrinterAccessUrl?: string;
  printerLastKnownLocalIp?: string;
  authBasicHttpUser?: string;
  authBasicHttpPassword?: string;
  authBearerToken?: string;
  octoPrintApiKey?: string;
}

export function buildPortalUrl(options: PortalOptions = {}): string {
  const service = baseUrlString(parseBaseUrl(options.serviceUrl || DEFAULT_SERVICE_URL, 'OctoEverywhere service URL'));
  const appId = (options.appId ?? DEFAULT_APP_ID).trim();
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(appId)) throw new InvalidArgumentError('The App ID must be 1–128 letters, digits, dots, dashes or underscores.');
  const params = new URLSearchParams({ appid: appId });
  if (options.returnUrl) params.set('returnUrl', checkReturnUrl(options.returnUrl));
  if (options.printerId) {
    const id = options.printerId.trim();
    if (!/^[A-Za-z0-9]{20,80}$/.test(id)) throw new InvalidArgumentError('The Printer ID must be letters and digits (usually 60 characters).');
    params.set('printerId', id);
  }
  if (options.appLogoUrl) params.set('appLogoUrl', checkHttpUrl(options.appLogoUrl, 'app logo URL'));
  if (options.octoPrintApiKeyAppName !== undefined && options.octoPrintApiKeyAppName !== '') {
    const name = options.octoPrintApiKeyAppName.trim();
    if (name.length < 2 || name.length > 60) throw new InvalidArgumentError('The OctoPrint API key app name must be 2–60 characters.');
    params.set('octoPrintApiKeyAppName', name);
  }
  return `${service}/appportal/v1/?${params.toString()}`;
}

const KEYS: Record<string, keyof CompletionResult | 'success'> = {
  success: 'success',
  id: 'id',
  url: 'url',
  appapitoken: 'appApiToken',
  printername: 'printerName',
  userprinteraccessurl: 'userPrinterAccessUrl',
  printerlastknownlocalip: 'printerLastKnownLocalIp',
  authbasichttpuser: 'authBasicHttpUser',
  authbasichttppassword: 'authBasicHttpPassword',
  authbearertoken: 'authBearerToken',
  octoprintapikey: 'octoPrintApiKey',
};

/**
 * Parses the portal's completion: a whole URL (any scheme) or just its query string. Keys are read
 * case-insensitively (production sends lowercase Basic keys, the docs camelCase ones). Throws a
 * CompletionError that names what is missing; the message never repeats a value.
 */
export function parseCompletion(input: string): CompletionResult {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new CompletionError('OE_COMPLETION_INVALID', 'The completion URL is empty; paste the whole URL the portal finished on.');
  }
  const text = input.trim();
  const q = text.indexOf('?');
  const looksLikeUrl = /^[a-z][a-z0-9+.-]*:/i.test(text);
  if (looksLikeUrl && q === -1) {
    throw new CompletionError('OE_COMPLETION_INVALID', 'The completion URL has no query string; paste the whole URL the portal finished on.');
  }
  const query = (q === -1 ? text : text.slice(q + 1)).replace(/#.*$/, '');
  const params = new URLSearchParams(query);
  const values: Partial<Record<keyof CompletionResult | 'success', string>> = {};
  for (const [key, value] of params) {
    const name = KEYS[key.toLowerCase()];
    if (name && values[name] === undefined) values[name] = value;
  }
  if (values.success === undefined) {
    throw new CompletionError('OE_COMPLETION_INVALID', 'This is not an App Connection completion URL: it has no "success" key.');
  }
  if (values.success !== 'true') {
    throw new CompletionError('OE_PORTAL_FAILED', 'The App Connection Portal did not complete (the user cancelled or it failed). Start the connection again.');
  }
  const missing: string[] = [];
  if (!values.id) missing.push('id');
  if (!values.url) missing.push('url');
  const hasBasic = Boolean(values.authBasicHttpUser && values.authBasicHttpPassword);
  if (!hasBasic && !values.authBearerToken) missing.push('credentials (authBasicHttpUser and authBasicHttpPassword, or authBearerToken)');
  if (missing.length > 0) {
    throw new CompletionError('OE_COMPLETION_INVALID', `The completion URL is missing: ${missing.join(', ')}.`);
  }
  let url: string;
  try {
    url = baseUrlString(parseBaseUrl(values.url, 'App Connection URL'));
  } catch (err) {
    throw new CompletionError('OE_COMPLETION_INVALID', `The completion's App Connection URL cannot be used: ${(err as Error).message}`);
  }
  const result: CompletionResult = { id: values.id as string, url };
  for (const key of ['appApiToken', 'printerName', 'userPrinterAccessUrl', 'printerLastKnownLocalIp', 'authBearerToken', 'octoPrintApiKey'] as const) {
    if (values[key]) result[key] = values[key];
  }
  if (hasBasic) {
    result.authBasicHttpUser = values.authBasicHttpUser;
    result.authBasicHttpPassword = values.authBasicHttpPassword;
  }
  return result;
}

function checkReturnUrl(value: string): string {
  try {
    const u = new URL(value);
    if (!u.protocol) throw new Error('no scheme');
    return value;
  } catch {
    throw new InvalidArgumentError('The return URL must be an absolute URL (custom schemes are allowed).');
  }
}

function checkHttpUrl(value: string, what: string): string {
  try {
    const u = new URL(value);
    if (u.protocol === 'http:' || u.protocol === 'https:') return value;
  } catch {
    // fall through to the error
  }
  throw new InvalidArgumentError(`The ${what} must be an http(s) URL.`);
}
