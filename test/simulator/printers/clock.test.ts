import assert from 'node:assert/strict';
import { createClock } from '../../../src/simulator/clock';

describe('simulator clock', () => {
  describe('manual', () => {
    it('moves only on advance and fires due timers in time order, ties in creation order', async () => {
      const clock = createClock({ mode: 'manual', startMs: 1000 });
      const fired: string[] = [];
      clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
      clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 200);
      clock.setTimeout(() => fired.push('late'), 301);
      assert.equal(clock.now(), 1000);
      await clock.advance(300);
      assert.deepEqual(fired, ['a@1100', 'b@1200', 'c@1200']);
      assert.equal(clock.now(), 1300);
      assert.equal(clock.pendingTimers, 1);
      clock.dispose();
    });

    it('repeats intervals, and lets a fired timer schedule and cancel others', async () => {
      const clock = createClock({ mode: 'manual', startMs: 0 });
      const ticks: number[] = [];
      const interval = clock.setInterval(() => {
        ticks.push(clock.now());
        if (ticks.length === 3) clock.clearTimer(interval);
      }, 10);
      let nested = 0;
      clock.setTimeout(() => clock.setTimeout(() => (nested = clock.now()), 5), 12);
      await clock.advance(100);
      assert.deepEqual(ticks, [10, 20, 30]);
      assert.equal(nested, 17);
      assert.equal(clock.pendingTimers, 0);
    });

    it('awaits pending promise work between timers', async () => {
      const clock = createClock({ mode: 'manual', startMs: 0 });
      const order: string[] = [];
      clock.setTimeout(() => void Promise.resolve().then(() => order.push('microtask of first')), 1);
      clock.setTimeout(() => order.push('second'), 2);
      await clock.advance(2);
      assert.deepEqual(order, ['microtask of first', 'second']);
    });

    it('dispose cancels everything and refuses new timers', async () => {
      const clock = createClock({ mode: 'manual', startMs: 0 });
      let fired = false;
      clock.setInterval(() => (fired = true), 1);
      clock.dispose();
      await clock.advance(10);
      assert.equal(fired, false);
      assert.equal(clock.pendingTimers, 0);
      assert.throws(() => clock.setTimeout(() => undefined, 1));
    });
  });

  describe('real', () => {
    it('runs timeScale times faster than the wall clock', async () => {
      const clock = createClock({ mode: 'real', timeScale: 1000, startMs: 0 });
      const started = Date.now();
      const firedAt = await new Promise<number>((resolve) => clock.setTimeout(() => resolve(clock.now()), 20_000));
      const realMs = Date.now() - started;
      assert.ok(firedAt >= 20_000, `fired at simulated ${firedAt}`);
      assert.ok(realMs < 1000, `20 simulated seconds took ${realMs} real ms`);
      clock.dispose();
    });

    it('jumps forward on advance, firing what falls due', async () => {
      const clock = createClock({ mode: 'real', timeScale: 1, startMs: 0 });
      let fired = false;
      clock.setTimeout(() => (fired = true), 3_600_000);
      await clock.advance(3_600_000);
      assert.equal(fired, true);
      assert.ok(clock.now() >= 3_600_000);
      clock.dispose();
    });

    it('clears its wall-clock timer on dispose (nothing keeps the process alive)', () => {
      const clock = createClock({ mode: 'real', timeScale: 1 });
      clock.setTimeout(() => assert.fail('must not fire'), 10);
      clock.dispose();
      assert.equal(clock.pendingTimers, 0);
    });
  });
});
