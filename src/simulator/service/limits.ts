// Per-account limits (docs/octoeverywhere.md §3, Info API `PrinterLimits`) and the webcam back-to-back counter (609).
import type { SimClock } from '../contract';

/** `PrinterLimits` exactly as the Info API sends it. */
export interface PrinterLimitsWire {
  MaxDownloadFileSizeBytes: number;
  MaxUploadFileSizeBytes: number;
  MaxSingleWebcamStreamLengthSeconds: number;
  MaxTotalWebcamStreamTimePerTimeWindowSeconds: number | null;
  WebcamStreamTimeWindow: number | null;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: PrinterLimitsWire = {
  MaxDownloadFileSizeBytes: 100 * MiB,
  MaxUploadFileSizeBytes: 100 * MiB,
  MaxSingleWebcamStreamLengthSeconds: 120,
  MaxTotalWebcamStreamTimePerTimeWindowSeconds: null,
  WebcamStreamTimeWindow: null,
};

/**
 * How many webcam views (snapshot or stream requests) one printer may serve per window before the
 * relay answers 609. Production's exact rule is not public; this is the simulator's stand-in.
 */
export interface WebcamViewLimit {
  maxViews: number;
  windowSec: number;
}

export const DEFAULT_WEBCAM_VIEW_LIMIT: WebcamViewLimit = { maxViews: 120, windowSec: 60 };

/** A sliding window of view times per printer, on the simulated clock. */
export class WebcamViewCounter {
  private readonly views = new Map<string, number[]>();

  constructor(
    private readonly clock: SimClock,
    public limit: WebcamViewLimit,
  ) {}

  /** Records a view and says whether it is allowed (false → 609). Refused views are not counted. */
  tryView(printerId: string): boolean {
    const now = this.clock.now();
    const since = now - this.limit.windowSec * 1000;
    const times = (this.views.get(printerId) ?? []).filter((t) => t > since);
    const allowed = times.length < this.limit.maxViews;
    if (allowed) times.push(now);
    this.views.set(printerId, times);
    return allowed;
  }
}

/** Webcam requests the relay counts for 609: mjpg-streamer style `/webcam…` paths and the command API's. */
export function isWebcamView(lowerPath: string): boolean {
  return (
    lowerPath.startsWith('/webcam') ||
    lowerPath.startsWith('/octoeverywhere-command-api/webcam/snapshot') ||
    lowerPath.startsWith('/octoeverywhere-command-api/webcam/stream')
  );
}
