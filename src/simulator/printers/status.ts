// The command API's `status` result (docs/octoeverywhere.md §7), built from the print simulation.
import type { JobState } from '../contract';
import type { PrinterContext } from './context';
import type { GadgetPluginStatus } from './gadget';
import type { WebcamSettings } from './webcam';

export interface CurrentPrintWire {
  Progress: number;
  DurationSec: number;
  TimeLeftSec: number;
  FileName: string;
  EstTotalFilUsedMm: number;
  EstTotalFilWeightMg: number;
  CurrentLayer: number;
  TotalLayers: number;
  Temps: {
    BedActual: number;
    BedTarget: number;
    HotendActual: number;
    HotendTarget: number;
    ChamberActual: number | null;
    ChamberTarget: number | null;
  };
}

export interface StatusWire {
  JobStatus: {
    State: JobState;
    SubState?: string | null;
    Error: string | null;
    Lights?: Array<{ Name: string; On: boolean }>;
    CurrentPrint: CurrentPrintWire | null;
  };
  OctoEverywhereStatus: { MostRecentPrintIdStr: string; PrintStartTimeSec: number; Gadget: GadgetPluginStatus } | null;
  PlatformVersion: string;
  Features: number;
  ListWebcams: { DefaultIndex: number; Webcams: WebcamSettings[] };
  MaterialSystem?: unknown;
}

const SUBSTATES: Partial<Record<JobState, string>> = { warmingup: 'Heating', resuming: 'Heating' };

export function buildStatus(ctx: PrinterContext, includeMaterialSystem: boolean): StatusWire {
  const { sim, platform, clock } = ctx;
  const job = sim.job;
  const { bed, hotend, chamber } = sim.heaters;
  // An idle printer shows no print (OctoPrint returns to idle after a cancel, too).
  const currentPrint: CurrentPrintWire | null =
    job && sim.state !== 'idle'
      ? {
          Progress: sim.progress,
          DurationSec: sim.durationSec,
          TimeLeftSec: sim.timeLeftSec,
          FileName: job.fileName,
          EstTotalFilUsedMm: sim.estFilamentMm,
          EstTotalFilWeightMg: sim.estFilamentMg,
          CurrentLayer: sim.currentLayer,
          TotalLayers: job.totalLayers,
          Temps: {
            BedActual: bed.actual,
            BedTarget: bed.target,
            HotendActual: hotend.actual,
            HotendTarget: hotend.target,
            ChamberActual: sim.hasChamber ? chamber.actual : null,
            ChamberTarget: sim.hasChamber ? chamber.target : null,
          },
        }
      : null;
  const status: StatusWire = {
    JobStatus: {
      State: sim.state,
      ...(platform.reportsSubStateAndLights ? { SubState: SUBSTATES[sim.state] ?? null } : {}),
      Error: sim.error,
      ...(platform.reportsSubStateAndLights ? { Lights: sim.lights.map((l) => ({ ...l })) } : {}),
      CurrentPrint: currentPrint,
    },
    OctoEverywhereStatus: job
      ? {
          MostRecentPrintIdStr: job.printId,
          PrintStartTimeSec: Math.floor(job.startMs / 1000),
          Gadget: sim.gadget.pluginStatus(clock.now()),
        }
      : null,
    PlatformVersion: platform.statusVersion,
    Features: platform.features,
    ListWebcams: { DefaultIndex: 0, Webcams: ctx.webcams.map((w) => w.settings) },
  };
  if (includeMaterialSystem) status.MaterialSystem = materialSystem(ctx);
  return status;
}

/** Only the Bambu kind has a material system (an AMS); its shape is not documented. */
function materialSystem(ctx: PrinterContext): unknown {
  if (ctx.kind !== 'bambu') return null;
  return {
    Units: [
      {
        Index: 0,
        Trays: [
          { Index: 0, Type: 'PLA', Color: 'FF8000', RemainingPercent: 80 },
          { Index: 1, Type: 'PETG', Color: '202020', RemainingPercent: 35 },
        ],
      },
    ],
  };
}
