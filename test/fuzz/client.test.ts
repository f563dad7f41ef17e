// Issue 10, hostile input to the client: the portal completion parser and the command API's typed
// methods. Seeded cases (test/fuzz/gen.ts); the count run per target is printed.
import assert from 'node:assert/strict';
import { CommandApi, OctoEverywhereClient, OctoEverywhereError, parseCompletion } from '../../src/client';
import { startRecorder, type Recorder } from '../helpers/recorder';
import { SECRETS } from '../helpers/secrets';
import { figure } from '../reliability/rig';
import { prng, prototypeKeys, type Rng, safeEncode, SEED } from './gen';

const COMPLETION_CASES = 4000;
const COMMAND_CASES = 3000;

/** A completion-like query, with marker values that must never come back in an error message. */
function completion(rng: Rng, markers: string[]): string {
  const mark = (): string => {
    const m = `MARK${rng.int(100000, 999999)}x${markers.length}`;
    markers.push(m);
    return m;
  };
  const keys = [
    'success',
    'id',
    'url',
    'appApiToken',
    'AppApiToken',
    'authbasichttpuser',
    'authBasicHttpUser',
    'authbasichttppassword',
    'authBearerToken',
    'printername',
    'octoPrintApiKey',
    '__proto__',
    'constructor',
    'SUCCESS',
    'x',
  ];
  const pairs: string[] = [];
  // A third start from a valid completion, so that mutations near the accepted shape are tried too.
  if (rng.bool(0.35)) pairs.push('success=true', `id=${mark()}`, `url=https%3A%2F%2Fapp-${'b'.repeat(32)}.octoeverywhere.com`, `authBearerToken=${mark()}`);
  for (let i = rng.int(0, 12); i > 0; i--) {
    const key = rng.pick(keys);
    let value: string;
    const r = rng.next();
    if (key.toLowerCase() === 'success') value = rng.pick(['true', 'false', 'TRUE', '', mark()]);
    else if (key === 'url')
      value = rng.pick([
        `https://app-${'a'.repeat(32)}.octoeverywhere.com`,
        `http://evil.example/${mark()}`,
        `javascript:${mark()}`,
        `https://${mark()}:${mark()}@x.com`,
        `http://127.0.0.1:1/${mark()}`,
        mark(),
        '',
      ]);
    else value = r < 0.7 ? mark() : rng.hostileString().slice(0, 200);
    // Mostly encoded; sometimes raw, lone surrogates and all.
    const enc = rng.bool(0.8) ? safeEncode : (s: string) => s;
    pairs.push(`${enc(key)}=${enc(value)}`);
  }
  const query = pairs.join(rng.pick(['&', '&', '&&', ';']));
  const r = rng.next();
  if (r < 0.3) return query;
  if (r < 0.6) return `https://octoeverywhere.com/appportal/v1/complete?${query}${rng.bool(0.2) ? `#${mark()}` : ''}`;
  if (r < 0.7) return `myapp://done?${query}`;
  if (r < 0.85) return rng.hostileString();
  return `${rng.string(20)}?${query}`;
}

describe('fuzz: client', function () {
  this.timeout(60_000);

  it(`parseCompletion: ${COMPLETION_CASES} hostile completions throw only OctoEverywhereError with a code and never echo a value`, () => {
    const rng = prng(SEED);
    const protoBefore = prototypeKeys();
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < COMPLETION_CASES; i++) {
      const markers: string[] = [];
      const input = completion(rng, markers);
      try {
        const result = parseCompletion(input);
        accepted += 1;
        assert.match(result.url, /^https?:\/\//);
        assert.equal(Object.getPrototypeOf(result), Object.prototype);
      } catch (err) {
        refused += 1;
        assert.ok(err instanceof OctoEverywhereError, `case ${i}: ${String(err)}`);
        assert.match(err.code, /^OE_[A-Z_]+$/);
        for (const m of markers) assert.ok(!err.message.includes(m), `case ${i}: the message echoes a value: ${err.message}`);
      }
    }
    // Non-string inputs, as JavaScript callers could pass.
    for (const bad of [undefined, null, 42, {}, [], Buffer.from('success=true')]) {
      assert.throws(
        () => parseCompletion(bad as unknown as string),
        (e: unknown) => e instanceof OctoEverywhereError && /^OE_/.test(e.code),
      );
    }
    assert.equal(prototypeKeys(), protoBefore, 'no prototype pollution');
    assert.ok(accepted > 0 && refused > 0, 'the generator reached both outcomes');
    figure('fuzz/parseCompletion', { seed: SEED, cases: COMPLETION_CASES + 6, accepted, refused });
  });

  describe('command API typed methods', () => {
    let recorder: Recorder;
    let client: OctoEverywhereClient;
    before(async () => {
      recorder = await startRecorder((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/json' }).end('{"Status":200,"Result":{}}');
      });
      client = new OctoEverywhereClient({
        url: `http://127.0.0.1:${recorder.port}`,
        authBearerToken: SECRETS.authBearerToken,
        appApiToken: SECRETS.appApiToken,
      });
    });
    after(async () => {
      await client.close();
      await recorder.close();
    });

    type Call = [string, (c: CommandApi, rng: Rng) => Promise<unknown>];
    const v = (rng: Rng): unknown =>
      rng.bool(0.3) ? rng.pick([0, 1, 10, 'X', 'Y', 'z', true, false, 'true', 'gcode', 'gcode/a.gcode', 'Light']) : rng.value(1);
    const calls: Call[] = [
      [
        'pause',
        (c, r) => c.pause(r.bool(0.1) ? (r.value(0) as never) : ({ smartPause: v(r), disableHotend: v(r), zLiftMm: v(r), retractFilamentMm: v(r) } as never)),
      ],
      ['start', (c, r) => c.start(r.bool(0.1) ? (r.value(0) as never) : ({ path: v(r), storage: v(r), plate: v(r), useAms: v(r) } as never))],
      ['setLight', (c, r) => c.setLight(v(r) as never, v(r) as never)],
      ['moveAxis', (c, r) => c.moveAxis(v(r) as never, v(r) as never)],
      ['extrude', (c, r) => c.extrude(v(r) as never, v(r) as never)],
      ['setTemp', (c, r) => c.setTemp(r.bool(0.1) ? (r.value(0) as never) : ({ bedC: v(r), chamberC: v(r), toolC: v(r), toolNumber: v(r) } as never))],
      ['listFiles', (c, r) => c.listFiles(r.bool(0.1) ? (r.value(0) as never) : ({ root: v(r), path: v(r) } as never))],
      ['fileDetails', (c, r) => c.fileDetails(v(r) as never)],
      ['deleteFile', (c, r) => c.deleteFile(v(r) as never)],
      ['snapshot', (c, r) => c.snapshot(v(r) as never)],
      ['send', (c, r) => c.send(v(r) as never)],
    ];

    it('regressions found by the fuzz: null options and lone surrogates are argument errors, not TypeError/URIError', async () => {
      const sent = recorder.requests.length;
      for (const run of [
        () => client.commands.pause(null as never),
        () => client.commands.listFiles(null as never),
        () => client.commands.fileDetails('gcode/\ud800.gcode'),
        () => client.commands.deleteFile('\udc00'),
      ]) {
        await assert.rejects(run(), (e: unknown) => e instanceof OctoEverywhereError && /^OE_INVALID_(ARGUMENT|PATH)$/.test(e.code));
      }
      assert.equal(recorder.requests.length, sent);
    });

    it(`${COMMAND_CASES} random argument sets: only OE_* errors, and nothing is sent for an invalid one`, async () => {
      const rng = prng(SEED + 1);
      const perMethod = new Map<string, { ok: number; refused: number }>();
      for (let i = 0; i < COMMAND_CASES; i++) {
        const [name, call] = calls[i % calls.length];
        const sentBefore = recorder.requests.length;
        const tally = perMethod.get(name) ?? { ok: 0, refused: 0 };
        perMethod.set(name, tally);
        try {
          await call(client.commands, rng);
          tally.ok += 1;
          assert.equal(recorder.requests.length, sentBefore + 1, `${name}: one request for a valid call`);
        } catch (err) {
          tally.refused += 1;
          assert.ok(err instanceof OctoEverywhereError, `case ${i} ${name}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
          assert.match(err.code, /^OE_[A-Z0-9_]+$/);
          if (/^OE_INVALID/.test(err.code)) assert.equal(recorder.requests.length, sentBefore, `case ${i} ${name}: an invalid call sent something`);
        }
      }
      // Every request that went out carried a well-formed path with no raw control character.
      for (const r of recorder.requests) assert.match(r.url, /^\/octoeverywhere-command-api\/[a-z0-9/-]+(\?[\x21-\x7e]*)?$/);
      figure('fuzz/command-api', {
        seed: SEED + 1,
        cases: COMMAND_CASES,
        sent: recorder.requests.length,
        perMethod: [...perMethod].map(([n, t]) => `${n}:${t.ok}/${t.refused}`).join(','),
      });
    });
  });
});
