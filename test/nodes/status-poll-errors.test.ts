// octoeverywhere-status-poll when things go wrong: back-off and recovery from temporary errors,
// 605's link, the stop on permanent errors, and a real-clock check that nothing is left running.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { COMMON, configModule, countCalls, credentials, flow, helper, loadPolls, pollerOf, pollModule, record, settle, step } from './status-poll.fixture';
import { type ClockedSimulator, startClockedSimulator } from '../helpers/simulator';
import { startSimulator } from '../../src/simulator';
import { realClock } from '../../src/client';
import { serviceError } from '../../src/client/errors';
import { BACKOFF_MAX_MS } from '../../src/nodes/shared/poller';
import type { AppConnectionNode } from '../../src/nodes/shared/types';

/**
 * Open sockets on either end of a connection to the service port: the client's and the service's
 * side of our requests. (The simulator's own relay-to-printer keep-alive sockets are its business and
 * closed by sim.close(); process.getActiveResourcesInfo() cannot tell them apart, hence the handles.)
 */
function serviceSockets(port: number): string[] {
  const handles = (process as unknown as { _getActiveHandles(): Array<{ localPort?: number; remotePort?: number }> })._getActiveHandles();
  return handles.filter((h) => h.localPort === port || h.remotePort === port).map((h) => `${h.localPort}->${h.remotePort}`);
}

describe('node: octoeverywhere-status-poll (errors and cleanup)', () => {
  describe('on the simulated clock', () => {
    let rig: ClockedSimulator;
    beforeEach(async () => {
      rig = await startClockedSimulator();
    });
    afterEach(async () => {
      await helper.unload();
      await rig.close();
    });

    async function load() {
      const { poller, id } = await loadPolls(rig);
      const client = (helper.getNode('c1') as unknown as AppConnectionNode).client();
      return { poller, id, rec: record('p1'), status: countCalls(client.commands, 'status', rig.clock) };
    }

    it('backs off from an offline printer (601), 30 s doubling to 10 min, and recovers by itself', async () => {
      const { poller, rec, status } = await load();
      const t0 = rig.clock.now();
      rig.printer.online = false;
      await step(rig, poller, 40 * 60_000);
      const gaps = status.times.map((t, i) => t - (i === 0 ? t0 : status.times[i - 1]));
      assert.deepEqual(gaps.slice(0, 7), [10_000, 30_000, 60_000, 120_000, 240_000, 480_000, BACKOFF_MAX_MS]);
      const offline = rec.nodeStatus.at(-1);
      assert.equal(offline?.fill, 'red');
      assert.match(String(offline?.text), /status\.retrying$/);
      assert.equal(rec.status.at(-1)?.online, false, 'the status output says offline (once)');
      assert.equal(rec.status.filter((s) => s.online === false).length, 1);
      assert.equal(rec.warnings.length, 1, 'one warning for the outage, not one per retry');
      assert.equal(rec.errors.length, 0, 'temporary: nothing to Catch');

      rig.printer.online = true;
      const before = status.times.length;
      await step(rig, poller, BACKOFF_MAX_MS, () => status.times.length > before);
      assert.equal(rec.status.at(-1)?.online, true);
      assert.deepEqual(rec.nodeStatus.at(-1), { fill: 'green', shape: 'ring', text: `${COMMON}status.idle` }, 'green again, no redeploy');
      const recovered = status.times.length;
      await step(rig, poller, 30_000);
      assert.equal(status.times.length, recovered + 3, 'back to the 10 s interval');
    });

    it('recovers from server errors (chaos 600) and shows their code meanwhile', async () => {
      const { poller, rec } = await load();
      rig.sim.chaos.errorRate = 1;
      rig.sim.chaos.errorStatus = 600;
      await step(rig, poller, 60_000);
      assert.equal(rec.nodeStatus.at(-1)?.fill, 'red');
      assert.ok(rec.nodeStatus.some((s) => s.fill === 'red' && s.shape === 'ring'));
      rig.sim.chaos.errorRate = 0;
      await step(rig, poller, 2 * 60_000);
      assert.equal(rec.nodeStatus.at(-1)?.fill, 'green');
      assert.equal(rec.errors.length, 0);
    });

    it('605: keeps retrying and says how to restore Supporter Perks', async () => {
      const { poller, rec } = await load();
      rig.sim.setSupporter(false);
      await step(rig, poller, 20_000);
      assert.equal(rec.warnings.length, 1);
      assert.match(String(rec.warnings[0]), /nosupporterperks\?appid=/);
      rig.sim.setSupporter(true);
      await step(rig, poller, 2 * 60_000);
      assert.equal(rec.nodeStatus.at(-1)?.fill, 'green');
    });

    it('keeps polling status when only Gadget fails temporarily (611, no beta access)', async () => {
      const { poller, rec, status } = await load();
      const client = (helper.getNode('c1') as unknown as AppConnectionNode).client();
      let gadgetCalls = 0;
      client.app.gadgetStatus = async () => {
        gadgetCalls++;
        throw serviceError(611, 'Gadget status');
      };
      rig.printer.startPrint('benchy.gcode');
      const before = status.times.length;
      await step(rig, poller, 60_000);
      assert.ok(gadgetCalls > 0, 'Gadget was asked while printing');
      assert.ok(status.times.length >= before + 5, 'status polls went on at the 10 s interval');
      const last = rec.status.at(-1);
      assert.equal(last?.online, true);
      assert.ok(last?.state === 'printing' || last?.state === 'warmingup', String(last?.state));
      assert.equal(rec.errors.length, 0);
      assert.notEqual(rec.nodeStatus.at(-1)?.fill, 'red');
    });

    for (const [what, code, act] of [
      ['revoked (604)', 'OE_604', (r: ClockedSimulator, id: string) => r.sim.revoke(id)],
      ['removed (603)', 'OE_603', (r: ClockedSimulator, id: string) => r.sim.remove(id)],
    ] as const) {
      it(`stops polling when the App Connection is ${what}, with one error to Catch`, async () => {
        const { poller, rec, status, id } = await load();
        act(rig, id);
        await step(rig, poller, 20_000);
        const attempts = status.times.length;
        await step(rig, poller, 60 * 60_000);
        assert.equal(status.times.length, attempts, 'no further polls');
        assert.equal(rec.errors.length, 1, 'exactly one error');
        assert.equal((rec.errors[0] as { code: string }).code, code);
        // Stopped is an error: the red ring with the code, as on every node.
        assert.deepEqual(rec.nodeStatus.at(-1), { fill: 'red', shape: 'ring', text: code });
        assert.equal(poller.pendingTimers, 0);
        assert.equal(poller.stopped, true);
      });
    }

    it('606: wrong credentials stop polling too', async () => {
      const { creds } = credentials(rig.sim);
      await helper.load([configModule, pollModule], flow(rig.sim), { c1: { ...creds, authBearerToken: 'wrong', authBasicHttpPassword: 'wrong' } });
      const poller = pollerOf(rig.clock);
      await settle(poller);
      assert.equal(poller.stopped, true);
      assert.equal(poller.pendingTimers, 0);
    });
  });

  describe('on the real clock', () => {
    afterEach(async () => {
      await helper.unload();
    });

    it('leaves no timer, socket or server behind after close', async () => {
      const sim = await startSimulator({ printers: [{ kind: 'moonraker', name: 'Voron 2.4' }] });
      try {
        const count = (type: string) => process.getActiveResourcesInfo().filter((r) => r === type).length;
        const before = { timers: count('Timeout') };
        const { creds } = credentials(sim);
        await helper.load([configModule, pollModule], flow(sim), { c1: creds });
        const poller = pollerOf(realClock);
        const first = helper.getNode('p1-status');
        await once(first, 'input');
        await settle(poller);
        assert.equal(poller.pendingTimers, 1);
        assert.ok(count('Timeout') > before.timers, 'the next poll is a real timer');
        assert.ok(serviceSockets(sim.port).length > 0, 'keep-alive connections while running (so the check below can fail)');
        await helper.unload();
        assert.equal(poller.pendingTimers, 0);
        // Closed sockets leave the handle list on a later turn of the event loop.
        for (let i = 0; i < 50 && (count('Timeout') > before.timers || serviceSockets(sim.port).length > 0); i++) {
          await new Promise((resolve) => setImmediate(resolve));
        }
        assert.ok(count('Timeout') <= before.timers, `timers: ${count('Timeout')} > ${before.timers}`);
        assert.deepEqual(serviceSockets(sim.port), [], 'no connection to or from the service is left open');
      } finally {
        await sim.close();
      }
    });
  });
});
