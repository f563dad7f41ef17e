// A simulated webcam: real JPEG frames (jpeg-js) showing a frame counter and the print progress,
// so a person can see the picture move. The frame number follows the clock; a frame is encoded at
// most once, however many snapshots and streams ask for it, because the relay benchmarks fetch
// thousands of snapshots per second.
import { encode } from 'jpeg-js';
import type { SimClock } from '../contract';
import { markJpeg } from './gadget-marker';

export interface WebcamOptions {
  name?: string;
  flipH?: boolean;
  flipV?: boolean;
  rotation?: 0 | 90 | 180 | 270;
  enabled?: boolean;
  width?: number;
  height?: number;
  /** JPEG quality 1–100. Default 70. */
  quality?: number;
  /** Amplitude of the fixed per-pixel noise; noise is what makes a JPEG big. Default 3. */
  noise?: number;
}

/** A 1280x720 noisy high-quality camera whose frames are ~200 KB (for transfer benchmarks). */
export const LARGE_FRAME_WEBCAM: WebcamOptions = { name: 'Benchmark Cam', width: 1280, height: 720, quality: 90, noise: 7 };

/** The webcam's entry in the command API's ListWebcams / webcam/list (wire names). */
export interface WebcamSettings {
  Name: string;
  FlipH: boolean;
  FlipV: boolean;
  Rotation: number;
  Enabled: boolean;
}

/** 3x5 block digits, one row per string of '#' (on) and '.' (off). */
const DIGITS: readonly string[][] = [
  ['###', '#.#', '#.#', '#.#', '###'],
  ['.#.', '##.', '.#.', '.#.', '###'],
  ['###', '..#', '###', '#..', '###'],
  ['###', '..#', '###', '..#', '###'],
  ['#.#', '#.#', '###', '..#', '..#'],
  ['###', '#..', '###', '..#', '###'],
  ['###', '#..', '###', '#.#', '###'],
  ['###', '..#', '..#', '..#', '..#'],
  ['###', '#.#', '###', '#.#', '###'],
  ['###', '#.#', '###', '..#', '###'],
];

type Rgb = readonly [number, number, number];
const WHITE: Rgb = [255, 255, 255];
const ORANGE: Rgb = [255, 140, 0];
const GREY: Rgb = [70, 70, 70];

export class SimWebcam {
  readonly width: number;
  readonly height: number;
  private readonly quality: number;
  private readonly background: Buffer;
  private readonly canvas: Buffer;
  private epochMs: number;
  private frozenAt: number | undefined;
  private cache: { key: string; jpeg: Buffer } | undefined;

  constructor(
    private readonly options: WebcamOptions,
    private readonly clock: SimClock,
    /** Simulated ms per frame. */
    readonly frameIntervalMs: number,
    private readonly progress: () => number,
    /** The print's Gadget rating (1 failure … 10 perfect), marked in every frame for the simulated Failure Detection API. */
    private readonly gadgetRating?: () => number,
  ) {
    this.width = Math.max(16, Math.round(options.width ?? 640));
    this.height = Math.max(16, Math.round(options.height ?? 480));
    this.quality = Math.min(100, Math.max(1, options.quality ?? 70));
    this.background = paintBackground(this.width, this.height, options.noise ?? 3);
    this.canvas = Buffer.alloc(this.background.length);
    this.epochMs = clock.now();
  }

  get settings(): WebcamSettings {
    return {
      Name: this.options.name ?? 'Webcam',
      FlipH: this.options.flipH ?? false,
      FlipV: this.options.flipV ?? false,
      Rotation: this.options.rotation ?? 0,
      Enabled: this.options.enabled ?? true,
    };
  }

  /** The `x-oe-webcam-transform` header value: `none`, or e.g. `fliph rotate=90`. */
  get transform(): string {
    const s = this.settings;
    const parts = [s.FlipH ? 'fliph' : '', s.FlipV ? 'flipv' : '', s.Rotation ? `rotate=${s.Rotation}` : ''].filter(Boolean);
    return parts.length ? parts.join(' ') : 'none';
  }

  /** The frame number now; it stops moving while the camera is frozen. */
  frameNo(): number {
    const at = this.frozenAt ?? this.clock.now();
    return Math.max(0, Math.floor((at - this.epochMs) / this.frameIntervalMs));
  }

  /** A frozen camera delivers no new frames (streams end after their no-frame timeout). */
  freeze(frozen: boolean): void {
    if (frozen && this.frozenAt === undefined) this.frozenAt = this.clock.now();
    if (!frozen && this.frozenAt !== undefined) {
      // Resume counting from where the picture stopped, not from where the clock is.
      this.epochMs += this.clock.now() - this.frozenAt;
      this.frozenAt = undefined;
    }
  }

  get frozen(): boolean {
    return this.frozenAt !== undefined;
  }

  /** The current frame as JPEG, encoded once per distinct picture. */
  jpeg(): Buffer {
    const frame = this.frameNo();
    const percent = Math.floor(this.progress());
    const rating = this.gadgetRating?.();
    const key = `${frame}:${percent}:${rating ?? ''}`;
    if (this.cache?.key !== key) {
      const jpeg = this.render(frame, percent);
      this.cache = { key, jpeg: rating === undefined ? jpeg : markJpeg(jpeg, rating) };
    }
    return this.cache.jpeg;
  }

  private render(frame: number, percent: number): Buffer {
    const { width: w, height: h, canvas } = this;
    this.background.copy(canvas);
    const cell = Math.max(2, Math.floor(h / 40));
    drawNumber(canvas, w, frame, cell, cell, cell, WHITE);
    // Progress: the percentage above a bar along the bottom edge.
    const barHeight = cell * 2;
    const barTop = h - cell - barHeight;
    drawNumber(canvas, w, percent, cell, barTop - cell * 6, cell, ORANGE);
    fillRect(canvas, w, cell, barTop, w - 2 * cell, barHeight, GREY);
    fillRect(canvas, w, cell, barTop, Math.round(((w - 2 * cell) * percent) / 100), barHeight, ORANGE);
    return encode({ data: canvas, width: w, height: h }, this.quality).data;
  }
}

function paintBackground(w: number, h: number, noise: number): Buffer {
  const data = Buffer.alloc(w * h * 4);
  // A fixed-seed LCG: the same camera always looks (and compresses) the same.
  let seed = 0x2545f491;
  const amplitude = Math.max(0, Math.round(noise));
  const jitter = (): number => {
    if (amplitude === 0) return 0;
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return ((seed >>> 16) % (2 * amplitude + 1)) - amplitude;
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const n = jitter();
      data[i] = clampByte(30 + (x * 60) / w + n);
      data[i + 1] = clampByte(40 + (y * 70) / h + n);
      data[i + 2] = clampByte(70 + n);
      data[i + 3] = 255;
    }
  }
  return data;
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function fillRect(data: Buffer, w: number, x0: number, y0: number, rw: number, rh: number, rgb: Rgb): void {
  const h = data.length / 4 / w;
  for (let y = Math.max(0, y0); y < Math.min(h, y0 + rh); y++) {
    for (let x = Math.max(0, x0); x < Math.min(w, x0 + rw); x++) {
      const i = (y * w + x) * 4;
      data[i] = rgb[0];
      data[i + 1] = rgb[1];
      data[i + 2] = rgb[2];
    }
  }
}

function drawNumber(data: Buffer, w: number, value: number, x: number, y: number, cell: number, rgb: Rgb): void {
  for (const ch of String(value)) {
    const glyph = DIGITS[Number(ch)];
    glyph.forEach((row, gy) => {
      for (let gx = 0; gx < row.length; gx++) {
        if (row[gx] === '#') fillRect(data, w, x + gx * cell, y + gy * cell, cell, cell, rgb);
      }
    });
    x += cell * 4;
  }
}
