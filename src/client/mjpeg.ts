// MJPEG (multipart/x-mixed-replace) parsing for webcam streams: the plugin's `oestreamboundary` parts
// and mjpg-streamer's `boundarydonotcross` ones (docs/octoeverywhere.md §7). Parts are cut by their Content-Length;
// a part without one is cut at the next boundary. A frame that arrived in one chunk is returned as a
// view into that chunk; only a frame spread over several chunks is copied, once, into its own buffer.
import { Transform, type TransformCallback } from 'node:stream';
import { OctoEverywhereError } from './errors';
import { positiveOr } from './values';

/** Larger parts are refused rather than buffered: no webcam frame comes near it. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Bound on one boundary or header line, and on the header lines of one part. */
const MAX_LINE_BYTES = 8 * 1024;
const MAX_HEADER_LINES = 64;

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const NEWLINE_DASHES = Buffer.from('\n--', 'latin1');

export interface MjpegFrame {
  /** The JPEG bytes. A view into a received chunk when the frame arrived whole: do not modify chunks after pushing them. */
  data: Buffer;
  /** The part's headers, names lower-cased (content-type, content-length, x-timestamp …). */
  headers: Record<string, string>;
}

export interface MjpegParserOptions {
  /** The boundary from the response's Content-Type (see `boundaryOf`); learnt from the first `--` line when absent. */
  boundary?: string;
  /** Default 16 MiB. */
  maxFrameBytes?: number;
}

export type FrameHandler = (frame: MjpegFrame) => void;

const enum Phase {
  /** Looking for `--boundary` (skipping the CRLF after a part, a preamble, or junk). */
  Boundary,
  /** The rest of the boundary line: `\r\n`, or `--\r\n` on the closing boundary. */
  BoundaryLine,
  Headers,
  /** A body of known length (Content-Length). */
  Body,
  /** A body without Content-Length: it ends where the next boundary starts. */
  BodyScan,
  /** After the closing boundary: the epilogue is ignored. */
  Done,
}

/** Incremental MJPEG parser: push chunks as they arrive, frames come out through the handler. */
export class MjpegParser {
  readonly #maxFrameBytes: number;
  /** `--boundary`; undefined until learnt when the Content-Type named none. */
  #marker: Buffer | undefined;
  #phase = Phase.Boundary;
  #atStart = true;
  /** Unconsumed bytes of a boundary or header line that a chunk ended in (small, bounded). */
  #carry: Buffer | undefined;
  /** Where a head step that needs more bytes wants to resume (index into the buffer it scanned). */
  #keepFrom = 0;
  #headers: Record<string, string> = {};
  #headerLines = 0;
  #contentLength = -1;
  /** Body with Content-Length spread over chunks: its buffer and how much of it is filled. */
  #frame: Buffer | undefined;
  #filled = 0;
  /** Body without Content-Length: the pieces seen so far (views into chunks). */
  #pieces: Buffer[] = [];
  #piecesLength = 0;

  constructor(options: MjpegParserOptions = {}) {
    this.#maxFrameBytes = positiveOr(options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
    const boundary = options.boundary?.trim().replace(/^--/, '');
    if (boundary) this.#marker = Buffer.from(`--${boundary}`, 'latin1');
  }

  /** The boundary in use (given, or learnt from the stream). */
  get boundary(): string | undefined {
    return this.#marker?.toString('latin1', 2);
  }

  /** True while part of a frame is held: the stream ending now would lose it. */
  get inFrame(): boolean {
    return this.#phase === Phase.Body || this.#phase === Phase.BodyScan;
  }

  /** Whether the closing boundary was seen. */
  get done(): boolean {
    return this.#phase === Phase.Done;
  }

  /**
   * Parses one chunk, calling `onFrame` for every frame it completes. Throws an OctoEverywhereError
   * (OE_MJPEG_FRAME_TOO_LARGE, OE_MJPEG_INVALID) on a part that cannot be a webcam frame; the parser
   * is unusable afterwards.
   */
  push(chunk: Buffer, onFrame: FrameHandler): void {
    let pos = 0;
    if (this.#carry) {
      pos = this.#resumeHead(chunk);
      if (pos < 0) return;
    }
    while (pos < chunk.length) {
      switch (this.#phase) {
        case Phase.Body:
          pos = this.#body(chunk, pos, onFrame);
          break;
        case Phase.BodyScan:
          pos = this.#scan(chunk, pos, onFrame);
          break;
        case Phase.Done:
          return;
        default: {
          const next = this.#headStep(chunk, pos);
          if (next < 0) {
            this.#keep(chunk, this.#keepFrom);
            return;
          }
          pos = next;
        }
      }
    }
  }

  /**
   * A chunk after one that ended inside a boundary or header line: finish that line on a small
   * joined buffer (the carry plus a bounded prefix of the chunk) and continue in the chunk itself.
   * Returns the position in `chunk` to continue from, or -1 when the chunk is used up.
   */
  #resumeHead(chunk: Buffer): number {
    const carry = this.#carry as Buffer;
    this.#carry = undefined;
    // Only as much of the chunk as can finish the step: the rest of a boundary, or of the line.
    const lf = this.#phase === Phase.Boundary ? -1 : chunk.indexOf(LF);
    const window = Math.min(
      chunk.length,
      lf >= 0 && lf < MAX_LINE_BYTES ? lf + 1 : this.#phase === Phase.Boundary ? (this.#marker ?? NEWLINE_DASHES).length : MAX_LINE_BYTES + 1,
    );
    const joined = Buffer.concat([carry, chunk.subarray(0, window)]);
    const next = this.#headStep(joined, 0);
    if (next >= carry.length) return next - carry.length;
    // Only a header-less part whose JPEG starts inside the carry stops short of it: those bytes are body.
    if (next >= 0) {
      this.#addPiece(carry.subarray(next));
      return 0;
    }
    if (window === chunk.length) {
      this.#keep(joined, this.#keepFrom);
      return -1;
    }
    // The chunk goes on past the window. A boundary cannot start in the carry and end beyond the
    // window, so scanning goes on in the chunk; a line that long is not MJPEG.
    if (this.#phase === Phase.Boundary) return 0;
    throw invalid('a boundary or header line is too long');
  }

  /** Keeps `buffer[from…]` (a partial line or the tail a boundary may start in) as a copy. */
  #keep(buffer: Buffer, from: number): void {
    if (buffer.length - from > MAX_LINE_BYTES) throw invalid('a boundary or header line is too long');
    this.#carry = from < buffer.length ? Buffer.from(buffer.subarray(from)) : undefined;
  }

  /** One step of the boundary and header phases; returns the new position, or -1 (then #keepFrom) for more bytes. */
  #headStep(b: Buffer, p: number): number {
    switch (this.#phase) {
      case Phase.Boundary:
        return this.#findBoundary(b, p);
      case Phase.BoundaryLine:
      case Phase.Headers: {
        const lf = b.indexOf(LF, p);
        if (lf < 0) {
          if (this.#phase === Phase.Headers && b.length - p >= 2 && b[p] === 0xff && b[p + 1] === 0xd8) return this.#startBody(p, true);
          this.#keepFrom = p;
          return -1;
        }
        const end = lf > p && b[lf - 1] === CR ? lf - 1 : lf;
        if (this.#phase === Phase.BoundaryLine) this.#boundaryLine(b, p, end);
        else if (end === p) return this.#startBody(lf + 1, false);
        // A part with no header block at all: the JPEG starts right after the boundary line.
        else if (b[p] === 0xff && b[p + 1] === 0xd8) return this.#startBody(p, true);
        else this.#headerLine(b.toString('latin1', p, end));
        return lf + 1;
      }
      default:
        return p;
    }
  }

  #findBoundary(b: Buffer, p: number): number {
    const marker = this.#marker;
    if (marker) {
      const at = b.indexOf(marker, p);
      if (at < 0) {
        this.#keepFrom = b.length - partialMatch(b, Math.max(p, b.length - (marker.length - 1)), marker);
        return -1;
      }
      this.#phase = Phase.BoundaryLine;
      return at + marker.length;
    }
    // No boundary named: the first line that starts with `--` names it.
    if (this.#atStart) {
      if (b.length - p < 2) {
        this.#keepFrom = p;
        return -1;
      }
      this.#atStart = false;
      if (b[p] === DASH && b[p + 1] === DASH) {
        this.#phase = Phase.BoundaryLine;
        return p + 2;
      }
    }
    const at = b.indexOf(NEWLINE_DASHES, p);
    if (at < 0) {
      this.#keepFrom = Math.max(p, b.length - (NEWLINE_DASHES.length - 1));
      return -1;
    }
    this.#phase = Phase.BoundaryLine;
    return at + NEWLINE_DASHES.length;
  }

  /** `start…end` is what follows `--boundary` on its line (or the whole boundary while it is being learnt). */
  #boundaryLine(b: Buffer, start: number, end: number): void {
    if (!this.#marker) {
      const boundary = b.toString('latin1', start, end).trim();
      if (boundary === '') throw invalid('the stream has no multipart boundary');
      this.#marker = Buffer.from(`--${boundary}`, 'latin1');
    } else if (end - start >= 2 && b[start] === DASH && b[start + 1] === DASH) {
      this.#phase = Phase.Done;
      return;
    }
    this.#phase = Phase.Headers;
    this.#headers = {};
    this.#headerLines = 0;
    this.#contentLength = -1;
  }

  #headerLine(line: string): void {
    if (++this.#headerLines > MAX_HEADER_LINES) throw invalid('a part has too many header lines');
    const colon = line.indexOf(':');
    if (colon <= 0) return; // not a header: tolerated, as browsers do
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    this.#headers[name] = value;
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) throw invalid('a part has an invalid Content-Length');
      this.#contentLength = Number(value);
      if (this.#contentLength > this.#maxFrameBytes) throw tooLarge(this.#maxFrameBytes);
    }
  }

  /** The header block ended at `p`; `scan` when the body's length is unknown whatever the headers said. */
  #startBody(p: number, scan: boolean): number {
    this.#frame = undefined;
    this.#filled = 0;
    this.#phase = !scan && this.#contentLength >= 0 ? Phase.Body : Phase.BodyScan;
    if (this.#phase === Phase.Body && this.#contentLength === 0) this.#phase = Phase.Boundary;
    return p;
  }

  #body(b: Buffer, p: number, onFrame: FrameHandler): number {
    const size = this.#contentLength;
    const available = b.length - p;
    let frame = this.#frame;
    if (!frame) {
      if (available >= size) {
        this.#phase = Phase.Boundary;
        onFrame({ data: b.subarray(p, p + size), headers: this.#headers });
        return p + size;
      }
      frame = this.#frame = Buffer.allocUnsafe(size);
      this.#filled = 0;
    }
    const n = Math.min(available, size - this.#filled);
    b.copy(frame, this.#filled, p, p + n);
    this.#filled += n;
    if (this.#filled === size) {
      this.#frame = undefined;
      this.#phase = Phase.Boundary;
      onFrame({ data: frame, headers: this.#headers });
    }
    return p + n;
  }

  #scan(b: Buffer, p: number, onFrame: FrameHandler): number {
    const marker = this.#marker as Buffer;
    if (p === 0 && this.#piecesLength > 0) {
      // The boundary may have started at the end of the previous chunk(s).
      const tail = this.#tail(marker.length - 1);
      const joined = Buffer.concat([tail, b.subarray(0, Math.min(b.length, marker.length - 1))]);
      const at = joined.indexOf(marker);
      if (at >= 0 && at < tail.length) {
        const inTail = tail.length - at;
        this.#endScan(this.#piecesLength - inTail, onFrame);
        return marker.length - inTail;
      }
    }
    const at = b.indexOf(marker, p);
    if (at >= 0) {
      this.#addPiece(b.subarray(p, at));
      this.#endScan(this.#piecesLength, onFrame);
      return at + marker.length;
    }
    this.#addPiece(b.subarray(p));
    return b.length;
  }

  #addPiece(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#piecesLength += piece.length;
    // The boundary and its CRLF may still be counted in here, hence the small allowance.
    if (this.#piecesLength > this.#maxFrameBytes + (this.#marker?.length ?? 0) + 2) throw tooLarge(this.#maxFrameBytes);
    this.#pieces.push(piece);
  }

  /** The last `n` bytes of the pieces (fewer if there are fewer). */
  #tail(n: number): Buffer {
    const pieces = this.#pieces;
    const last = pieces[pieces.length - 1];
    if (last.length >= n) return last.subarray(last.length - n);
    const parts: Buffer[] = [];
    let need = Math.min(n, this.#piecesLength);
    for (let i = pieces.length - 1; i >= 0 && need > 0; i--) {
      const piece = pieces[i];
      const take = Math.min(need, piece.length);
      parts.unshift(piece.subarray(piece.length - take));
      need -= take;
    }
    return Buffer.concat(parts);
  }

  /** The scanned body is the first `length` bytes of the pieces, less the line break before the boundary. */
  #endScan(length: number, onFrame: FrameHandler): void {
    const pieces = this.#pieces;
    let data: Buffer;
    if (pieces.length === 1 || (pieces.length > 0 && pieces[0].length >= length)) data = pieces[0].subarray(0, length);
    else {
      data = Buffer.allocUnsafe(length);
      let filled = 0;
      for (const piece of pieces) {
        if (filled >= length) break;
        filled += piece.copy(data, filled, 0, Math.min(piece.length, length - filled));
      }
    }
    this.#pieces = [];
    this.#piecesLength = 0;
    this.#phase = Phase.BoundaryLine;
    let end = data.length;
    if (end > 0 && data[end - 1] === LF) end--;
    if (end > 0 && data[end - 1] === CR) end--;
    if (end > this.#maxFrameBytes) throw tooLarge(this.#maxFrameBytes);
    if (end > 0) onFrame({ data: end === data.length ? data : data.subarray(0, end), headers: this.#headers });
  }
}

/** The length of the longest end of `b` (from `from` on) that `marker` starts with: what a boundary split by a chunk edge left. */
function partialMatch(b: Buffer, from: number, marker: Buffer): number {
  for (let start = from; start < b.length; start++) {
    const n = b.length - start;
    if (b[start] === marker[0] && b.compare(marker, 0, n, start) === 0) return n;
  }
  return 0;
}

/** The frames of an MJPEG byte stream (an HTTP response body), as an async iterator. */
export async function* mjpegFrames(source: AsyncIterable<Buffer | Uint8Array>, options: MjpegParserOptions = {}): AsyncGenerator<MjpegFrame> {
  const parser = new MjpegParser(options);
  let frames: MjpegFrame[] = [];
  const collect: FrameHandler = (frame) => {
    frames.push(frame);
  };
  for await (const chunk of source) {
    parser.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), collect);
    if (frames.length === 0) continue;
    const ready = frames;
    frames = [];
    yield* ready;
  }
}

/** The parser as a Transform: bytes in, MjpegFrame objects out. */
export class MjpegStream extends Transform {
  readonly parser: MjpegParser;
  readonly #emit: FrameHandler = (frame) => {
    this.push(frame);
  };

  constructor(options: MjpegParserOptions = {}) {
    super({ readableObjectMode: true });
    this.parser = new MjpegParser(options);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.parser.push(chunk, this.#emit);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }
}

function invalid(what: string): OctoEverywhereError {
  return new OctoEverywhereError('OE_MJPEG_INVALID', `The webcam stream is not valid MJPEG: ${what}.`, { kind: 'permanent' });
}

function tooLarge(max: number): OctoEverywhereError {
  return new OctoEverywhereError(
    'OE_MJPEG_FRAME_TOO_LARGE',
    `A webcam stream frame is larger than ${Math.round(max / 1024 / 1024)} MiB; the stream was stopped instead of buffering it.`,
    { kind: 'permanent' },
  );
}
