// Shared test plumbing: a printer on a manual clock, and raw HTTP requests that keep the bytes.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { createClock, type ManagedClock } from '../../../src/simulator/clock';
import type { PrinterKind } from '../../../src/simulator/contract';
import { startPrinter, type SimulatedPrinter, type StartPrinterOptions } from '../../../src/simulator/printers';

export const START_MS = Date.UTC(2026, 0, 1);

export interface Rig {
  clock: ManagedClock;
  printer: SimulatedPrinter;
  close(): Promise<void>;
}

export async function rig(kind: PrinterKind, extra: Partial<StartPrinterOptions> = {}): Promise<Rig> {
  const clock = createClock({ mode: 'manual', startMs: START_MS });
  const printer = await startPrinter({ kind, name: `Test ${kind}`, clock, ...extra });
  return {
    clock,
    printer,
    async close() {
      await printer.close();
      clock.dispose();
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json(): unknown;
}

export function send(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, { method, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString()) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Opens a streaming response and hands it over once the headers are in. */
export function open(baseUrl: string, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, (res) => resolve(res));
    req.on('error', reject);
    req.end();
  });
}

/** Collects a stream's bytes until `enough` says so (or the stream ends). */
export function collect(res: IncomingMessage, enough: (bytes: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve) => {
    let bytes = Buffer.alloc(0);
    const done = (): void => {
      res.off('data', onData);
      resolve(bytes);
    };
    const onData = (chunk: Buffer): void => {
      bytes = Buffer.concat([bytes, chunk]);
      if (enough(bytes)) done();
    };
    res.on('data', onData);
    res.on('end', done);
  });
}

/** Counts multipart parts with a boundary in collected stream bytes. */
export function countParts(bytes: Buffer, boundary: string): number {
  return bytes.toString('latin1').split(`--${boundary}\r\n`).length - 1;
}

export interface Envelope {
  Status: number;
  Result?: Record<string, unknown>;
  Error?: string;
}

export async function command(baseUrl: string, path: string, body?: unknown, method = 'POST'): Promise<Envelope> {
  const reply = await send(baseUrl, method, `/octoeverywhere-command-api/${path}`, {
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  if (reply.status !== 200) throw new Error(`HTTP ${reply.status} for ${path}`);
  if (reply.headers['content-type'] !== 'text/json') throw new Error(`content type ${reply.headers['content-type']}`);
  return reply.json() as Envelope;
}

/** Resolves with the first JSON message on a socket that `match` accepts (earlier ones are skipped). */
export function nextMessage<T = Record<string, unknown>>(socket: import('ws').WebSocket, match: (m: Record<string, unknown>) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (data: import('ws').RawData): void => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      if (!match(message)) return;
      socket.off('message', onMessage);
      resolve(message as T);
    };
    socket.on('message', onMessage);
  });
}
