// Which push channel a printer has, from what the command API's status says of it (docs/octoeverywhere.md
// §7), and the shape of the serial number Bambu Lab and Elegoo CC2 need for their MQTT topics (no API
// returns it: the user types it). One place, used by the live feed and by the connection test.
import { FEATURES } from '../command-api';
import { OctoEverywhereError } from '../errors';
import type { LivePlatform } from './session';

/** Moonraker's status features: the axis/home/extrude/temperature bits only Klipper reports all of. */
const MOONRAKER_ONLY = FEATURES.moveAxis | FEATURES.home | FEATURES.extrude | FEATURES.temperature;

/**
 * Bambu Lab's `PlatformVersion` is `<sw_ver>-<model>` (docs/octoeverywhere.md §7), and its firmware versions are
 * four two-digit groups (`01.08.00.00-P1S`).
 */
const BAMBU_VERSION = /^\d{2}\.\d{2}\.\d{2}\.\d{2}-\S/;
/**
 * The CC2's is built by the plugin from its attributes, `<machine_model>-<ota_version>-<hardware_version>`,
 * and is `Elegoo-CC2` before they are known (plugin `elegoocc2models.py`). The first CC ("Centauri
 * Carbon" without the 2) has no MQTT proxy, so the bare word Centauri is not enough.
 */
const CC2_VERSION = /elegoo[\s_-]*cc2|centauri[\s_-]*carbon[\s_-]*2|(^|[^a-z0-9])cc2([^a-z0-9]|$)/i;

export type PlatformVerdict =
  | { platform: LivePlatform }
  /** `no-push`: no channel the package speaks; `mqtt-unknown`: Bambu Lab or CC2 by its features, but not which. */
  | { platform?: undefined; why: 'no-push' | 'mqtt-unknown' };

/** MQTT platforms need the printer's serial number (their topics are named by it). */
export function needsSerialNumber(platform: LivePlatform): boolean {
  return platform === 'bambu' || platform === 'elegoo-cc2';
}

/**
 * The platform from the command API status. Moonraker alone reports all the motion features;
 * OctoPrint reports neither motion nor lights. A printer with lights and not Moonraker's set is a
 * Bambu Lab (documented Features 33) or an Elegoo CC2 (undocumented; the plugin's source reports
 * lights and some motion, and no print start, which the CC2 lacks): those two differ in their
 * PlatformVersion. Bambu needs the print-start bit as well, so a CC2 whose version lacks its model
 * name is never taken for one (a Bambu subscription on a CC2 would only be silent, but still wrong).
 */
export function livePlatformOf(status: { features: number; platformVersion: string | null }): PlatformVerdict {
  const { features } = status;
  if ((features & MOONRAKER_ONLY) === MOONRAKER_ONLY) return { platform: 'moonraker' };
  if ((features & (MOONRAKER_ONLY | FEATURES.light)) === 0) return { platform: 'octoprint' };
  if ((features & FEATURES.light) === 0) return { why: 'no-push' };
  const version = status.platformVersion?.trim() ?? '';
  if (CC2_VERSION.test(version)) return { platform: 'elegoo-cc2' };
  if (BAMBU_VERSION.test(version) && (features & FEATURES.printStart) !== 0) return { platform: 'bambu' };
  return { why: 'mqtt-unknown' };
}

/**
 * Letters and digits (Bambu's are 15 upper-case ones), `-` and `_`: the serial goes into MQTT topic
 * names, so a `/`, `+` or `#` would subscribe to other topics — on a Bambu printer a wrong
 * subscription drops every client's connection.
 */
const SERIAL_NUMBER = /^[A-Za-z0-9][A-Za-z0-9_-]{3,63}$/;

/** The trimmed serial number, undefined when none is set; OE_SERIAL_NUMBER_INVALID for a wrong shape. */
export function parseSerialNumber(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  // A flow edited by hand may hold a number: its digits are meant.
  const text = (typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '\u0000').trim();
  if (text === '') return undefined;
  if (!SERIAL_NUMBER.test(text)) {
    throw new OctoEverywhereError(
      'OE_SERIAL_NUMBER_INVALID',
      "The printer's serial number must be 4 to 64 letters or digits (a hyphen or underscore may follow the first), with no spaces, slashes, + or #: enter it exactly as the printer shows it.",
      { kind: 'permanent' },
    );
  }
  return text;
}
