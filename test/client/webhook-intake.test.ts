import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import {
  DeliveryDeduper,
  checkContentType,
  checkWebhookPath,
  eventTypesFromNames,
  generateWebhookToken,
  isStrongWebhookToken,
  parseDelivery,
  readBoundedBody,
  webhookUrl,
} from '../../src/client';
import { secretsEqual, tokenFromUrl } from '../../src/client/webhook-intake';

function stream(headers: Record<string, string> = {}): PassThrough & { headers: Record<string, string> } {
  return Object.assign(new PassThrough(), { headers });
}

describe('client: webhook intake', () => {
  it('makes 256-bit tokens and knows a weak one', () => {
    const a = generateWebhookToken();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, generateWebhookToken());
    assert.equal(isStrongWebhookToken(a), true);
    assert.equal(isStrongWebhookToken('short'), false);
    assert.equal(isStrongWebhookToken('has space in it and is long enough'), false);
  });

  it('compares secrets on digests: equal only when identical, never for an empty expectation', () => {
    assert.equal(secretsEqual('abc', 'abc'), true);
    assert.equal(secretsEqual('abc', 'abd'), false);
    assert.equal(secretsEqual('abc', 'abcd'), false);
    assert.equal(secretsEqual('abc', undefined), false);
    assert.equal(secretsEqual('abc', 123), false);
    assert.equal(secretsEqual('', ''), false);
  });

  it('takes exactly one token from the query', () => {
    assert.equal(tokenFromUrl('/h?token=a%2Bb&x=1'), 'a+b');
    assert.equal(tokenFromUrl('/h'), undefined);
    assert.equal(tokenFromUrl('/h?token=a&token=a'), undefined);
  });

  it('accepts plain paths only (no Express patterns, no dot segments)', () => {
    assert.equal(checkWebhookPath('/octoeverywhere/webhook/abc.def/'), '/octoeverywhere/webhook/abc.def');
    for (const bad of ['', 'x', '/a/:id', '/a/*', '/a/../b', '/a b', '/a?x', '//', '/(a)']) {
      assert.throws(
        () => checkWebhookPath(bad),
        (e: { code: string }) => e.code === 'OE_INVALID_WEBHOOK_PATH',
        bad,
      );
    }
  });

  it('builds the registered URL from the public base, the HTTP root, the path and the token; https only off this machine', () => {
    assert.equal(webhookUrl('https://nr.example.com/', '', '/oe/h', 'a+b'), 'https://nr.example.com/oe/h?token=a%2Bb');
    assert.equal(webhookUrl('https://nr.example.com/proxy', '/api/', '/oe/h', 't'), 'https://nr.example.com/proxy/api/oe/h?token=t');
    assert.equal(webhookUrl('http://127.0.0.1:1880', '', '/oe/h', 't'), 'http://127.0.0.1:1880/oe/h?token=t');
    assert.throws(
      () => webhookUrl('http://nr.example.com', '', '/oe/h', 't'),
      (e: { code: string }) => e.code === 'OE_INSECURE_URL',
    );
    assert.throws(
      () => webhookUrl('', '', '/oe/h', 't'),
      (e: { code: string }) => e.code === 'OE_MISSING_URL',
    );
  });

  it('accepts JSON-ish or missing content types only', () => {
    for (const ok of [undefined, '', 'application/json', 'Application/JSON; charset=utf-8', 'text/plain', 'application/vnd.x+json']) {
      assert.doesNotThrow(() => checkContentType({ 'content-type': ok }), String(ok));
    }
    for (const bad of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'image/png']) {
      assert.throws(
        () => checkContentType({ 'content-type': bad }),
        (e: { httpStatus: number }) => e.httpStatus === 415,
        bad,
      );
    }
  });

  it('reads a bounded body: declared too large, grown too large, cut off, or too slow', async () => {
    const fine = stream();
    const read = readBoundedBody(fine, 10);
    fine.end('{"a":1}');
    assert.equal((await read).toString(), '{"a":1}');
    await assert.rejects(readBoundedBody(stream({ 'content-length': '11' }), 10), (e: { httpStatus: number }) => e.httpStatus === 413);
    const growing = stream();
    const grown = readBoundedBody(growing, 10);
    growing.write('123456');
    growing.write('123456');
    await assert.rejects(grown, (e: { httpStatus: number }) => e.httpStatus === 413);
    const cut = stream();
    const cutRead = readBoundedBody(cut, 10);
    cut.destroy();
    await assert.rejects(cutRead, (e: { code: string }) => e.code === 'OE_WEBHOOK_ABORTED');
    const controller = new AbortController();
    const slow = readBoundedBody(stream(), 10, controller.signal);
    controller.abort();
    await assert.rejects(slow, (e: { httpStatus: number }) => e.httpStatus === 408);
  });

  it('parses a delivery into the shared vocabulary, and refuses what is not one', () => {
    const { event } = parseDelivery(Buffer.from('{"EventType":2,"SecretKey":"s","Progress":100}'));
    assert.deepEqual(event, { eventType: 2, event: 'print-complete', progress: 100, source: 'webhook' });
    assert.throws(
      () => parseDelivery('{'),
      (e: { code: string }) => e.code === 'OE_WEBHOOK_BAD_JSON',
    );
    assert.throws(
      () => parseDelivery('"x"'),
      (e: { code: string }) => e.code === 'OE_WEBHOOK_NOT_AN_EVENT',
    );
    // Nesting: 32 levels (the object itself is the first) pass; one more, or 100,000, is a 400 — checked without recursion.
    const nested = (n: number): string => `{"EventType":1,"X":${'['.repeat(n)}${']'.repeat(n)}}`;
    assert.equal(parseDelivery(nested(31)).event.eventType, 1);
    for (const n of [32, 100_000]) {
      assert.throws(
        () => parseDelivery(nested(n)),
        (e: { code: string; httpStatus: number }) => e.code === 'OE_WEBHOOK_TOO_DEEP' && e.httpStatus === 400,
      );
    }
    assert.throws(
      () => parseDelivery({ EventType: 1, X: JSON.parse(nested(40)) as unknown }),
      (e: { code: string }) => e.code === 'OE_WEBHOOK_TOO_DEEP',
    );
  });

  it('maps event names to types once, reporting unknown names', () => {
    assert.deepEqual(eventTypesFromNames(['print-complete', 'print-started', 'print-started', 'nope']), { types: [1, 2], unknown: ['nope'] });
  });

  it('de-duplicates within the window with bounded memory', () => {
    let now = 0;
    const dedupe = new DeliveryDeduper(1000, () => now, 3);
    const d = (n: number, extra: Record<string, unknown> = {}) => parseDelivery({ EventType: 6, Progress: n, ...extra });
    assert.equal(dedupe.isRepeat(d(10)), false);
    assert.equal(dedupe.isRepeat(d(10, { SnapshotUrl: 'other' })), true);
    for (const n of [20, 30, 40, 50]) assert.equal(dedupe.isRepeat(d(n)), false);
    assert.equal(dedupe.size, 3, 'bounded');
    assert.equal(dedupe.isRepeat(d(10)), false, 'the oldest was evicted');
    now = 1000;
    assert.equal(dedupe.isRepeat(d(50)), false, 'expired');
    assert.equal(dedupe.isRepeat(parseDelivery({ EventType: 16 })), false);
    assert.equal(dedupe.isRepeat(parseDelivery({ EventType: 16 })), false, 'tests always pass');
  });
});
