// The pace of socket openings in one process (src/client/live/pacer.ts): a burst, then a steady rate,
// in arrival order, cancellable; and the supervisor opening through it, so that a thousand sockets
// whose retry timers fire together (a stalled event loop) still open at most that many a second.
import assert from 'node:assert/strict';
import { ConnectPacer } from '../../src/client/live/pacer';
import { type SupervisedAttempt, SocketSupervisor } from '../../src/client/live/supervisor';
import { NetworkError } from '../../src/client';
import { createClock, type ManagedClock } from '../../src/simulator';

const PACE = { perSecond: 50, burst: 10 };

/** The most items of `times` within any window of 1 s. */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j] - sorted[i] >= 1000) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

async function advance(clock: ManagedClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) await clock.advance(step);
}

describe('client live: the pace of socket openings', () => {
  let clock: ManagedClock;
  beforeEach(() => {
    clock = createClock({ mode: 'manual' });
  });
  afterEach(() => clock.dispose());

  it('lets a burst through at once, then the rate, in arrival order; a cancel leaves no timer', async () => {
    const pacer = new ConnectPacer(clock, PACE);
    const ran: Array<{ id: number; at: number }> = [];
    const cancels = Array.from({ length: 100 }, (_, id) => pacer.admit(() => ran.push({ id, at: clock.now() })));
    assert.equal(ran.length, 10, 'the burst at once');
    cancels[50]?.();
    await advance(clock, 1000);
    assert.ok(ran.length >= 55 && ran.length <= 61, `the rate in the first second: ${ran.length}`);
    await advance(clock, 2000);
    assert.equal(ran.length, 99, 'all but the cancelled one');
    assert.ok(!ran.some((r) => r.id === 50));
    assert.deepEqual(
      ran.map((r) => r.id),
      [...ran.map((r) => r.id)].sort((a, b) => a - b),
      'in arrival order',
    );
    assert.equal(pacer.queued, 0);
    assert.equal(clock.pendingTimers, 0);
    // Quiet again: the burst is back.
    await advance(clock, 1000);
    let now = 0;
    for (let i = 0; i < 10; i++) pacer.admit(() => now++);
    assert.equal(now, 10);
  });

  it('300 supervisors whose sockets all drop at once reopen at most burst + rate in any second, and all of them', async () => {
    const pacer = new ConnectPacer(clock, PACE);
    const opened: number[] = [];
    const live: Array<{ drop?: () => void }> = [];
    const supervisors = Array.from({ length: 300 }, (_, i) => {
      live[i] = {};
      return new SocketSupervisor<SupervisedAttempt>(
        (handle) => ({
          open: () => {
            opened.push(clock.now());
            live[i] = { drop: () => handle.ended(new NetworkError('OE_SOCKET_CLOSED', 'dropped', { kind: 'temporary' })) };
            return Promise.resolve({ via: 'relay' as const });
          },
          heartbeat: () => true,
          close: () => undefined,
        }),
        // No jitter and the same first delay for all: every retry timer fires in the same instant.
        { clock, heartbeatMs: 15_000, pacer, random: () => 0 },
      );
    });
    for (const s of supervisors) s.start();
    await advance(clock, 10_000);
    assert.equal(opened.length, 300, 'all opened at deploy');
    assert.ok(busiestSecond(opened) <= PACE.burst + PACE.perSecond, `deploy: ${busiestSecond(opened)} in one second`);
    opened.length = 0;
    for (const l of live) l.drop?.();
    await advance(clock, 15_000);
    assert.equal(opened.length, 300, 'every socket back');
    assert.ok(busiestSecond(opened) <= PACE.burst + PACE.perSecond, `storm: ${busiestSecond(opened)} in one second`);
    assert.ok(supervisors.every((s) => s.state.status === 'connected'));
    for (const s of supervisors) s.stop();
    assert.equal(clock.pendingTimers, 0);
  });

  it('a supervisor stopped while its opening waits never opens and holds nothing', async () => {
    const pacer = new ConnectPacer(clock, { perSecond: 1, burst: 1 });
    let opens = 0;
    const make = (): SocketSupervisor<SupervisedAttempt> =>
      new SocketSupervisor<SupervisedAttempt>(
        () => ({
          open: () => {
            opens++;
            return Promise.resolve({ via: 'relay' as const });
          },
          heartbeat: () => true,
          close: () => undefined,
        }),
        { clock, heartbeatMs: 15_000, pacer },
      );
    const first = make();
    const waiting = make();
    first.start();
    waiting.start();
    assert.equal(opens, 1);
    assert.equal(waiting.state.status, 'connecting', 'a waiting opening says connecting');
    assert.equal(waiting.pendingTimers, 1);
    waiting.stop();
    assert.equal(waiting.pendingTimers, 0);
    assert.equal(pacer.queued, 0);
    await advance(clock, 5000);
    assert.equal(opens, 1, 'the stopped one never opened');
    first.stop();
    assert.equal(clock.pendingTimers, 0);
  });
});
