// Issue 14, item 3: the shared status poller is not held up by an answer that dribbles. A command API
// status or an Info call that sends a byte at a time ends at the request deadline (real time: it bounds
// the network), and the poller carries on on its own (manual) clock: the next poll happens, and a slow
// Info call does not hold the status back.
import assert from 'node:assert/strict';
import { configModule, helper, pollerOf, pollModule, record, settle, step } from './status-poll.fixture';
import { type ClockedSimulator, startClockedSimulator } from '../helpers/simulator';
import { type Answer, type DribbleServer, startDribbleServer } from '../helpers/dribble';
import { SECRETS } from '../helpers/secrets';
import { BACKOFF_BASE_MS } from '../../src/nodes/shared/poller';

const TIMEOUT_MS = 300;
/** Longer than the test may take: a poll that waits for the dribble's end fails the test. */
const LONG_DRIBBLE_MS = 120_000;
const STATUS_PATH = '/octoeverywhere-command-api/status';
const IDLE: Answer = { json: { Status: 200, Result: { JobStatus: { State: 'idle' } } }, contentType: 'text/json' };

describe('node: octoeverywhere-status-poll deadlines (issue 14 item 3)', () => {
  let rig: ClockedSimulator;
  let server: DribbleServer;
  beforeEach(async () => {
    rig = await startClockedSimulator();
    helper.settings({ octoeverywhereClock: rig.clock, octoeverywhereRequestTimeout: TIMEOUT_MS } as Parameters<typeof helper.settings>[0]);
    server = await startDribbleServer();
  });
  afterEach(async () => {
    await helper.unload();
    await server.close();
    await rig.close();
  });

  /** A status-poll node on an App Connection whose relay and service are the dribbling server. */
  async function load(): Promise<void> {
    const flow = [
      { id: 'c1', type: 'octoeverywhere-app-connection', printerName: 'Slow', serviceUrl: `http://127.0.0.1:${server.port}` },
      { id: 'p1', type: 'octoeverywhere-status-poll', connection: 'c1', interval: 10, output: 'always', wires: [['p1-status'], ['p1-events']] },
      { id: 'p1-status', type: 'helper' },
      { id: 'p1-events', type: 'helper' },
    ];
    const creds = { url: `http://app-dribble.localhost:${server.port}`, authBearerToken: SECRETS.authBearerToken, appApiToken: SECRETS.appApiToken };
    await helper.load([configModule, pollModule], flow, { c1: creds });
  }
  const requestsTo = (url: string): number => server.requests.filter((r) => r.url.startsWith(url)).length;
  const until = async (what: () => boolean): Promise<void> => {
    while (!what()) await new Promise((resolve) => setImmediate(resolve));
  };

  it('a status command that dribbles ends at the deadline; the next poll happens after the back-off and succeeds', async () => {
    server.respond((req) => (req.url.startsWith(STATUS_PATH) ? { dribble: 'body', forMs: LONG_DRIBBLE_MS } : { json: {} }));
    await load();
    const rec = record('p1');
    const poller = pollerOf(rig.clock);
    const codes: string[] = [];
    poller.subscribe({ intervalMs: 10_000, snapshot: () => undefined, failed: (e) => codes.push(e.code) });
    await until(() => requestsTo(STATUS_PATH) === 1);
    // Ends when the deadline passes; before, only when the dribble did.
    await settle(poller);
    const failed = rec.nodeStatus.at(-1);
    assert.equal(failed?.fill, 'red');
    assert.match(String(failed?.text), /status\.retrying/);
    assert.deepEqual(codes, ['OE_TIMEOUT']);
    assert.equal(rec.warnings.length, 1, 'reported once, as a temporary failure');
    assert.equal(rec.errors.length, 0, 'temporary: nothing to Catch');

    server.respond((req) => (req.url.startsWith(STATUS_PATH) ? IDLE : { json: {} }));
    await step(rig, poller, BACKOFF_BASE_MS, () => rec.status.length > 0);
    assert.equal(requestsTo(STATUS_PATH), 2, 'the next poll happened');
    assert.equal(rec.status.at(-1)?.state, 'idle');
    assert.equal(rec.status.at(-1)?.online, true);
  });

  it('an Info call that dribbles does not hold the status back: it ends at the deadline and the poll delivers', async () => {
    server.respond((req) =>
      req.url.startsWith('/api/appconnection/info') ? { dribble: 'body', forMs: LONG_DRIBBLE_MS, contentType: 'application/json' } : IDLE,
    );
    await load();
    const rec = record('p1');
    const poller = pollerOf(rig.clock);
    await until(() => requestsTo('/api/appconnection/info') === 1);
    assert.equal(rec.status.length, 0, 'the poll waits for Info');
    await settle(poller);
    assert.equal(rec.status.length, 1, 'the status came out once Info timed out');
    assert.equal(rec.status[0].state, 'idle');
    assert.equal(rec.status[0].printerName, 'Slow', 'the configured name, Info being unknown');
    // And the poller keeps its interval.
    await step(rig, poller, 10_000, () => rec.status.length > 1);
    assert.equal(rec.status.length, 2);
  });
});
