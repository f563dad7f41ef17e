// Issue 19 item 1: the fast path (Node's http) puts the same bytes on the wire as axios did and reads
// answers the same way, for relay requests and App API calls. Each case is sent both ways — through
// AppConnection.request() or appApi() and through axios configured as the connection used it before — to a server that records the raw
// request, and the two recordings (head in order, body) and the two decoded answers must be equal.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import axios, { type AxiosResponse } from 'axios';
import { AppConnection, type PrinterRequest } from '../../src/client';
import { encodeBody, withContentType } from '../../src/client/body-codec';
import { loopbackAwareLookup } from '../../src/client/urls';
import { PrinterTarget } from '../../src/client/validate';
import { SECRETS } from '../helpers/secrets';

const HOST = 'app-transport.localhost';

interface RawServer {
  port: number;
  /** Raw requests as received (head and body), in order. */
  raw: Buffer[];
  answer: (path: string) => { head: Record<string, string>; body: Buffer };
  close(): Promise<void>;
}

/** A TCP server that keeps each request's bytes and answers with a raw head and body. */
async function startRawServer(): Promise<RawServer> {
  const server: RawServer = {
    port: 0,
    raw: [],
    answer: () => ({ head: { 'Content-Type': 'application/json' }, body: Buffer.from('{"ok":true}') }),
    close: () => new Promise((resolve) => tcp.close(() => resolve())),
  };
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const request = pending.subarray(0, end + 4 + length);
        pending = pending.subarray(end + 4 + length);
        server.raw.push(Buffer.from(request));
        const path = head.split(' ')[1];
        const { head: answerHead, body } = server.answer(path);
        const lines = Object.entries({ ...answerHead, 'Content-Length': String(body.length) }).map(([k, v]) => `${k}: ${v}`);
        const headOnly = head.startsWith('HEAD ');
        socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${lines.join('\r\n')}\r\n\r\n`, 'latin1'), headOnly ? Buffer.alloc(0) : body]));
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  server.port = (tcp.address() as net.AddressInfo).port;
  const close = server.close;
  server.close = async () => {
    for (const s of sockets) s.destroy();
    await close();
  };
  return server;
}

/** The axios instance and request config AppConnection used before the fast path (commit 962286f). */
const legacy = axios.create({ validateStatus: () => true, maxRedirects: 0, proxy: false, maxBodyLength: Infinity });

function legacyHeaders(res: AxiosResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers ?? {})) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

describe('client: the fast path (relay and App APIs) puts the same bytes on the wire as axios did (issue 19)', () => {
  let server: RawServer;
  let connection: AppConnection;
  let agent: http.Agent;

  beforeEach(async () => {
    server = await startRawServer();
    connection = new AppConnection({
      url: `http://${HOST}:${server.port}`,
      serviceUrl: `http://${HOST}:${server.port}`,
      authBearerToken: SECRETS.authBearerToken,
      appApiToken: SECRETS.appApiToken,
      octoPrintApiKey: SECRETS.octoPrintApiKey,
    });
    agent = new http.Agent({ keepAlive: true, lookup: loopbackAwareLookup } as http.AgentOptions);
  });
  afterEach(async () => {
    agent.destroy();
    await connection.close();
    await server.close();
  });

  /** Sends `req` through axios as AppConnection.#send did; returns the answer as request() shapes it. */
  async function viaAxios(req: PrinterRequest): Promise<{ statusCode: number; headers: Record<string, string>; body: Buffer }> {
    const target = new PrinterTarget(req.path, req.headers);
    const body = encodeBody(req.body);
    const headers = { ...withContentType({ ...target.headers }, body), ...connection.relayAuthHeaders() };
    const res = await legacy.request<Buffer>({
      httpAgent: agent,
      method: req.method ?? 'GET',
      url: `http://${HOST}:${server.port}${target.path}`,
      headers,
      data: body.data,
      responseType: 'arraybuffer',
      maxContentLength: 512 * 1024 * 1024,
      decompress: true,
    });
    return { statusCode: res.status, headers: legacyHeaders(res), body: Buffer.from(res.data) };
  }

  async function same(req: PrinterRequest): Promise<void> {
    const fast = await connection.request<Buffer>({ ...req, responseType: 'buffer', via: 'relay' });
    const old = await viaAxios(req);
    const [fastRaw, oldRaw] = server.raw.splice(0);
    assert.equal(fastRaw.toString('latin1'), oldRaw.toString('latin1'), `request bytes of ${JSON.stringify({ ...req, body: String(req.body) })}`);
    assert.equal(fast.statusCode, old.statusCode);
    // Date-free raw answers: the headers as read must be equal too.
    assert.deepEqual(fast.headers, old.headers);
    assert.deepEqual(fast.body, old.body);
  }

  it('sends the same request head and body for GETs, caller headers in any case, and every body type', async () => {
    await same({ path: '/api/job' });
    await same({ path: '/api/job?x=1&y=a%20b', method: 'HEAD' });
    await same({
      path: '/api/files',
      headers: { 'x-api-key': 'the caller loses', Accept: 'text/plain', 'X-Custom': '  padded\t', 'x-custom': 'second', 'X-Latin': 'café 日本' },
    });
    await same({ path: '/api/job', method: 'POST', body: { command: 'pause', action: 'toggle' } });
    await same({ path: '/api/job', method: 'POST', body: '  {"a": 1}  ', headers: { 'content-type': 'application/json' } });
    await same({ path: '/api/job', method: 'POST', body: 'not json', headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    await same({ path: '/api/job', method: 'POST', body: '', headers: { 'Content-Type': 'application/json' } });
    await same({ path: '/api/job', method: 'POST', body: '' });
    await same({ path: '/api/job', method: 'POST', body: 'G28\n' });
    // axios's defaults kept a Content-Type slot after Accept: a caller's, in any case, lands there.
    await same({ path: '/api/job', method: 'POST', body: 'G28\n', headers: { 'X-First': '1', 'content-TYPE': 'text/x-gcode' } });
    await same({ path: '/api/files/local', method: 'PUT', body: Buffer.from([0, 1, 2, 255]) });
    await same({ path: '/api/files/local', method: 'PUT', body: Buffer.alloc(0) });
    await same({ path: '/api/job', method: 'DELETE' });
  });

  it('decodes gzip, deflate (with and without its zlib header) and brotli answers the same way, Content-Encoding removed', async () => {
    const text = Buffer.from(JSON.stringify({ state: 'printing', padding: 'x'.repeat(2000) }));
    const encodings: Record<string, Buffer> = {
      gzip: zlib.gzipSync(text),
      'x-gzip': zlib.gzipSync(text),
      deflate: zlib.deflateSync(text),
      'raw-deflate': zlib.deflateRawSync(text),
      br: zlib.brotliCompressSync(text),
      identity: text,
    };
    for (const [name, body] of Object.entries(encodings)) {
      server.answer = () => ({
        head: { 'Content-Type': 'application/json', 'Content-Encoding': name === 'raw-deflate' ? 'deflate' : name, 'X-Trail': 'v ' },
        body,
      });
      await same({ path: `/enc/${name}` });
      const res = await connection.request<Buffer>({ path: `/enc/${name}`, responseType: 'buffer', via: 'relay' });
      server.raw.splice(0);
      assert.deepEqual(res.body, name === 'identity' ? body : text, name);
      assert.equal(res.headers['content-encoding'], name === 'identity' ? 'identity' : undefined, name);
    }
  });

  /** The call as AppConnection.appApi() made it through axios before (commit a7c7b12). */
  async function appApiViaAxios(method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<unknown> {
    const encoded = encodeBody(body);
    const res = await legacy.request<Buffer>({
      httpAgent: agent,
      method,
      url: `http://${HOST}:${server.port}${path}`,
      headers: withContentType({ AppToken: SECRETS.appApiToken, Accept: 'application/json' }, encoded),
      data: encoded.data,
      responseType: 'arraybuffer',
      maxContentLength: 4 * 1024 * 1024,
    });
    return JSON.parse(Buffer.from(res.data).toString('utf8')) as unknown;
  }

  it('App API calls: the same head and body (token, JSON body, no body) and reads the same answer, compressed or not', async () => {
    const calls: Array<['GET' | 'POST', string, Record<string, unknown> | undefined]> = [
      ['POST', '/api/appconnection/v1/info', {}],
      ['POST', '/api/gadget/GetStatusFromAppConnection', { Nested: { a: [1, 'é'] } }],
      ['GET', '/api/appconnection/v1/info', undefined],
    ];
    const answer = Buffer.from(JSON.stringify({ Status: 200, Result: { PrinterName: 'Voron 2.4 é' } }));
    for (const encoding of ['identity', 'gzip', 'br']) {
      server.answer = () => ({
        head: { 'Content-Type': 'application/json', 'Content-Encoding': encoding },
        body: encoding === 'gzip' ? zlib.gzipSync(answer) : encoding === 'br' ? zlib.brotliCompressSync(answer) : answer,
      });
      for (const [method, path, body] of calls) {
        const fast = await connection.appApi('Info', method, path, body);
        const old = await appApiViaAxios(method, path, body);
        const [fastRaw, oldRaw] = server.raw.splice(0);
        assert.equal(fastRaw.toString('latin1'), oldRaw.toString('latin1'), `${method} ${path} (${encoding})`);
        assert.deepEqual(fast, old);
        assert.deepEqual(fast, JSON.parse(answer.toString('utf8')));
      }
    }
  });
});
