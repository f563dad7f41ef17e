// The reconnect schedule: jittered so a relay restart does not bring a thousand printers back in the
// same second, and bounded so all of them are back within a minute.
import assert from 'node:assert/strict';
import { DEFAULT_BACKOFF, reconnectDelayMs } from '../../src/client/live/backoff';
import { prng } from '../fuzz/gen';

/** The suite's one seeded generator (mulberry32), as a bare `() => number`. */
const seededRandom = (seed: number): (() => number) => prng(seed).next;

describe('client live: reconnect back-off', () => {
  it('stays within [min, min(cap, base·2^n)] and grows with the attempt', () => {
    const random = seededRandom(7);
    for (let attempt = 0; attempt < 12; attempt++) {
      const window = Math.min(DEFAULT_BACKOFF.capMs, DEFAULT_BACKOFF.baseMs * 2 ** attempt);
      for (let i = 0; i < 200; i++) {
        const d = reconnectDelayMs(attempt, random);
        assert.ok(d >= DEFAULT_BACKOFF.minMs && d <= window, `attempt ${attempt}: ${d}`);
      }
    }
    assert.equal(
      reconnectDelayMs(0, () => 0),
      DEFAULT_BACKOFF.minMs,
    );
    assert.equal(
      reconnectDelayMs(5, () => 1),
      DEFAULT_BACKOFF.capMs,
    );
    assert.equal(
      reconnectDelayMs(0, () => 1, { baseMs: 4000, minMs: 500 }),
      4000,
    );
  });

  for (const refusedMs of [0, 10_000, 30_000]) {
    it(`1000 sockets after a relay restart that refuses upgrades for ${refusedMs / 1000} s: all back within 60 s, no second holds more than 10 %`, () => {
      const random = seededRandom(16 + refusedMs);
      const attemptsPerSecond = new Map<number, number>();
      const backAt: number[] = [];
      for (let socket = 0; socket < 1000; socket++) {
        let t = 0;
        for (let attempt = 0; ; attempt++) {
          t += reconnectDelayMs(attempt, random);
          const second = Math.floor(t / 1000);
          attemptsPerSecond.set(second, (attemptsPerSecond.get(second) ?? 0) + 1);
          if (t >= refusedMs) break; // the relay is back: this attempt connects
        }
        backAt.push(t);
      }
      assert.ok(Math.max(...backAt) <= 60_000, `last socket back after ${Math.max(...backAt)} ms`);
      const busiest = Math.max(...attemptsPerSecond.values());
      assert.ok(busiest <= 100, `busiest second: ${busiest} attempts`);
      const connectsPerSecond = new Map<number, number>();
      for (const t of backAt) connectsPerSecond.set(Math.floor(t / 1000), (connectsPerSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
      assert.ok(Math.max(...connectsPerSecond.values()) <= 100);
    });
  }
});
