// The simulator as the node tests use it: config-node credentials for its connections (every secret
// in them watched), and a simulator on a manual clock that the nodes loaded afterwards share.
import {
  type AppConnectionOptions,
  type CompletionKeys,
  createClock,
  type ManagedClock,
  type SharedConnectionValues,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import type { AppConnectionCredentials } from '../../src/nodes/shared/types';
import { helper } from './nodes';
import { watchSecret } from './secrets';

/**
 * The config node's credentials (the editor's names) from an App Connection's completion keys
 * (production's lowercase spelling) or a Shared Connection's values, with every secret watched.
 */
export function credentialsOf(keys: CompletionKeys | SharedConnectionValues): AppConnectionCredentials {
  watchConnectionSecrets(keys);
  return mapKeys(keys);
}

/** Watches every secret of a connection (for tests that hand the keys on themselves), Basic also in the base64 form it travels in. */
export function watchConnectionSecrets(keys: CompletionKeys | SharedConnectionValues): void {
  const creds = mapKeys(keys);
  for (const value of [creds.authBasicHttpPassword, creds.authBearerToken, creds.appApiToken, creds.octoPrintApiKey]) watchSecret(value);
  if (creds.authBasicHttpUser && creds.authBasicHttpPassword) {
    watchSecret(Buffer.from(`${creds.authBasicHttpUser}:${creds.authBasicHttpPassword}`).toString('base64'));
  }
}

function mapKeys(keys: CompletionKeys | SharedConnectionValues): AppConnectionCredentials {
  return 'authbasichttpuser' in keys
    ? {
        url: keys.url,
        authBasicHttpUser: keys.authbasichttpuser,
        authBasicHttpPassword: keys.authbasichttppassword,
        authBearerToken: keys.authBearerToken,
        appApiToken: keys.appApiToken,
        octoPrintApiKey: keys.octoPrintApiKey,
      }
    : { url: keys.url, authBasicHttpUser: keys.authBasicHttpUser, authBasicHttpPassword: keys.authBasicHttpPassword, authBearerToken: keys.authBearerToken };
}

/** Credentials of a new App Connection to printer `printer` (index). */
export function appConnectionCredentials(sim: Simulator, printer = 0, options?: AppConnectionOptions): AppConnectionCredentials {
  return credentialsOf(sim.createAppConnection(printer, options));
}

/** Credentials of printer `printer`'s Shared Connection (no App API token). */
export function sharedConnectionCredentials(sim: Simulator, printer = 0): AppConnectionCredentials {
  return credentialsOf(sim.sharedConnection(printer));
}

export interface ClockedSimulator {
  clock: ManagedClock;
  sim: Simulator;
  printer: SimulatedPrinter;
  close(): Promise<void>;
}

/**
 * A simulator with one Klipper printer ('Voron 2.4'), or the `printers` given, on a manual clock,
 * which the nodes loaded from now on use too (settings `octoeverywhereClock`, with any other
 * `settings`); close() restores the default settings. `printer` is the first printer.
 */
export async function startClockedSimulator(
  printers: SimulatorOptions['printers'] = [{ kind: 'moonraker', name: 'Voron 2.4' }],
  settings: Record<string, unknown> = {},
): Promise<ClockedSimulator> {
  const clock = createClock({ mode: 'manual' });
  const sim = await startSimulator({ clock, printers });
  helper.settings({ ...settings, octoeverywhereClock: clock } as Parameters<typeof helper.settings>[0]);
  return {
    clock,
    sim,
    printer: sim.printers[0] as SimulatedPrinter,
    async close() {
      helper.settings({});
      await sim.close();
      clock.dispose();
    },
  };
}

/**
 * Moves simulated time in 1 s steps and lets `settle` finish the work each step started (polls are
 * real HTTP; only time is simulated) before time moves on; stops early once `until()`.
 */
export async function advanceInSteps(clock: ManagedClock, ms: number, settle: () => Promise<void>, until?: () => boolean): Promise<void> {
  for (let done = 0; done < ms; done += 1000) {
    await clock.advance(Math.min(1000, ms - done));
    await settle();
    if (until?.()) return;
  }
}
