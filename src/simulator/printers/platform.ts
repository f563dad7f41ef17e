// What differs between the simulated printer kinds, in one table.
import type { PrinterKind } from '../contract';
import type { WebcamOptions } from './webcam';

/** The command API's `Features` bits (docs/octoeverywhere.md §7). */
export const Feature = {
  Light: 1,
  AxisMove: 2,
  Home: 4,
  Extrude: 8,
  Temperature: 16,
  PrintStart: 32,
} as const;

export interface Platform {
  features: number;
  /** The printer's own software version (Bambu `sw_ver`, CC2 `ota_version`). */
  platformVersion: string;
  /**
   * The command API status's `PlatformVersion`, as the plugin builds it: Bambu `<sw_ver>-<model>`
   * (docs/octoeverywhere.md §7), CC2 `<machine_model>-<ota_version>-<hardware_version>` (plugin `elegoocc2models.py`).
   */
  statusVersion: string;
  /** OctoPrint has no 'cancelled' job state. */
  reportsCancelled: boolean;
  /** OctoPrint reports no SubState and no Lights. */
  reportsSubStateAndLights: boolean;
  hasChamber: boolean;
  lights: string[];
  defaultWebcams: WebcamOptions[];
}

export const PLATFORMS: Record<PrinterKind, Platform> = {
  octoprint: {
    features: Feature.PrintStart,
    platformVersion: '1.11.2',
    statusVersion: '1.11.2',
    reportsCancelled: false,
    reportsSubStateAndLights: false,
    hasChamber: false,
    lights: [],
    defaultWebcams: [{ name: 'Webcam' }],
  },
  moonraker: {
    features: Feature.Light | Feature.AxisMove | Feature.Home | Feature.Extrude | Feature.Temperature | Feature.PrintStart,
    platformVersion: '0.12.0',
    statusVersion: '0.12.0',
    reportsCancelled: true,
    reportsSubStateAndLights: true,
    hasChamber: true,
    lights: ['chamber'],
    defaultWebcams: [{ name: 'Nozzle Cam', flipV: true, rotation: 90 }],
  },
  bambu: {
    features: Feature.Light | Feature.PrintStart,
    platformVersion: '01.08.00.00',
    statusVersion: '01.08.00.00-P1S',
    reportsCancelled: true,
    reportsSubStateAndLights: true,
    hasChamber: true,
    lights: ['chamber_light'],
    defaultWebcams: [{ name: 'Chamber Camera' }],
  },
  'elegoo-cc2': {
    features: Feature.Light | Feature.PrintStart,
    platformVersion: '01.03.02.51',
    statusVersion: 'Centauri Carbon 2-01.03.02.51-V1.0',
    reportsCancelled: true,
    reportsSubStateAndLights: true,
    hasChamber: true,
    lights: ['chamber_light'],
    defaultWebcams: [{ name: 'Chamber Camera' }],
  },
};

/** The OctoEverywhere plugin version every simulated printer reports. */
export const PLUGIN_VERSION = '5.3.1';
