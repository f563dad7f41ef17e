import assert from 'node:assert/strict';
import { helper } from '../helpers/nodes';
import { secretsIn } from '../helpers/secrets';
import { appConnectionCredentials, sharedConnectionCredentials } from '../helpers/simulator';
import { startSimulator, type Simulator } from '../../src/simulator';
import { assertNothingLostOrLeaked, type ErrorCase, type Harness, loadFlow, type Outcome, serviceErrorCases } from './printer-request-harness';

const TYPE = 'octoeverywhere-live-link';

describe('node: octoeverywhere-live-link', () => {
  let sim: Simulator;
  const harnesses: Harness[] = [];

  before(async () => {
    sim = await startSimulator();
  });
  after(async () => {
    await sim.close();
  });
  afterEach(async () => {
    assertNothingLostOrLeaked(harnesses);
    await helper.unload();
    sim.printers[0].online = true;
    sim.setSupporter(true);
    Object.assign(sim.chaos, { errorRate: 0, errorStatus: 0, latencyMs: 0 });
    if (sim.printers[0].state !== 'idle') sim.printers[0].cancel();
  });

  const load = async (node: Record<string, unknown> = {}, credentials = appConnectionCredentials(sim)): Promise<Harness> => {
    const h = await loadFlow({ type: TYPE, sim, credentials, node: { expiration: '24', expirationType: 'num', ...node } });
    harnesses.push(h);
    return h;
  };
  const errorOf = (o: Outcome): { code?: string; message: string } => {
    assert.ok(o.error, 'expected an error');
    assert.deepEqual(secretsIn(JSON.stringify(o.error)), []);
    return o.error;
  };
  const link = (o: Outcome): Record<string, string> => {
    assert.equal(o.error, undefined, o.error?.message);
    return o.msg.payload as Record<string, string>;
  };

  it('creates a Live Link with the wire names {LiveId, Url, ShortUrl} and a green status', async () => {
    const h = await load();
    const payload = link(await h.send({ payload: 1700000000000 }));
    assert.deepEqual(Object.keys(payload).sort(), ['LiveId', 'ShortUrl', 'Url']);
    assert.ok(payload.LiveId && /^https?:\/\//.test(payload.Url) && /^https?:\/\//.test(payload.ShortUrl));
    assert.deepEqual(h.statuses.at(-1), { fill: 'green', shape: 'dot', text: 'status.created' });
  });

  it('lets msg.payload choose the expiration: hours, or the end of the current print', async () => {
    const h = await load({ expirationType: 'print' });
    assert.equal(errorOf(await h.send({})).code, 'OE_613', 'the node setting: no print is running');
    assert.ok(link(await h.send({ payload: { expirationHours: 2 } })).LiveId, 'hours override the node setting');
    sim.printers[0].startPrint('cube.gcode');
    assert.ok(link(await h.send({})).LiveId, 'ends with the print that is now running');
  });

  it('turns 613 into "no print is running" with code OE_613', async () => {
    const h = await load();
    const e = errorOf(await h.send({ payload: { endWhenCurrentPrintIsComplete: true } }));
    assert.equal(e.code, 'OE_613');
    assert.match(e.message, /no print is running/);
    assert.deepEqual(h.statuses.at(-1), { fill: 'red', shape: 'ring', text: 'OE_613' });
  });

  it('needs an App Connection: a Shared Connection says so at deploy time and fails with OE_APP_CONNECTION_REQUIRED', async () => {
    const h = await load({}, sharedConnectionCredentials(sim));
    assert.deepEqual(h.statuses[0], { fill: 'red', shape: 'ring', text: 'status.needs-app-connection' });
    const e = errorOf(await h.send({}));
    assert.equal(e.code, 'OE_APP_CONNECTION_REQUIRED');
    assert.match(e.message, /needs an App Connection/);
  });

  describe('OctoEverywhere errors', () => {
    const cases: ErrorCase[] = [
      ...serviceErrorCases(
        () => sim,
        (credentials) => load({}, credentials),
      ),
      [
        '606 invalid credentials',
        async () => {
          Object.assign(sim.chaos, { errorRate: 1, errorStatus: 606 });
          return load();
        },
        'OE_606',
      ],
    ];
    for (const [what, setup, code] of cases) {
      it(what, async () => {
        const h = await setup();
        const e = errorOf(await h.send({}));
        assert.equal(e.code, code);
        assert.match(e.message, /\(60\d, (temporary|permanent)\)\. \S/);
        assert.deepEqual(h.statuses.at(-1), { fill: 'red', shape: 'ring', text: code });
      });
    }

    it('times out with OE_TIMEOUT (settings octoeverywhereRequestTimeout)', async () => {
      helper.settings({ octoeverywhereRequestTimeout: 200 } as Parameters<typeof helper.settings>[0]);
      try {
        sim.chaos.latencyMs = 1000;
        const h = await load();
        assert.equal(errorOf(await h.send({})).code, 'OE_TIMEOUT');
      } finally {
        helper.settings({});
      }
    });
  });

  describe('bad input: a specific code, nothing lost', () => {
    it('refuses wrong expirations from msg.payload', async () => {
      const h = await load();
      const bad = [
        { expirationHours: 0 },
        { expirationHours: 17521 },
        { expirationHours: 1.5 },
        { expirationHours: 'soon' },
        { expirationHours: null },
        { endWhenCurrentPrintIsComplete: 'yes' },
      ];
      const outcomes = await Promise.all(bad.map((payload) => h.send({ payload })));
      outcomes.forEach((o, i) => assert.equal(errorOf(o).code, 'OE_INVALID_EXPIRATION', `case ${i}`));
      assert.ok(link(await h.send({ payload: { expirationHours: '17520' } })).LiveId, 'the largest value is fine');
    });

    it('shows a wrong node expiration at deploy time and refuses messages that do not override it', async () => {
      const h = await load({ expiration: '0' });
      assert.deepEqual(h.statuses[0], { fill: 'red', shape: 'ring', text: 'OE_INVALID_EXPIRATION' });
      assert.equal(errorOf(await h.send({})).code, 'OE_INVALID_EXPIRATION');
      assert.ok(link(await h.send({ payload: { expirationHours: 3 } })).LiveId);
    });

    it('without a configured connection, fails with OE_NO_CONNECTION', async () => {
      const h = await loadFlow({ type: TYPE, sim, node: {} });
      harnesses.push(h);
      assert.equal(errorOf(await h.send({})).code, 'OE_NO_CONNECTION');
    });
  });
});
