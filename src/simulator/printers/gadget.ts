// The simulated Gadget (OctoEverywhere's AI failure detection): its State, Rating and the words
// and colour the App API shows for a rating (docs/octoeverywhere.md §4), plus the plugin-side score history the
// command API's OctoEverywhereStatus.Gadget reports.
import type { GadgetWire } from '../contract';

export type GadgetSetting = 'enabled' | 'disabled' | 'disabledForCurrentPrint';

/** Rating → Status text and colour, from the documented rating bands. */
const RATING_BANDS: ReadonlyArray<{ max: number; status: string; color: GadgetWire['StatusColor'] }> = [
  { max: 1, status: 'Failure Detected', color: 'r' },
  { max: 2, status: 'Probable Failure', color: 'r' },
  { max: 3, status: 'Possible Failure', color: 'y' },
  { max: 5, status: 'Monitoring Possible Failure', color: 'y' },
  { max: 7, status: 'Looking Good', color: 'g' },
  { max: 9, status: 'Looking Great', color: 'g' },
  { max: 10, status: 'Perfect', color: 'g' },
];

/** Ratings the scripted outcomes move to. */
export const GADGET_RATING = { good: 8, warn: 3, pause: 1 } as const;
const HISTORY_LENGTH = 10;
export const GADGET_INTERVAL_SEC = 40;

export interface GadgetPluginStatus {
  LastScore: number | null;
  ScoreHistory: number[];
  TimeSinceLastScoreSec: number | null;
  IntervalSec: number;
  IsSuppressed: boolean;
  TimeSinceLastWarnSec: number | null;
  TimeSinceLastPauseSec: number | null;
}

export class GadgetModel {
  setting: GadgetSetting = 'enabled';
  rating: number = GADGET_RATING.good;
  /** Set while the print is paused because Gadget found a failure. */
  pausedForFailure = false;
  private history: number[] = [];
  private lastScoreMs: number | undefined;
  private lastWarnMs: number | undefined;
  private lastPauseMs: number | undefined;

  /** A new print: per-print opt-outs and the failure pause end, the score starts fresh. */
  onPrintStart(): void {
    if (this.setting === 'disabledForCurrentPrint') this.setting = 'enabled';
    this.pausedForFailure = false;
    this.rating = GADGET_RATING.good;
    this.history = [];
    this.lastScoreMs = this.lastWarnMs = this.lastPauseMs = undefined;
  }

  /** Whether Gadget watches the print now (so scores may raise warnings or pauses). */
  watching(printing: boolean): boolean {
    return printing && this.setting === 'enabled';
  }

  score(rating: number, nowMs: number): void {
    this.rating = Math.min(10, Math.max(1, Math.round(rating)));
    this.history = [...this.history, this.rating].slice(-HISTORY_LENGTH);
    this.lastScoreMs = nowMs;
  }

  markWarned(nowMs: number): void {
    this.lastWarnMs = nowMs;
  }

  markPaused(nowMs: number): void {
    this.lastPauseMs = nowMs;
    this.pausedForFailure = true;
  }

  /** The App API's view; `printActive` is true from print start until it ends (paused included). */
  wire(printActive: boolean): GadgetWire {
    if (this.setting === 'disabled') return { State: 0, Status: 'Disabled', StatusColor: 'w', Rating: this.rating };
    if (printActive && this.setting === 'disabledForCurrentPrint') {
      return { State: 1, Status: 'Disabled For This Print', StatusColor: 'w', Rating: this.rating };
    }
    if (!printActive) return { State: 2, Status: 'Not Printing', StatusColor: 'w', Rating: this.rating };
    const band = RATING_BANDS.find((b) => this.rating <= b.max) ?? RATING_BANDS[RATING_BANDS.length - 1];
    return { State: this.pausedForFailure ? 4 : 3, Status: band.status, StatusColor: band.color, Rating: this.rating };
  }

  pluginStatus(nowMs: number): GadgetPluginStatus {
    const since = (ms: number | undefined): number | null => (ms === undefined ? null : (nowMs - ms) / 1000);
    return {
      LastScore: this.lastScoreMs === undefined ? null : this.rating,
      ScoreHistory: [...this.history],
      TimeSinceLastScoreSec: since(this.lastScoreMs),
      IntervalSec: GADGET_INTERVAL_SEC,
      IsSuppressed: this.setting !== 'enabled',
      TimeSinceLastWarnSec: since(this.lastWarnMs),
      TimeSinceLastPauseSec: since(this.lastPauseMs),
    };
  }
}
