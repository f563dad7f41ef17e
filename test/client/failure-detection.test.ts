// The Gadget Failure Detection API client (issue 17, item 1) against the simulator's Gadget hosts on
// the manual clock, and against a local server that records the bytes on the wire.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CREATE_RETRY_SEC,
  FAILURE_DETECTION_CODES,
  FailureDetectionClient,
  FailureDetectionError,
  FailureDetectionSession,
  FIRST_INTERVAL_SEC,
  looksLikeJpeg,
} from '../../src/client';
import { clampInterval } from '../../src/client/failure-detection';
import { createClock, type ManagedClock, type Simulator, startSimulator } from '../../src/simulator';
import { markJpeg, readMark } from '../../src/simulator/printers/gadget-marker';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import { secretsIn, watchSecret } from '../helpers/secrets';

const FAKE_JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00]), Buffer.alloc(64, 7), Buffer.from([0xff, 0xd9])]);

async function caught(p: Promise<unknown>): Promise<FailureDetectionError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FailureDetectionError, `a FailureDetectionError, got ${String(err)}`);
    return err;
  }
  throw new assert.AssertionError({ message: 'expected a rejection' });
}

describe('client: Gadget Failure Detection API', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  let key: string;
  let client: FailureDetectionClient;

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({ clock, printers: [{ kind: 'moonraker', name: 'Voron 2.4' }] });
    key = sim.gadgetApi.addKey();
    watchSecret(key);
    client = new FailureDetectionClient({ apiKey: key, serviceUrl: sim.gadgetApi.url });
  });
  afterEach(async () => {
    await client.close();
    await sim.close();
    clock.dispose();
  });

  it("creates a context on the primary host and scores a frame at the context's process URL", async () => {
    const context = await client.createContext();
    assert.match(context.id, /^[0-9a-f]{50}$/);
    assert.match(context.processUrl, /^http:\/\/gadget-regional\.localhost:\d+\/api\/gadget\/v1\/process\//);
    assert.match(context.fallbackUrl, /^http:\/\/gadget-pv1-oeapi\.localhost:\d+\/api\/gadget\/v1\/process\//);
    const result = await client.process(context, (sim.printers[0] as SimulatedPrinter).webcams[0].jpeg());
    assert.deepEqual(result, { printQuality: 8, warningSuggested: false, pauseSuggested: false, score: 22, nextIntervalSec: 40 });
    assert.deepEqual(
      sim.gadgetApi.calls.map((c) => [c.kind, c.host, c.status, c.keyKnown]),
      [
        ['create', 'gadget-pv1-oeapi', 200, true],
        ['process', 'gadget-regional', 200, true],
      ],
    );
  });

  it('sends X-API-Key, the confidence levels as JSON, and exactly one file part `attachment` named `snapshot`', async () => {
    const seen: Array<{ url: string; headers: http.IncomingHttpHeaders; body: Buffer }> = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const answer = req.url?.includes('createcontext')
          ? { ContextId: 'c1', ProcessRequestUrl: `${origin}/api/gadget/v1/process/c1`, FallbackProcessRequestUrl: `${origin}/fallback/c1` }
          : { NextProcessIntervalSec: 3, PrintQuality: 9, WarningSuggested: false, PauseSuggested: false, Score: 4 };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const own = new FailureDetectionClient({
      apiKey: key,
      serviceUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      warningConfidence: 2,
      pauseConfidence: 5,
    });
    try {
      const context = await own.createContext();
      const result = await own.process(context, FAKE_JPEG);
      assert.equal(result.nextIntervalSec, 20, 'an interval below 20 s is clamped up');
      const [create, processed] = seen;
      assert.equal(create.url, '/api/gadget/v1/createcontext');
      assert.equal(create.headers['x-api-key'], key);
      assert.deepEqual(JSON.parse(create.body.toString()), { WarningConfidenceLevel: 2, PauseConfidenceLevel: 5 });
      assert.equal(processed.url, '/api/gadget/v1/process/c1');
      assert.equal(processed.headers['x-api-key'], key);
      const boundary = /boundary=(.+)$/.exec(String(processed.headers['content-type']))?.[1];
      assert.ok(boundary, 'multipart/form-data with a boundary');
      const text = processed.body.toString('latin1');
      assert.equal(text.split(`--${boundary}`).length - 2, 1, 'exactly one part');
      assert.match(text, /Content-Disposition: form-data; name="attachment"; filename="snapshot"/);
      assert.ok(processed.body.includes(FAKE_JPEG), 'the JPEG bytes, unchanged');
    } finally {
      await own.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("reads the old spec's `PrintQuality ` (trailing space); an answer missing a field is OE_INVALID_RESPONSE, retried", async () => {
    const answers: object[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answers.shift() ?? {})));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const own = new FailureDetectionClient({ apiKey: key, serviceUrl: origin });
    const urls = { ProcessRequestUrl: `${origin}/api/gadget/v1/process/c1`, FallbackProcessRequestUrl: `${origin}/fallback/c1` };
    try {
      for (const missing of ['ContextId', 'ProcessRequestUrl', 'FallbackProcessRequestUrl']) {
        answers.push(Object.fromEntries(Object.entries({ ContextId: 'c1', ...urls }).filter(([k]) => k !== missing)));
        const err = await caught(own.createContext());
        assert.deepEqual([err.code, err.behaviour], ['OE_INVALID_RESPONSE', 'retry'], `without ${missing}`);
      }
      answers.push({ ContextId: 'c1', ...urls });
      const context = await own.createContext();
      answers.push({ NextProcessIntervalSec: 40, 'PrintQuality ': 2, WarningSuggested: true, PauseSuggested: false, Score: 90 });
      assert.deepEqual(await own.process(context, FAKE_JPEG), {
        printQuality: 2,
        warningSuggested: true,
        pauseSuggested: false,
        score: 90,
        nextIntervalSec: 40,
      });
      const full = { NextProcessIntervalSec: 40, PrintQuality: 9, WarningSuggested: false, PauseSuggested: false, Score: 4 };
      for (const missing of ['PrintQuality', 'Score', 'WarningSuggested', 'PauseSuggested']) {
        answers.push(Object.fromEntries(Object.entries(full).filter(([k]) => k !== missing)));
        const err = await caught(own.process(context, FAKE_JPEG));
        assert.deepEqual([err.code, err.behaviour], ['OE_INVALID_RESPONSE', 'retry'], `without ${missing}`);
      }
      assert.equal(context.usingFallback, true, 'an unusable answer is a failure too');
    } finally {
      await own.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('after one failure uses the fallback URL for the rest of the context', async () => {
    const context = await client.createContext();
    sim.gadgetApi.knobs.regionalDown = true;
    const err = await caught(client.process(context, FAKE_JPEG));
    assert.equal(err.behaviour, 'retry', 'the next interval');
    assert.equal(context.usingFallback, true);
    await clock.advance(60_000);
    await client.process(context, FAKE_JPEG);
    sim.gadgetApi.knobs.regionalDown = false;
    await clock.advance(40_000);
    await client.process(context, FAKE_JPEG);
    assert.deepEqual(
      sim.gadgetApi.processCalls().map((c) => [c.host, c.status]),
      [
        ['gadget-regional', 0],
        ['gadget-pv1-oeapi', 200],
        ['gadget-pv1-oeapi', 200],
      ],
      'the regional host is not asked again once it failed, even after it recovered',
    );
    // A server answer that is not 200 flips a new context just the same.
    const second = await client.createContext();
    sim.gadgetApi.failNext('OE_INTERNAL_ERROR', { kind: 'process' });
    await caught(client.process(second, FAKE_JPEG));
    assert.equal(second.usingFallback, true);
  });

  it('maps every ErrorType to its stable code, kind, what happens next and what to do; never with the key', async () => {
    const serviceTypes = [
      'OE_BAD_ARGS',
      'OE_ARGS_PARSE_FAILED',
      'OE_CONTEXT_RATE_LIMITED',
      'OE_IMAGE_DECODE_FAILED',
      'OE_INVALID_API_KEY',
      'OE_API_KEY_DISABLED',
      'OE_API_KEY_BLOCKED_PAYMENT_FAILED',
      'OE_BACKEND_THROTTLED',
      'OE_INTERNAL_ERROR',
    ];
    const expected: Record<string, [string, string]> = {
      OE_BAD_ARGS: ['permanent', 'refused'],
      OE_ARGS_PARSE_FAILED: ['permanent', 'refused'],
      OE_CONTEXT_RATE_LIMITED: ['temporary', 'retry'],
      OE_IMAGE_DECODE_FAILED: ['permanent', 'refused'],
      OE_INVALID_API_KEY: ['permanent', 'stop'],
      OE_API_KEY_DISABLED: ['permanent', 'stop'],
      OE_API_KEY_BLOCKED_PAYMENT_FAILED: ['permanent', 'stop'],
      OE_BACKEND_THROTTLED: ['temporary', 'retry'],
      OE_INTERNAL_ERROR: ['temporary', 'retry'],
    };
    const context = await client.createContext();
    const outcome: Record<string, [string, string]> = {};
    for (const type of serviceTypes) {
      sim.gadgetApi.failNext(type);
      const err = await caught(client.process(context, FAKE_JPEG));
      assert.equal(err.code, type);
      assert.ok(err.message.includes(FAILURE_DETECTION_CODES[type].advice), `${type}: the advice is in the message`);
      assert.deepEqual(secretsIn(JSON.stringify({ message: err.message, json: err.toJSON(), stack: err.stack })), []);
      outcome[type] = [err.kind, err.behaviour];
    }
    assert.deepEqual(outcome, expected);
    // And the same codes from real conditions, not scripted ones.
    sim.gadgetApi.setKeyState(key, 'disabled');
    assert.equal((await caught(client.createContext())).code, 'OE_API_KEY_DISABLED');
    sim.gadgetApi.setKeyState(key, 'blocked');
    assert.equal((await caught(client.process(context, FAKE_JPEG))).code, 'OE_API_KEY_BLOCKED_PAYMENT_FAILED');
    const wrong = new FailureDetectionClient({ apiKey: 'not-a-key-at-all', serviceUrl: sim.gadgetApi.url });
    assert.equal((await caught(wrong.createContext())).code, 'OE_INVALID_API_KEY');
    await wrong.close();
    const unknown = await caught(Promise.reject(new FailureDetectionError('X', 'x')));
    assert.equal(unknown.behaviour, 'refused', 'an unknown permanent code: the next frame');
  });

  it('bytes that are not a JPEG get the decode error; a rate-limited context waits for the interval', async () => {
    const context = await client.createContext();
    assert.equal((await caught(client.process(context, Buffer.from('GIF89a not a jpeg')))).code, 'OE_IMAGE_DECODE_FAILED');
    const fresh = await client.createContext();
    await client.process(fresh, FAKE_JPEG);
    await clock.advance(39_999);
    assert.equal((await caught(client.process(fresh, FAKE_JPEG))).code, 'OE_CONTEXT_RATE_LIMITED');
    await clock.advance(1);
    assert.equal((await client.process(fresh, FAKE_JPEG)).printQuality, 8);
    assert.equal(looksLikeJpeg(FAKE_JPEG), true);
    assert.equal(looksLikeJpeg(Buffer.from('GIF89a')), false);
    assert.equal(looksLikeJpeg('ffd8ff'), false);
  });

  it("scores the simulator's frames by the print's truth: good, then failing", async () => {
    const printer = sim.printers[0] as SimulatedPrinter;
    printer.startPrint('benchy.gcode');
    const frame = printer.webcams[0].jpeg();
    assert.equal(readMark(frame), 8);
    assert.equal(readMark(FAKE_JPEG), undefined);
    assert.equal(readMark(markJpeg(FAKE_JPEG, 2)), 2);
    const context = await client.createContext();
    const qualities: Array<[number, boolean, boolean]> = [];
    for (let i = 0; i < 6; i++) {
      if (i === 2) printer.scriptGadget('warn');
      const r = await client.process(context, printer.webcams[0].jpeg());
      qualities.push([r.printQuality, r.warningSuggested, r.pauseSuggested]);
      await clock.advance(40_000);
    }
    assert.deepEqual(qualities, [
      [8, false, false],
      [8, false, false],
      [3, false, false],
      [3, true, false],
      [3, true, false],
      [3, true, true],
    ]);
  });

  it('sends the key only to the service host, OctoEverywhere hosts over https, or loopback for a loopback service', async () => {
    const prod = new FailureDetectionClient({ apiKey: key });
    const may = (u: string): boolean => prod.keyMayGoTo(new URL(u));
    assert.equal(may('https://gadget-pv1-oeapi.octoeverywhere.com/api/gadget/v1/process/x'), true);
    assert.equal(may('https://gadget-eu.octoeverywhere.com/api/gadget/v1/process/x'), true);
    assert.equal(may('http://gadget-eu.octoeverywhere.com/x'), false);
    assert.equal(may('https://octoeverywhere.com.evil.example/x'), false);
    assert.equal(may('https://evil-octoeverywhere.com/x'), false);
    assert.equal(may('https://user:pw@gadget-eu.octoeverywhere.com/x'), false);
    assert.equal(may('http://127.0.0.1:8080/x'), false, 'loopback only when the service itself is loopback');
    await prod.close();
    // A context whose URLs point elsewhere is refused before anything is sent there.
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(
          JSON.stringify({ ContextId: 'c', ProcessRequestUrl: 'https://collector.example.com/p', FallbackProcessRequestUrl: 'https://gadget.example.net/p' }),
        );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const own = new FailureDetectionClient({ apiKey: key, serviceUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    try {
      const err = await caught(own.createContext());
      assert.equal(err.code, 'OE_GADGET_UNTRUSTED_URL');
      assert.deepEqual(hits, ['/api/gadget/v1/createcontext']);
    } finally {
      await own.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('session: never a call before the interval; 60 s before the first answer, 30 s after a failed create, at least 20 s and never shorter than asked', async () => {
    const session = new FailureDetectionSession(client, clock);
    const start = clock.now();
    // A failed createcontext: tried again 30 s later.
    sim.gadgetApi.failNext('OE_INTERNAL_ERROR', { kind: 'create' });
    await caught(session.process(FAKE_JPEG));
    assert.equal(session.dueAt() - start, CREATE_RETRY_SEC * 1000);
    assert.equal((await caught(session.process(FAKE_JPEG))).code, 'OE_GADGET_TOO_SOON');
    assert.equal(sim.gadgetApi.calls.length, 1, 'a call too soon is not sent');
    await clock.advance(30_000);
    // A failed first process: the next waits 60 s (no answer has named an interval yet).
    sim.gadgetApi.failNext('OE_BACKEND_THROTTLED', { kind: 'process' });
    await caught(session.process(FAKE_JPEG));
    assert.equal(session.dueAt() - clock.now(), FIRST_INTERVAL_SEC * 1000);
    await clock.advance(60_000);
    sim.gadgetApi.knobs.intervalSec = 5;
    await session.process(FAKE_JPEG);
    assert.equal(session.dueAt() - clock.now(), 20_000, 'at least 20 s');
    await clock.advance(20_000);
    // A long interval (the service's range goes to 5000 s under load) is honoured in full: never sooner.
    sim.gadgetApi.knobs.intervalSec = 5000;
    assert.equal((await session.process(FAKE_JPEG)).nextIntervalSec, 5000);
    assert.equal(session.dueAt() - clock.now(), 5_000_000, 'the whole 5000 s');
    const calls = sim.gadgetApi.calls.length;
    await clock.advance(1_800_000);
    assert.equal((await caught(session.process(FAKE_JPEG))).code, 'OE_GADGET_TOO_SOON', 'not after 1800 s');
    await clock.advance(3_199_999);
    assert.equal((await caught(session.process(FAKE_JPEG))).code, 'OE_GADGET_TOO_SOON', 'not 1 ms before 5000 s');
    assert.equal(sim.gadgetApi.calls.length, calls, 'nothing was sent before the interval');
    await clock.advance(1);
    sim.gadgetApi.knobs.intervalSec = 40;
    assert.equal((await session.process(FAKE_JPEG)).printQuality, 8, 'sent once the 5000 s have passed, not rate-limited');
    // A new print: a new context, its first call no sooner than 20 s after the last one.
    const old = session.context;
    session.newPrint();
    assert.equal(session.context, undefined);
    assert.equal(session.dueAt() - clock.now(), 20_000);
    await clock.advance(20_000);
    await session.process(FAKE_JPEG);
    assert.ok(session.context && session.context !== old, 'a new context');
    assert.deepEqual([clampInterval(undefined), clampInterval(19.2), clampInterval(40.2), clampInterval(99999)], [60, 20, 41, 99999]);
  });
});
