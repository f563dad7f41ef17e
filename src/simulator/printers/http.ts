// Small HTTP helpers shared by the simulated printers' servers.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body a simulated printer accepts (uploads included). */
export const MAX_BODY_BYTES = 512 * 1024 * 1024;

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`request body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendBytes(res: ServerResponse, status: number, body: Buffer, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'Content-Length': body.length });
  res.end(body);
}

/** The request URL parsed against a dummy origin (only path and query matter). */
export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://printer.local');
}

/** A JSON object body, or undefined for an empty body; throws SyntaxError for anything else. */
export function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0 || body.toString('utf8').trim() === '') return undefined;
  const value: unknown = JSON.parse(body.toString('utf8'));
  if (!isRecord(value)) throw new SyntaxError('the JSON body is not an object');
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
