// A local HTTP server that answers as slowly as a hostile or broken far side can: one byte at a time
// in the head or the body, or nothing at all. It counts its open sockets, so tests can check that a
// request cut short left no socket behind (destroyed, not returned to the keep-alive pool).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Answer =
  /** One byte every `everyMs` for `forMs`, in the head (header line) or the body, then the answer ends. */
  | { dribble: 'head' | 'body'; everyMs?: number; forMs?: number; contentType?: string }
  /** Accepts the request and never answers. */
  | { silent: true }
  /** An ordinary JSON answer. */
  | { json: unknown; status?: number; contentType?: string };

export interface DribbleServer {
  port: number;
  requests: Array<{ method: string; url: string }>;
  /** Sockets open on the server's side now. */
  openSockets(): number;
  respond(fn: (req: { method: string; url: string }) => Answer): void;
  /** Resolves once no socket is open on the server's side (the client's were destroyed or closed). */
  socketsClosed(): Promise<void>;
  close(): Promise<void>;
}

export const DRIBBLE_EVERY_MS = 100;
export const DRIBBLE_FOR_MS = 10_000;

export async function startDribbleServer(initial: (req: { method: string; url: string }) => Answer = () => ({ dribble: 'body' })): Promise<DribbleServer> {
  let responder = initial;
  const requests: DribbleServer['requests'] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const seen = { method: req.method ?? '', url: req.url ?? '' };
    requests.push(seen);
    // Uploads are read and thrown away, so a slow answer is never held up by a full receive window.
    req.resume();
    answer(responder(seen), res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  function answer(a: Answer, res: http.ServerResponse): void {
    if ('silent' in a) return;
    if ('json' in a) {
      const text = JSON.stringify(a.json);
      res.writeHead(a.status ?? 200, { 'Content-Type': a.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    const everyMs = a.everyMs ?? DRIBBLE_EVERY_MS;
    let left = Math.max(1, Math.round((a.forMs ?? DRIBBLE_FOR_MS) / everyMs));
    const socket = res.socket as Socket;
    if (a.dribble === 'body') {
      // No Content-Length: chunked, so every byte goes out at once.
      res.writeHead(200, { 'Content-Type': a.contentType ?? 'text/plain' });
      res.flushHeaders();
    } else {
      // The head by hand: a header line that grows a byte at a time.
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${a.contentType ?? 'text/plain'}\r\nX-Slow: `);
    }
    const timer = setInterval(() => {
      if (socket.destroyed) return stop();
      left -= 1;
      if (a.dribble === 'body') res.write('a');
      else socket.write('a');
      if (left > 0) return;
      stop();
      if (a.dribble === 'body') res.end();
      else socket.end('\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    }, everyMs);
    timers.add(timer);
    function stop(): void {
      clearInterval(timer);
      timers.delete(timer);
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    openSockets: () => sockets.size,
    respond(fn) {
      responder = fn;
    },
    async socketsClosed() {
      await Promise.all([...sockets].map((s) => new Promise((resolve) => s.once('close', resolve))));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearInterval(timer);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
