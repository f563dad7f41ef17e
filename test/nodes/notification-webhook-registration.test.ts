// The renewal schedule across restarts (a persistent record), on the simulator's manual clock.
import assert from 'node:assert/strict';
import { OctoEverywhereClient } from '../../src/client';
import { RENEW_EVERY_MS, WebhookRegistration, type RegistrationRecord, type RegistrationState } from '../../src/nodes/shared/webhook-registration';
import { createClock, startSimulator, type ManagedClock, type Simulator } from '../../src/simulator';
import { watchConnectionSecrets } from '../helpers/simulator';

const DAY = 24 * 3600_000;

describe('notification webhook: registration schedule', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  let client: OctoEverywhereClient;
  let appToken: string;
  let saved: RegistrationRecord | undefined;
  let states: RegistrationState['state'][];
  const running: WebhookRegistration[] = [];

  const store = { load: async () => saved, save: async (r: RegistrationRecord) => void (saved = r) };
  function start(url = 'http://127.0.0.1:9/hook?token=t', withStore = true): WebhookRegistration {
    const reg = new WebhookRegistration({
      client: () => client,
      url,
      eventTypes: [2, 1],
      clock,
      store: withStore ? store : undefined,
      onChange: (s) => states.push(s.state),
    });
    running.push(reg);
    reg.start();
    return reg;
  }
  const sets = (): number => states.filter((s) => s === 'registering').length;
  const registered = async (url?: string): Promise<void> => {
    const reg = start(url);
    await settle();
    reg.stop();
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 100 && states.at(-1) !== 'registered'; i++) await new Promise((r) => setTimeout(r, 5));
  };

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({ clock, printers: [{ kind: 'moonraker', name: 'Voron 2.4' }] });
    const keys = sim.createAppConnection(0);
    watchConnectionSecrets(keys);
    appToken = keys.appApiToken;
    client = new OctoEverywhereClient({ url: keys.url, authBearerToken: keys.authBearerToken, appApiToken: keys.appApiToken, serviceUrl: sim.serviceUrl });
    saved = undefined;
    states = [];
  });
  afterEach(async () => {
    for (const reg of running.splice(0)) reg.stop();
    assert.equal(clock.pendingTimers, 0);
    await client.close();
    await sim.close();
    clock.dispose();
  });

  it('after a restart within 30 days it does not register again, and renews when the 30 days are up', async () => {
    await registered();
    assert.equal(sets(), 1);
    assert.ok(saved);
    await clock.advance(10 * DAY);
    states = [];
    start(); // the restart
    await settle();
    assert.equal(sets(), 0, 'the record is fresh: no Set');
    await clock.advance(RENEW_EVERY_MS - 10 * DAY - 1);
    assert.equal(sets(), 0);
    await clock.advance(1);
    await settle();
    assert.equal(sets(), 1, 'renewed 30 days after the last Set');
  });

  it('registers at once when what is registered changed, or when there is no persistent store', async () => {
    await registered();
    states = [];
    await registered('http://127.0.0.1:9/hook?token=other');
    assert.equal(sets(), 1, 'a new URL (e.g. a new token) is registered on start');
    states = [];
    start(undefined, false);
    await settle();
    assert.equal(sets(), 1, 'no store: every start registers (which renews)');
  });

  it('on removal waits for a Set under way, then deletes', async () => {
    const reg = start();
    await reg.remove(client);
    const res = await fetch(`${sim.serviceUrl}/api/appconnection/TestWebhook`, { headers: { apptoken: appToken } });
    assert.equal(res.status, 400, 'nothing registered any more');
  });
});
