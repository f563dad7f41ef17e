// The one back-off policy: exponential from a base, capped, exact without jitter (so timers on the
// manual clock land where tests expect), and jittered within its share when asked.
import assert from 'node:assert/strict';
import { backoffDelay } from '../../src/client/backoff';

describe('client: backoffDelay', () => {
  it('doubles from the base to the cap, exactly, without jitter (the status poller: 30 s … 10 min)', () => {
    const policy = { baseMs: 30_000, maxMs: 600_000 };
    const waits = [1, 2, 3, 4, 5, 6, 7, 50, 5000].map((n) => backoffDelay(policy, n, () => assert.fail('no jitter: random is not drawn')));
    assert.deepEqual(waits, [30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000, 600_000]);
    assert.equal(backoffDelay(policy, 0), 30_000, 'no failure yet counts as the first');
  });

  it('takes another growth factor', () => {
    assert.deepEqual(
      [1, 2, 3].map((n) => backoffDelay({ baseMs: 1000, maxMs: 1e6, factor: 3 }, n)),
      [1000, 3000, 9000],
    );
  });

  it('makes the jitter share of each wait random (0 → the shortest, 1 → the exact wait), never longer than the exact wait', () => {
    const policy = { baseMs: 60_000, maxMs: 3_600_000, jitter: 0.5 };
    assert.equal(
      backoffDelay(policy, 1, () => 0),
      30_000,
    );
    assert.equal(
      backoffDelay(policy, 1, () => 0.999_999),
      60_000,
    );
    assert.equal(
      backoffDelay(policy, 2, () => 0.5),
      90_000,
    );
    assert.equal(
      backoffDelay({ ...policy, jitter: 1 }, 1, () => 0.75),
      45_000,
      'full jitter',
    );
    assert.equal(
      backoffDelay({ ...policy, jitter: 7 }, 1, () => 0.5),
      30_000,
      'a share above 1 is 1',
    );
    for (let i = 0; i < 200; i++) {
      const wait = backoffDelay(policy, 3);
      assert.ok(wait >= 120_000 && wait <= 240_000, `${wait} within [120 s, 240 s]`);
    }
  });

  it('draws a jittered wait no shorter than minMs (the live sockets: full jitter from 1 s)', () => {
    const live = { baseMs: 20_000, maxMs: 30_000, jitter: 1, minMs: 1_000 };
    assert.equal(
      backoffDelay(live, 1, () => 0),
      1_000,
    );
    assert.equal(
      backoffDelay(live, 1, () => 0.5),
      10_500,
    );
    assert.equal(
      backoffDelay(live, 5, () => 0.999_999),
      30_000,
    );
  });
});
