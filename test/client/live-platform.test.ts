// Which push channel a printer has, from the command API status alone (docs/octoeverywhere.md §7):
// Features tell Moonraker and OctoPrint; Bambu Lab and the Elegoo CC2 differ in PlatformVersion, and
// when it does not settle it nothing is guessed. And the serial number's shape, since it names topics.
import assert from 'node:assert/strict';
import { livePlatformOf, parseSerialNumber } from '../../src/client';

const of = (features: number, platformVersion: string | null): string => {
  const verdict = livePlatformOf({ features, platformVersion });
  return verdict.platform ?? verdict.why;
};

describe('client live: the platform from the status, and the serial number', () => {
  it('Moonraker and OctoPrint by their Features, whatever the version says', () => {
    assert.equal(of(63, '0.12.0'), 'moonraker');
    assert.equal(of(30, null), 'moonraker');
    assert.equal(of(32, '1.11.2'), 'octoprint');
    assert.equal(of(0, 'Elegoo-CC2'), 'octoprint', 'no lights, no motion');
    assert.equal(of(16 | 32, null), 'no-push', 'motion bits without lights: not one the package speaks');
  });

  it('Bambu Lab: lights, print start and a `<sw_ver>-<model>` version (the shape docs/octoeverywhere.md §7 gives)', () => {
    for (const version of ['01.08.00.00-P1S', '01.09.01.00-X1C', '01.04.00.00-A1 mini', ' 00.00.35.11-H2D ']) assert.equal(of(33, version), 'bambu', version);
    // The plugin's answer before it knows the printer's version, or no model: not guessed.
    assert.equal(of(33, '0.0.0'), 'mqtt-unknown');
    assert.equal(of(33, '01.08.00.00'), 'mqtt-unknown');
    assert.equal(of(33, null), 'mqtt-unknown');
    // Without the print-start bit (the CC2 has none) a Bambu-looking version is not enough.
    assert.equal(of(1, '01.08.00.00-P1S'), 'mqtt-unknown');
  });

  it("Elegoo CC2: the plugin's `Elegoo-CC2` or `<machine_model>-<ota>-<hw>` naming the CC2, with the plugin's or the simulator's Features", () => {
    for (const [features, version] of [
      [23, 'Elegoo-CC2'],
      [23, 'Centauri Carbon 2-01.03.02.51-V1.0'],
      [33, 'Centauri Carbon 2-01.03.02.51-V1.0'],
      [1, 'ELEGOO CC2-01.00.00.10'],
    ] as const)
      assert.equal(of(features, version), 'elegoo-cc2', version);
    // The first Centauri Carbon has no MQTT proxy; a CC2 version without its model is Bambu-shaped but has no print start.
    assert.equal(of(23, 'Centauri Carbon-01.01.00-V1'), 'mqtt-unknown');
    assert.equal(of(23, '01.03.02.51-V1.0'), 'mqtt-unknown');
    assert.equal(of(23, 'CC20-1.0'), 'mqtt-unknown', 'cc2 only as a word of its own');
  });

  it('serial numbers: trimmed, empty is none, and nothing that could name another topic', () => {
    assert.equal(parseSerialNumber('  01P00A123456789 '), '01P00A123456789');
    assert.equal(parseSerialNumber('E2CC00000000001'), 'E2CC00000000001');
    assert.equal(parseSerialNumber('ab_12-cd'), 'ab_12-cd');
    for (const none of [undefined, null, '', '   ']) assert.equal(parseSerialNumber(none), undefined);
    for (const bad of ['01P00A/1', '+', '01P00A#', 'a b c d', 'abc', '-01P00A', 'x'.repeat(65), true, {}]) {
      assert.throws(
        () => parseSerialNumber(bad),
        (err: Error & { code?: string }) => err.code === 'OE_SERIAL_NUMBER_INVALID' && /exactly as the printer shows it/.test(err.message),
        String(bad),
      );
    }
  });
});
