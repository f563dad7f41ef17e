// Small response and body helpers for the service host (portal and App APIs); the relay does not use them.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { readBody } from '../printers/http';
import { statusText } from './status';

/** Largest form or App API body the service reads (they are all small). */
export const MAX_SERVICE_BODY_BYTES = 64 * 1024;

/** A small request body as text; the simulated printers' reader, with the service's limit. */
export async function readText(req: IncomingMessage): Promise<string> {
  return (await readBody(req, MAX_SERVICE_BODY_BYTES)).toString('utf8');
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, statusText(status), {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string, status = 302, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { location, 'content-length': 0, 'cache-control': 'no-store', ...headers });
  res.end();
}

/** Escapes text for HTML content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Query parameters with lower-cased names (the portal and ASP.NET read names case-insensitively). */
export function lowerCaseParams(query: URLSearchParams): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of query) {
    const key = name.toLowerCase();
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}
