import assert from 'node:assert/strict';
import { PortalStates } from '../../src/nodes/shared/portal-states';

const connection = { id: 'c', url: 'https://app-x.octoeverywhere.com', authBearerToken: 'b' };

describe('portal one-time states', () => {
  let now = 0;
  const clock = () => now;

  it('are random, URL-safe and distinct', () => {
    const states = new PortalStates({ now: clock });
    const a = states.create();
    const b = states.create();
    assert.match(a, /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(a, b);
  });

  it('complete once, are read once, and expire (pending after ttl, results after resultTtl)', () => {
    now = 0;
    const states = new PortalStates({ now: clock, ttlMs: 1000, resultTtlMs: 100 });
    const s = states.create();
    assert.equal(states.read(s), 'pending');
    assert.equal(states.complete(s, { ok: true, connection }), true);
    assert.equal(states.complete(s, { ok: false, code: 'X', message: 'm' }), false, 'used');
    assert.deepEqual(states.read(s), { ok: true, connection });
    assert.equal(states.read(s), undefined, 'read once');

    const late = states.create();
    now += 1000;
    assert.equal(states.complete(late, { ok: true, connection }), false, 'expired');
    assert.equal(states.read(late), undefined);

    const unread = states.create();
    states.complete(unread, { ok: true, connection });
    now += 100;
    assert.equal(states.read(unread), undefined, 'an unread result does not wait forever');
    assert.equal(states.size, 0);
  });

  it('keep at most `max`, dropping the oldest', () => {
    now = 0;
    const states = new PortalStates({ now: clock, max: 3 });
    const made = [states.create(), states.create(), states.create(), states.create()];
    assert.equal(states.size, 3);
    assert.equal(states.read(made[0]), undefined);
    assert.equal(states.read(made[3]), 'pending');
    assert.equal(states.complete('never-made', { ok: true, connection }), false);
  });
});
