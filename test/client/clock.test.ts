// The real clock: Node's timers overflow past 2^31-1 ms (~24.8 days) and fire at once, so realClock
// chains them; the webhook's 30-day renewal depends on it.
import assert from 'node:assert/strict';
import { realClock } from '../../src/client';

const DAY_MS = 24 * 3600_000;
const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('client: realClock', () => {
  it('fires a short timer once, after its delay', async () => {
    const started = Date.now();
    const firedAt = await new Promise<number>((resolve) => realClock.setTimeout(() => resolve(Date.now()), 20));
    assert.ok(firedAt - started >= 19, `fired after ${firedAt - started} ms`);
  });

  it('waits out a 30-day timer instead of firing at once, and clearTimer releases it', async () => {
    let fired = false;
    const timer = realClock.setTimeout(() => (fired = true), 30 * DAY_MS);
    await wait(30);
    assert.equal(fired, false);
    const held = timeouts();
    realClock.clearTimer(timer);
    assert.equal(timeouts(), held - 1, 'the one Node timer that held the wait is gone');
  });

  it('ignores an unknown or missing timer in clearTimer', () => {
    assert.doesNotThrow(() => realClock.clearTimer(undefined));
    assert.doesNotThrow(() => realClock.clearTimer({}));
  });
});
