// Each request rule once: the path and headers are checked exactly once per request (also through
// transfer(), which checks them before it opens a file), a body is encoded once with its implied
// Content-Type, and a Content-Type the caller set wins in any case.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { AppConnection, OctoEverywhereClient, OctoEverywhereError, transfer } from '../../src/client';
import { EncodedBody, encodeBody, jsonText } from '../../src/client/body-codec';
import { PrinterTarget } from '../../src/client/validate';
import { decodeBody, isJsonType, parseJson, tryParseJson, withContentType } from '../../src/client/body-codec';
import { json, startRecorder, type Recorder } from '../helpers/recorder';
import { SECRETS } from '../helpers/secrets';

/** Headers whose one value counts how often it is read: each check reads it once. */
function countingHeaders(): { headers: Record<string, string>; reads: () => number } {
  let reads = 0;
  const headers = {} as Record<string, string>;
  Object.defineProperty(headers, 'X-Trace', {
    enumerable: true,
    get: () => {
      reads += 1;
      return 'abc';
    },
  });
  return { headers, reads: () => reads };
}

describe('client: request inputs, each rule once', () => {
  let server: Recorder;
  let connection: AppConnection;
  beforeEach(async () => {
    server = await startRecorder((_req, res) => json(res, 200, { ok: true }));
    connection = new AppConnection({ url: `http://127.0.0.1:${server.port}`, authBearerToken: SECRETS.authBearerToken });
  });
  afterEach(async () => {
    await connection.close();
    await server.close();
  });

  it('checks the headers of a request once, through request() and through transfer()', async () => {
    const direct = countingHeaders();
    await connection.request({ path: '/api/job', headers: direct.headers });
    assert.equal(direct.reads(), 1, 'request()');
    const transferred = countingHeaders();
    const res = await transfer(connection, { path: '/api/job', headers: transferred.headers, method: 'POST', body: { a: 1 } });
    assert.equal(res.statusCode, 200);
    assert.equal(transferred.reads(), 1, 'transfer() then request()');
    assert.deepEqual(
      server.requests.map((r) => r.headers['x-trace']),
      ['abc', 'abc'],
    );
  });

  it('sends a checked target as it is: a PrinterTarget can only be made by passing the checks', async () => {
    await connection.request({ path: '/not-this' }, new PrinterTarget('/api/job?x=a b', { Accept: 'text/plain' }));
    assert.equal(server.requests[0].url, '/api/job?x=a%20b');
    assert.equal(server.requests[0].headers.accept, 'text/plain');
    assert.throws(() => new PrinterTarget('//evil.example/x', {}), { code: 'OE_INVALID_PATH' });
    assert.throws(() => new PrinterTarget('/x', { 'X-A': 'a\r\nInjected: 1' }), { code: 'OE_INVALID_HEADER' });
  });

  it('refuses a bad path in transfer() before it looks at the file', async () => {
    await assert.rejects(transfer(connection, { path: 'http://evil.example/', method: 'PUT', file: '/nonexistent/file.gcode' }), { code: 'OE_INVALID_PATH' });
    assert.equal(server.requests.length, 0);
  });

  it("encodes an object once as JSON with its Content-Type, and the caller's Content-Type wins in any case", async () => {
    await transfer(connection, { path: '/a', method: 'POST', body: { n: 1, s: 'x' } });
    await connection.request({ path: '/b', method: 'POST', body: { n: 1 }, headers: { 'content-TYPE': 'application/vnd.x+json' } });
    await transfer(connection, { path: '/c', method: 'POST', body: 'plain' });
    assert.deepEqual(
      server.requests.map((r) => [r.url, r.headers['content-type'], r.body.toString()]),
      [
        ['/a', 'application/json', '{"n":1,"s":"x"}'],
        ['/b', 'application/vnd.x+json', '{"n":1}'],
        ['/c', 'text/plain; charset=utf-8', 'plain'],
      ],
    );
  });

  it('refuses a body JSON cannot hold with OE_INVALID_PAYLOAD before sending anything', async () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    await assert.rejects(connection.request({ path: '/a', method: 'POST', body: cycle }), { code: 'OE_INVALID_PAYLOAD' });
    await assert.rejects(transfer(connection, { path: '/a', method: 'POST', body: cycle }), { code: 'OE_INVALID_PAYLOAD' });
    assert.equal(server.requests.length, 0);
  });

  it('sends App API bodies through the same codec', async () => {
    const client = new OctoEverywhereClient({
      url: `http://127.0.0.1:${server.port}`,
      authBearerToken: SECRETS.authBearerToken,
      appApiToken: SECRETS.appApiToken,
      serviceUrl: `http://127.0.0.1:${server.port}`,
    });
    try {
      server.respond((_req, res) => json(res, 200, { LiveId: 'l', Url: 'https://x', ShortUrl: 'https://y' }));
      await client.app.createLiveLink({ expirationHours: 2 });
      await client.app.info().catch(() => undefined);
      const [post, get] = server.requests;
      assert.equal(post.headers['content-type'], 'application/json');
      assert.equal(post.body.toString(), '{"ExpirationHours":2}');
      assert.equal(get.headers['content-type'], undefined, 'no body, no Content-Type');
    } finally {
      await client.close();
    }
  });

  it('encodeBody: the wire form, its type and length; an encoded body is not encoded again', () => {
    const object = encodeBody({ a: 'é' });
    assert.deepEqual([object.data, object.contentType, object.length], ['{"a":"é"}', 'application/json', 10]);
    assert.equal(encodeBody(object), object);
    assert.equal(encodeBody(undefined).data, undefined);
    assert.equal(encodeBody(null).contentType, undefined);
    const bytes = encodeBody(new Uint8Array([1, 2, 3]));
    assert.ok(Buffer.isBuffer(bytes.data));
    assert.deepEqual([bytes.contentType, bytes.length], ['application/octet-stream', 3]);
    const stream = Readable.from([Buffer.from('xy')]);
    assert.equal(encodeBody(stream).length, undefined, 'a stream of unknown length');
    assert.equal(encodeBody(stream, 2).length, 2);
    assert.equal(encodeBody(stream, -1).length, undefined);
    assert.throws(() => encodeBody(() => 1), { code: 'OE_INVALID_ARGUMENT' });
    // A value JSON cannot hold is an argument error with a code, not a TypeError out of JSON.stringify.
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(
      () => encodeBody(cycle),
      (e: unknown) => e instanceof OctoEverywhereError && e.code === 'OE_INVALID_PAYLOAD',
    );
    assert.throws(() => encodeBody({ n: BigInt(1) }), { code: 'OE_INVALID_PAYLOAD' });
    assert.ok(new EncodedBody('x') instanceof EncodedBody);
  });

  it('jsonText is the one JSON.stringify of user data: undefined, never a throw, for what JSON cannot hold', () => {
    assert.equal(jsonText({ a: [1, 'x', null] }), '{"a":[1,"x",null]}');
    assert.equal(jsonText(42), '42');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.equal(jsonText(cycle), undefined);
    assert.equal(jsonText({ n: BigInt(1) }), undefined);
    assert.equal(
      jsonText(() => 1),
      undefined,
    );
    assert.equal(jsonText(Symbol('s')), undefined);
  });

  it('withContentType adds the implied type only when the caller set none', () => {
    assert.deepEqual(withContentType({ a: '1' }, encodeBody({})), { a: '1', 'Content-Type': 'application/json' });
    assert.deepEqual(withContentType({ 'CONTENT-type': 'x/y' }, encodeBody({})), { 'CONTENT-type': 'x/y' });
    assert.deepEqual(withContentType({}, encodeBody(undefined)), {});
  });

  it('decodes answers by response type and media type', () => {
    const body = Buffer.from('{"a":1}');
    assert.deepEqual(decodeBody(body, 'application/json; charset=utf-8', 'auto'), { a: 1 });
    assert.deepEqual(decodeBody(body, 'application/problem+json', 'auto'), { a: 1 });
    assert.equal(decodeBody(Buffer.from('not json'), 'application/json', 'auto'), 'not json');
    assert.equal(decodeBody(body, 'text/html', 'auto'), '{"a":1}');
    assert.ok(Buffer.isBuffer(decodeBody(body, 'image/jpeg', 'auto')));
    assert.equal(decodeBody(Buffer.alloc(0), 'application/json', 'json'), undefined);
    assert.throws(() => decodeBody(Buffer.from('x'), undefined, 'json'), { code: 'OE_INVALID_RESPONSE' });
    assert.equal(isJsonType('text/json'), true);
    assert.equal(isJsonType(undefined), false);
    assert.equal(tryParseJson('nope'), undefined);
    assert.deepEqual(parseJson('[1]', 'x'), [1]);
  });
});
