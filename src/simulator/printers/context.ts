// Everything one simulated printer's request handlers share.
import type { PrinterKind, SimClock } from '../contract';
import type { FileStore } from './files';
import type { Platform } from './platform';
import type { PrintSimulation } from './print-simulation';
import type { SimWebcam } from './webcam';

export interface PrinterContext {
  readonly kind: PrinterKind;
  readonly name: string;
  readonly printerId: string;
  readonly clock: SimClock;
  readonly platform: Platform;
  readonly sim: PrintSimulation;
  readonly webcams: readonly SimWebcam[];
  readonly files: FileStore;
  /** Keys the native API accepts (OctoPrint always has one; Moonraker only if configured). */
  readonly apiKeys: Set<string>;
  /** Whether the plugin reaches the printer host; false → command API 785. */
  hostConnected: boolean;
  /** Enders of open webcam streams, run on close(). */
  readonly streams: Set<() => void>;
  /** Simulated ms that pass during `ms` real-world ms (webcam pace, stream timeouts, pushes). */
  realMs(ms: number): number;
}
