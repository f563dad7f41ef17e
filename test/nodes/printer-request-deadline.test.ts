// Issue 14, item 3, through the real runtime: a printer request's timeout is a deadline. Against a
// "printer" that dribbles its answer a byte at a time, the message ends with OE_TIMEOUT (Catch node,
// red ring) when its time is up, long before the dribble would have finished. Deadlines bound real
// network time, so these run on the real clock (test/client/deadline.test.ts checks the boundary to the
// millisecond on a manual one).
import assert from 'node:assert/strict';
import { helper } from '../helpers/nodes';
import { SECRETS, secretsIn } from '../helpers/secrets';
import { type DribbleServer, DRIBBLE_FOR_MS, startDribbleServer } from '../helpers/dribble';
import { startSimulator, type Simulator } from '../../src/simulator';
import { assertNothingLostOrLeaked, type Harness, loadFlow, type Outcome } from './printer-request-harness';
import { figure } from '../reliability/rig';

const TYPE = 'octoeverywhere-printer-request';
/** Longer than any test may take, so an answer that waits for the dribble's end fails the test. */
const LONG_DRIBBLE_MS = 120_000;

describe('node: octoeverywhere-printer-request deadlines (issue 14 item 3)', function () {
  this.timeout(20_000);
  let sim: Simulator;
  let dribble: DribbleServer;
  const harnesses: Harness[] = [];

  before(async () => {
    sim = await startSimulator();
  });
  after(async () => {
    await sim.close();
  });
  beforeEach(async () => {
    dribble = await startDribbleServer(() => ({ dribble: 'body', forMs: LONG_DRIBBLE_MS }));
  });
  afterEach(async () => {
    assertNothingLostOrLeaked(harnesses);
    await helper.unload();
    await dribble.close();
  });

  const load = async (node: Record<string, unknown> = {}): Promise<Harness> => {
    // The config node's App Connection points at the dribbling server instead of the relay.
    const credentials = { url: `http://app-dribble.localhost:${dribble.port}`, authBearerToken: SECRETS.authBearerToken };
    const h = await loadFlow({ type: TYPE, sim, credentials, node: { method: 'GET', path: '/api/job', ret: 'txt', ...node } });
    harnesses.push(h);
    return h;
  };
  const timedOut = (o: Outcome): void => {
    assert.equal(o.error?.code, 'OE_TIMEOUT', JSON.stringify(o.error));
    assert.deepEqual(secretsIn(JSON.stringify(o.error)), []);
  };

  it('msg.timeout 300 against an answer that never ends: OE_TIMEOUT, red ring, its socket closed', async () => {
    const h = await load();
    timedOut(await h.send({ timeout: 300 }));
    assert.deepEqual(h.statuses.at(-1), { fill: 'red', shape: 'ring', text: 'OE_TIMEOUT' });
    await dribble.socketsClosed();
  });

  it("the node's own Timeout (seconds) is a deadline too", async () => {
    const h = await load({ timeout: 1 });
    timedOut(await h.send({}));
  });

  it('500 ms against 1 byte per 100 ms for 10 s ends with OE_TIMEOUT long before the dribble ends', async () => {
    dribble.respond(() => ({ dribble: 'body' }));
    const h = await load();
    const started = Date.now();
    const outcome = await h.send({ timeout: 500 });
    const tookMs = Date.now() - started;
    timedOut(outcome);
    assert.ok(tookMs < 5_000, `OE_TIMEOUT after ${tookMs} ms; the dribble lasts ${DRIBBLE_FOR_MS} ms`);
    figure('deadline/printer-request-node', { timeoutMs: 500, dribbleMs: DRIBBLE_FOR_MS, oeTimeoutAfterMs: tookMs });
  });
});
