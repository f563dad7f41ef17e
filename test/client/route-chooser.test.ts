// The LAN-route rule on the connection's clock: a LAN URL that did not answer is left alone for a
// minute (the relay is used), then tried again; one probe decides for every request waiting on it.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppConnection } from '../../src/client';
import { LOCAL_RETRY_AFTER_MS, RouteChooser } from '../../src/client/route-chooser';
import { createClock, type ManagedClock } from '../../src/simulator';
import { json, startRecorder, type Recorder } from '../helpers/recorder';
import { SECRETS } from '../helpers/secrets';

describe('client: route chooser (LAN URL first) on the manual clock', () => {
  let clock: ManagedClock;
  beforeEach(() => {
    clock = createClock({ mode: 'manual' });
  });
  afterEach(() => clock.dispose());

  it('LAN down: the relay for 60 s without probing, then the LAN URL is probed again', async () => {
    let up = false;
    let probes = 0;
    const routes = new RouteChooser('http://printer.lan', clock, async () => {
      probes += 1;
      return up;
    });
    assert.equal(await routes.choose('auto'), 'relay');
    assert.equal(probes, 1);
    up = true;
    await clock.advance(LOCAL_RETRY_AFTER_MS - 1);
    assert.equal(await routes.choose('auto'), 'relay', '1 ms before the minute is over: still the relay');
    assert.equal(probes, 1, 'and no probe meanwhile');
    await clock.advance(1);
    assert.equal(await routes.choose('auto'), 'local');
    assert.equal(probes, 2);
  });

  it('a request that found the LAN URL unreachable holds it off for the same minute', async () => {
    let probes = 0;
    const routes = new RouteChooser('http://printer.lan', clock, async () => {
      probes += 1;
      return true;
    });
    assert.equal(await routes.choose('auto'), 'local');
    routes.localFailed();
    await clock.advance(LOCAL_RETRY_AFTER_MS - 1);
    assert.equal(await routes.choose('auto'), 'relay');
    await clock.advance(1);
    assert.equal(await routes.choose('auto'), 'local');
    assert.equal(probes, 2);
  });

  it('one probe answers every request waiting on it; an explicit route is not probed', async () => {
    let probes = 0;
    let answer: (up: boolean) => void = () => undefined;
    const routes = new RouteChooser('http://printer.lan', clock, () => {
      probes += 1;
      return new Promise<boolean>((resolve) => (answer = resolve));
    });
    const waiting = [routes.choose('auto'), routes.choose('auto'), routes.choose('auto')];
    assert.equal(await routes.choose('relay'), 'relay');
    answer(true);
    assert.deepEqual(await Promise.all(waiting), ['local', 'local', 'local']);
    assert.equal(probes, 1);
    await assert.rejects(new RouteChooser(undefined, clock).choose('local'), { code: 'OE_INVALID_ARGUMENT' });
    assert.equal(await new RouteChooser(undefined, clock).choose('auto'), 'relay', 'no LAN URL: always the relay');
  });

  describe('through an AppConnection', () => {
    let relay: Recorder;
    let lan: http.Server | undefined;
    const lanRequests: string[] = [];
    beforeEach(async () => {
      relay = await startRecorder((_req, res) => json(res, 200, { via: 'relay' }));
      lanRequests.length = 0;
    });
    afterEach(async () => {
      await relay.close();
      if (lan) {
        lan.closeAllConnections();
        await new Promise((resolve) => lan?.close(resolve));
        lan = undefined;
      }
    });

    it('uses the relay for a minute after the LAN URL refused, then the LAN URL once it answers', async () => {
      // A free port: nothing listens on it until the printer "comes back".
      const probe = http.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise((resolve) => probe.close(resolve));
      const c = new AppConnection({
        url: `http://127.0.0.1:${relay.port}`,
        authBearerToken: SECRETS.authBearerToken,
        localUrl: `http://127.0.0.1:${port}`,
        clock,
      });
      try {
        assert.equal((await c.request({ path: '/api/job' })).via, 'relay');
        lan = http.createServer((req, res) => {
          lanRequests.push(req.url ?? '');
          json(res, 200, { via: 'local' });
        });
        await new Promise<void>((resolve) => lan?.listen(port, '127.0.0.1', resolve));
        await clock.advance(LOCAL_RETRY_AFTER_MS - 1);
        assert.equal((await c.request({ path: '/api/job' })).via, 'relay');
        assert.deepEqual(lanRequests, [], 'the LAN URL is left alone for the minute');
        await clock.advance(1);
        const res = await c.request({ path: '/api/job' });
        assert.equal(res.via, 'local');
        assert.deepEqual(res.body, { via: 'local' });
        assert.deepEqual(lanRequests, ['/api/job']);
        assert.equal(relay.requests.length, 2);
      } finally {
        await c.close();
      }
    });
  });
});
