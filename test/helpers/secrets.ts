// Sentinel credentials and a watch over everything the test run prints: any test that hands a secret
// to a node or client registers it here, and the suite fails if one ever shows up in the output.
import assert from 'node:assert/strict';

export const SECRETS = {
  authBasicHttpUser: 'sentinel-user-Q7wq',
  authBasicHttpPassword: 'sentinel-pass-Z9xK4mLr2v',
  authBearerToken: 'sentinel-bearer-H3k8Rr2Tt6Yy1Uu5',
  appApiToken: 'sentinel-apptoken-Zt4mQ9rL2vX8nP5',
  octoPrintApiKey: 'sentinel-octokey-0A1B2C3D4E5F',
  /** The Gadget Failure Detection API's developer key (octoeverywhere-gadget-api). */
  gadgetApiKey: 'sentinel-gadget-apikey-Kx7Qp2Lm9Vw4',
} as const;

const watched = new Set<string>(Object.values(SECRETS));
// Basic auth travels base64-encoded: watch that form too.
watched.add(Buffer.from(`${SECRETS.authBasicHttpUser}:${SECRETS.authBasicHttpPassword}`).toString('base64'));

let printed = '';
let installed = false;

/** Adds a secret (e.g. one the simulator generated) to the watch. Short values are ignored: they would match by chance. */
export function watchSecret(value: string | undefined): void {
  if (value && value.length >= 8) watched.add(value);
}

export function installSecretWatch(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (chunk: unknown, ...rest: unknown[]): boolean => {
      if (printed.length < 64 * 1024 * 1024) printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      return original(chunk, ...rest);
    };
  }
}

/** The secrets found in `text` (for tests that check a single error, status or answer). */
export function secretsIn(text: string): string[] {
  return [...watched].filter((s) => text.includes(s));
}

export function assertNoWatchedSecretPrinted(): void {
  const hits = secretsIn(printed);
  assert.equal(hits.length, 0, `the test run printed ${hits.length} credential value(s)`);
}
