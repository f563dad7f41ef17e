// The live connection on the real clock (production's timers, MQTT.js's keepalive on them): a socket
// opens, delivers the printer's status and closes cleanly, leaving no timer behind.
import assert from 'node:assert/strict';
import { AppConnection, LiveConnection, realClock } from '../../src/client';
import { createClock, type ManagedClock, type Simulator, startSimulator } from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import { watchConnectionSecrets } from '../helpers/simulator';
import { until } from './live-helpers';

describe('client live: on the real clock', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  beforeEach(async () => {
    clock = createClock({ mode: 'real' });
    sim = await startSimulator({
      clock,
      printers: [
        { kind: 'moonraker', name: 'Voron' },
        { kind: 'bambu', name: 'P1S' },
      ],
    });
  });
  afterEach(async () => {
    await sim.close();
    clock.dispose();
  });

  for (const [index, platform] of [
    [0, 'moonraker'],
    [1, 'bambu'],
  ] as const) {
    it(`${platform}: status arrives, stop leaves nothing behind`, async () => {
      const keys = sim.createAppConnection(index);
      watchConnectionSecrets(keys);
      const connection = new AppConnection({ url: keys.url, authBearerToken: keys.authBearerToken });
      const printer = sim.printers[index] as SimulatedPrinter;
      const live = new LiveConnection({ connection, platform, clock: realClock, serialNumber: printer.serialNumber, heartbeatMs: 1_000 });
      let snapshots = 0;
      live.on('snapshot', () => snapshots++);
      try {
        live.start();
        await until(() => snapshots > 0 && live.state.status === 'connected', 'a live status');
        assert.equal(live.pendingTimers, 1, 'the heartbeat');
      } finally {
        live.stop();
        await connection.close();
      }
      assert.equal(live.pendingTimers, 0);
      await until(() => sim.socketChaos.openSockets === 0, 'the socket to close');
    });
  }
});
