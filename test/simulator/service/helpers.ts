// Talking to the simulator from the outside, as a client would: HTTP to 127.0.0.1 with the Host
// header of the relay host (Node does not resolve *.localhost).
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
}

/** `url` may be a relay origin (http://app-….localhost:port/…) or the service URL. */
export function request(url: string, opts: RequestOptions = {}): Promise<Reply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.pathname + target.search,
        method: opts.method ?? 'GET',
        headers: { host: target.host, ...opts.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
export const bearer = (token: string): string => `Bearer ${token}`;

/** Lets pending I/O callbacks run (not a timing sleep). */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
