// Issue 14.5: what the webhook answers 200 it sends on; what it cannot handle it refuses with a coded
// 4xx before answering. De-duplication on (its key writes the body out again, which recurses), fed
// very deep nesting, huge numbers, odd keys and seeded random bodies over HTTP in the real runtime.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NodeAPI } from 'node-red';
import { createClock, type ManagedClock } from '../../src/simulator';
import { MAX_DELIVERY_DEPTH } from '../../src/client/webhook-intake';
import { prng, safeJson, SEED } from '../fuzz/gen';
import { helper, nodeModule } from '../helpers/nodes';
import { watchSecret } from '../helpers/secrets';
import { figure } from '../reliability/rig';
import { post } from './webhook-support';

const TYPE = 'octoeverywhere-notification-webhook';
const TOKEN = 'tok-Ack-Sentinel-0f1e2d3c4b5a69788796a5b4';
watchSecret(TOKEN);
const RANDOM_CASES = 300;

type Module = (RED: NodeAPI) => void;
interface Msg {
  payload: Record<string, unknown>;
}

const deepArray = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
const deepObject = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

/** Hand-made hostile parts of a delivery (appended after EventType and PrintId). */
const HOSTILE: Array<[string, string]> = [
  ['20,000 nested arrays (40 KB)', `"Deep":${deepArray(20_000)}`],
  ['20,000 nested objects', `"Deep":${deepObject(20_000)}`],
  [`arrays nested just inside the bound`, `"Deep":${deepArray(MAX_DELIVERY_DEPTH - 1)}`],
  [`arrays nested one past the bound`, `"Deep":${deepArray(MAX_DELIVERY_DEPTH)}`],
  ['objects and arrays mixed, deep', `"Deep":${'[{"a":'.repeat(3000)}1${'}]'.repeat(3000)}`],
  ['a huge number', '"Progress":1e400'],
  ['a huge negative number', '"DurationSec":-1e400,"Progress":-5'],
  ['a long integer', '"CurrentLayer":123456789012345678901234567890123456789'],
  ['a tiny number', '"Progress":1e-400'],
  ['a number as a long string', `"Progress":"${'9'.repeat(400)}"`],
  ['a long string', `"FileName":"${'x'.repeat(60_000)}"`],
  ['lone surrogates', '"FileName":"\\ud800\\udc00\\udfff\\ud800"'],
  ['control characters', '"FileName":"\\u0000\\u0001\\n\\t"'],
  ['__proto__ and constructor keys', '"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}'],
  ['duplicate keys', '"FileName":"a","FileName":{"b":[1,2,3]}'],
  ['a toJSON key', '"toJSON":"not a function","Extra":{"toJSON":1}'],
  ['many keys', Array.from({ length: 2000 }, (_, i) => `"k${i}":${i}`).join(',')],
  ['a wide array', `"Wide":[${Array.from({ length: 10_000 }, () => '0').join(',')}]`],
  ['EventType overridden by a string', '"EventType":"2"'],
  ['EventType overridden by a float', '"EventType":1.5'],
  ['EventType overridden by an object', '"EventType":{"n":1}'],
  ['EventType overridden by a huge number', '"EventType":1e400'],
  ['EventType overridden by a deep array', `"EventType":${deepArray(5000)}`],
];

describe('security: a webhook delivery answered 200 is sent on (de-duplication on)', function () {
  this.timeout(60_000);
  let clock: ManagedClock;
  let red: NodeAPI | undefined;
  let server: http.Server;
  let port = 0;
  let messages: Msg[];

  before(async () => {
    clock = createClock({ mode: 'manual' });
    helper.settings({ octoeverywhereClock: clock } as Parameters<typeof helper.settings>[0]);
    const webhook = nodeModule(TYPE) as Module;
    const capture: Module = (RED) => {
      red = RED;
      webhook(RED);
    };
    await helper.load(
      [capture] as Parameters<typeof helper.load>[0],
      [
        { id: 'w1', type: TYPE, mode: 'user', path: '/oe/ack', dedupe: true, dedupeSeconds: 600, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ] as Parameters<typeof helper.load>[1],
      { w1: { token: TOKEN } },
    );
    messages = [];
    (helper.getNode('out') as unknown as { on(e: string, fn: (m: Msg) => void): void }).on('input', (m) => messages.push(m));
    if (!red) throw new Error('not loaded');
    server = http.createServer(red.httpNode as unknown as http.RequestListener);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await helper.unload();
    helper.settings({});
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    clock.dispose();
  });

  /** Waits (briefly) for the message of this delivery; Node-RED hands messages on asynchronously. */
  async function sentOn(printId: string): Promise<boolean> {
    for (let i = 0; i < 100; i++) {
      if (messages.some((m) => m.payload.printId === printId)) return true;
      await new Promise((r) => setTimeout(r, 5));
    }
    return false;
  }

  interface Outcome {
    status: number | string;
    body: string;
    sent: boolean;
  }
  let n = 0;
  async function deliver(rest: string): Promise<Outcome> {
    const printId = `ack-${++n}`;
    const body = `{"EventType":1,"PrintId":"${printId}"${rest ? `,${rest}` : ''}}`;
    const reply = await post(port, `/oe/ack?token=${TOKEN}`, body);
    const sent = reply.status === 200 ? await sentOn(printId) : messages.some((m) => m.payload.printId === printId);
    return { status: reply.status, body: reply.body, sent };
  }
  /** Either 200 and sent on, or a coded 4xx and not sent on: never 200 and lost, never a 5xx. */
  function check(what: string, o: Outcome): void {
    if (o.status === 200) assert.ok(o.sent, `${what}: answered 200 but never sent on`);
    else {
      assert.ok(typeof o.status === 'number' && o.status >= 400 && o.status < 500, `${what}: HTTP ${o.status}`);
      assert.match(o.body, /^OE_WEBHOOK_[A-Z_]+$/, what);
      assert.equal(o.sent, false, `${what}: refused but sent on`);
    }
  }

  it('refuses 20,000 levels of nesting with a coded 400 before answering, instead of answering 200 and dropping it', async () => {
    const o = await deliver(`"Deep":${deepArray(20_000)}`);
    assert.deepEqual(o, { status: 400, body: 'OE_WEBHOOK_TOO_DEEP', sent: false });
    const ok = await deliver(`"Deep":${deepArray(MAX_DELIVERY_DEPTH - 1)}`);
    assert.deepEqual(ok, { status: 200, body: 'OK', sent: true }, 'nesting within the bound is a delivery');
  });

  it('hand-made hostile deliveries: each is either 200 and sent on, or a coded 4xx and not sent on', async () => {
    const statuses: string[] = [];
    for (const [what, rest] of HOSTILE) {
      const o = await deliver(rest);
      check(what, o);
      statuses.push(`${o.status === 200 ? 200 : o.body}`);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    figure('webhook/acknowledged-hostile', { cases: HOSTILE.length, outcomes: [...new Set(statuses)].join('|') });
  });

  it(`${RANDOM_CASES} seeded random deliveries (seed ${SEED + 14}): never answered 200 and lost`, async () => {
    const rng = prng(SEED + 14);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < RANDOM_CASES; i++) {
      const fields = Array.from({ length: rng.int(0, 4) }, () => {
        const key = rng.pick(['Progress', 'FileName', 'DurationSec', 'CurrentLayer', 'SnapshotUrl', 'Extra', '__proto__', 'EventType']);
        const value = rng.bool(0.2) ? (rng.bool() ? deepArray(rng.int(1, 200)) : deepObject(rng.int(1, 200))) : safeJson(rng.value(4));
        return `${JSON.stringify(key)}:${value}`;
      });
      const o = await deliver(fields.join(','));
      check(`random case ${i} (${fields.join(',').slice(0, 120)})`, o);
      if (o.status === 200) accepted++;
      else refused++;
    }
    figure('webhook/acknowledged-random', { seed: SEED + 14, cases: RANDOM_CASES, accepted, refused, lost: 0 });
  });
});
