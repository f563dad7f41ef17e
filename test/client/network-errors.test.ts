// Transport failures mapped to our errors in one place, keeping nothing of the library error.
import assert from 'node:assert/strict';
import { AxiosError } from 'axios';
import { NetworkError, OctoEverywhereError } from '../../src/client';
import { Deadline } from '../../src/client/deadline';
import { isStaleSocket, isUnreachable, networkError } from '../../src/client/network-errors';
import { createClock } from '../../src/simulator';

const sys = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`connect ${code} 10.0.0.1:443 Bearer secret`), { code });

describe('client: network error mapping', () => {
  it('maps socket and axios codes to stable codes, naming only the code', () => {
    const map = (err: unknown): [string, string] => {
      const e = networkError(err, 'The request');
      return [e.code, e.kind];
    };
    assert.deepEqual(map(sys('ECONNREFUSED')), ['OE_UNREACHABLE', 'temporary']);
    assert.deepEqual(map(sys('ENOTFOUND')), ['OE_UNREACHABLE', 'temporary']);
    assert.deepEqual(map(sys('ETIMEDOUT')), ['OE_TIMEOUT', 'temporary']);
    assert.deepEqual(map(new AxiosError('canceled', 'ERR_CANCELED')), ['OE_ABORTED', 'temporary']);
    assert.deepEqual(map(new AxiosError('maxContentLength size of 10 exceeded', 'ERR_BAD_RESPONSE')), ['OE_RESPONSE_TOO_LARGE', 'permanent']);
    assert.deepEqual(map(sys('ECONNRESET')), ['OE_NETWORK', 'temporary']);
    const e = networkError(sys('ECONNREFUSED'), 'The request');
    assert.equal(e.message, 'The request could not connect (ECONNREFUSED).');
    assert.ok(!JSON.stringify(e).includes('secret') && !e.message.includes('10.0.0.1'));
    assert.equal(networkError(new Error('weird'), 'X').message, 'X failed on the network.');
    const ours = new OctoEverywhereError('OE_608', 'too big');
    assert.equal(networkError(ours, 'X'), ours, 'ours passes through');
  });

  it("says OE_TIMEOUT when the request's deadline ran out, whatever the transport said", async () => {
    const clock = createClock({ mode: 'manual' });
    try {
      const deadline = new Deadline(5_000, undefined, clock);
      await clock.advance(5_000);
      const e = networkError(new AxiosError('canceled', 'ERR_CANCELED'), 'The request', deadline);
      assert.equal(e.code, 'OE_TIMEOUT');
      assert.match(e.message, /within 5 s/);
    } finally {
      clock.dispose();
    }
  });

  it('knows an unreachable address and a stale kept-alive socket', () => {
    assert.equal(isUnreachable(networkError(sys('EHOSTUNREACH'), 'x')), true);
    assert.equal(isUnreachable(new NetworkError('OE_TIMEOUT', 'x')), false);
    assert.equal(isStaleSocket(sys('ECONNRESET')), true);
    assert.equal(isStaleSocket(new AxiosError('socket hang up', 'EPIPE')), true);
    assert.equal(isStaleSocket(sys('ECONNREFUSED')), false);
  });
});
