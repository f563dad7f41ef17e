// The Gadget polling rules (docs/octoeverywhere.md §4), in one place: OctoEverywhere asks apps to call the Gadget
// status API at most every 10 s per App Connection, only while a print runs, not at all when idle,
// rarely when Gadget is Disabled, and not again after DisabledForCurrentPrint until the next print.
// Also what counts as a Gadget warning, so the poller's events and the node's status agree.
import type { GadgetStatus } from './app-api';

/** Never two Gadget calls closer than this on one connection. */
export const GADGET_MIN_INTERVAL_MS = 10_000;
/** While Gadget reports Disabled (State 0), ask again only this rarely. */
export const GADGET_DISABLED_INTERVAL_MS = 10 * 60_000;
/** A rating at or below this (1 failure … 10 perfect) is a possible failure worth a warning. */
export const GADGET_WARNING_RATING = 4;

export const GadgetState = {
  Disabled: 0,
  DisabledForCurrentPrint: 1,
  Idle: 2,
  Active: 3,
  PausedDueToFailure: 4,
} as const;

/** The print as the rules need it, from the job status. */
export interface GadgetPrintContext {
  /** A print is running (pauses included). */
  printing: boolean;
  /** The plugin's id of the current print, when it reports one. */
  printId: string | null;
}

/**
 * Decides when the Gadget status may be fetched. One instance per connection; call `due()` with the
 * current print before each poll and `attempted()` as the call goes out (failures count: a failing
 * service is not asked more often).
 */
export class GadgetPollRules {
  private lastCallMs: number | undefined;
  private lastState: number | undefined;
  /** Set after DisabledForCurrentPrint: the print it was said for (null when the plugin gives no id). */
  private skippedPrint: { printId: string | null } | undefined;

  due(nowMs: number, print: GadgetPrintContext): boolean {
    if (!print.printing) {
      // Between prints: the next print starts with Gadget's per-print opt-out gone.
      this.skippedPrint = undefined;
      return false;
    }
    if (this.skippedPrint) {
      const samePrint = this.skippedPrint.printId === null || print.printId === null || this.skippedPrint.printId === print.printId;
      if (samePrint) return false;
      this.skippedPrint = undefined;
    }
    if (this.lastCallMs === undefined) return true;
    const wait = this.lastState === GadgetState.Disabled ? GADGET_DISABLED_INTERVAL_MS : GADGET_MIN_INTERVAL_MS;
    return nowMs - this.lastCallMs >= wait;
  }

  /** A Gadget call is going out now. */
  attempted(nowMs: number): void {
    this.lastCallMs = nowMs;
  }

  /** The answer of that call. */
  answered(status: GadgetStatus, print: GadgetPrintContext): void {
    this.lastState = status.state;
    if (status.state === GadgetState.DisabledForCurrentPrint) this.skippedPrint = { printId: print.printId };
  }
}

/** Gadget is watching and worried: a low rating or a yellow/red colour while Active (or it paused the print). */
export function isGadgetWarning(gadget: GadgetStatus | null): boolean {
  if (!gadget) return false;
  if (gadget.state === GadgetState.PausedDueToFailure) return true;
  if (gadget.state !== GadgetState.Active) return false;
  return (gadget.rating !== null && gadget.rating <= GADGET_WARNING_RATING) || gadget.statusColor === 'y' || gadget.statusColor === 'r';
}
