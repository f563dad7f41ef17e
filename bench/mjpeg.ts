// 3. MJPEG frames: our parser (src/client/mjpeg.ts) against mjpeg-consumer on the same recorded
// stream, piped from memory in socket-sized chunks, for both boundary styles.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import MjpegConsumer from 'mjpeg-consumer';
import { countCopies } from './lib/copies';
import { fmt, goal, ratio, type Figure, type Row, type Section } from './lib/report';
import { SimProcess } from './lib/sim';
import { median, ROUNDS } from './lib/stats';

const FRAMES = 60;
const SOCKET_CHUNK = 64 * 1024;
/** Each round gives every parser this long, one after the other, so that load on the machine hits both alike. */
const PASS_MS = 1000;
const OUR_PARSER = path.resolve(__dirname, '..', 'src', 'client', 'mjpeg.ts');

interface Style {
  name: string;
  path: string;
  boundary: string;
}

const STYLES: Style[] = [
  { name: 'oestreamboundary (command API)', path: '/octoeverywhere-command-api/webcam/stream', boundary: 'oestreamboundary' },
  { name: 'boundarydonotcross (mjpg-streamer)', path: '/webcam/?action=stream', boundary: 'boundarydonotcross' },
];

interface Recording {
  part: Buffer;
  jpeg: Buffer;
}

/** The first part of the printer's stream exactly as the simulator writes it (headers, JPEG, CRLF). */
function recordPart(url: string): Promise<Recording> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let got = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        const headEnd = got.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const length = Number(/content-length:\s*(\d+)/i.exec(got.toString('latin1', 0, headEnd))?.[1]);
        const end = headEnd + 4 + length + 2;
        if (got.length < end) return;
        req.destroy();
        resolve({ part: Buffer.from(got.subarray(0, end)), jpeg: Buffer.from(got.subarray(headEnd + 4, headEnd + 4 + length)) });
      });
      res.on('error', () => undefined);
    });
    req.on('error', (err) => reject(err));
  });
}

/** The recorded stream cut as a socket would deliver it: `size`-byte chunks, or one chunk per part. */
function chunksOf(part: Buffer, size: number | 'part'): Buffer[] {
  if (size === 'part') return Array.from({ length: FRAMES }, () => Buffer.from(part));
  const stream = Buffer.concat(Array.from({ length: FRAMES }, () => part));
  const chunks: Buffer[] = [];
  // Each chunk in its own memory, as socket reads are.
  for (let at = 0; at < stream.length; at += size) chunks.push(Buffer.from(stream.subarray(at, at + size)));
  return chunks;
}

type Parser = { name: string; make: (boundary: string) => Transform; frameOf: (out: unknown) => Buffer };

function parsers(): { list: Parser[]; oursMissing?: string } {
  const consumer: Parser = { name: 'mjpeg-consumer', make: () => new MjpegConsumer(), frameOf: (out) => out as Buffer };
  if (!fs.existsSync(OUR_PARSER)) return { list: [consumer], oursMissing: 'not available yet (src/client/mjpeg.ts has not landed)' };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled parser, loaded as the package would be
  const { MjpegStream } = require(OUR_PARSER) as { MjpegStream: new (o: { boundary: string }) => Transform };
  const ours: Parser = { name: 'ours (MjpegStream)', make: (boundary) => new MjpegStream({ boundary }), frameOf: (out) => (out as { data: Buffer }).data };
  return { list: [ours, consumer] };
}

/** One pass over the stream; returns the frames (and checks them when asked). */
async function pass(parser: Parser, style: Style, chunks: Buffer[], jpeg: Buffer, check: boolean): Promise<{ frames: number; sameMemory: number }> {
  let frames = 0;
  let sameMemory = 0;
  const sources = new Set(chunks.map((c) => c.buffer));
  await pipeline(
    Readable.from(chunks, { objectMode: false }),
    parser.make(style.boundary),
    new Writable({
      objectMode: true,
      write(out: unknown, _enc, done) {
        const frame = parser.frameOf(out);
        frames++;
        if (sources.has(frame.buffer as ArrayBuffer)) sameMemory++;
        if (check && !frame.equals(jpeg))
          return done(new Error(`${parser.name}: frame ${frames} differs from the JPEG sent (${frame.length} vs ${jpeg.length} bytes)`));
        done();
      },
    }),
  );
  if (check && frames !== FRAMES) throw new Error(`${parser.name}: ${frames} frames out of the ${FRAMES} sent`);
  return { frames, sameMemory };
}

/** Back-to-back passes for PASS_MS: frames/s and input MB/s. */
async function timed(parser: Parser, style: Style, chunks: Buffer[], jpeg: Buffer, bytes: number): Promise<{ fps: number; mbps: number }> {
  let frames = 0;
  let passes = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < PASS_MS) {
    frames += (await pass(parser, style, chunks, jpeg, false)).frames;
    passes++;
  }
  const s = (performance.now() - t0) / 1000;
  return { fps: frames / s, mbps: (passes * bytes) / s / 1e6 };
}

export async function run(): Promise<Section> {
  const sim = await SimProcess.start();
  const recordings = new Map<Style, Recording>();
  try {
    for (const style of STYLES) recordings.set(style, await recordPart(`${sim.info.printers[0].url}${style.path}`));
  } finally {
    await sim.close();
  }
  const { list, oursMissing } = parsers();
  const rows: Row[] = [];
  const fps = new Map<string, number>();
  const notes: string[] = [];
  /** Frames that arrived in one chunk but were not handed out as a view of it. */
  let oursWholeInChunk: number | null = null;

  for (const style of STYLES) {
    const rec = recordings.get(style) as Recording;
    for (const chunking of [SOCKET_CHUNK, 'part'] as const) {
      const chunks = chunksOf(rec.part, chunking);
      const bytes = chunks.reduce((s, c) => s + c.length, 0);
      const label = `${style.name}, ${chunking === 'part' ? 'one chunk per part' : '64 KiB chunks'}`;
      if (oursMissing) rows.push({ peer: `ours, ${label}`, figures: { 'frames/s': null, 'MB/s': null, 'copies/frame': null }, note: oursMissing });
      const ready: Array<{ parser: Parser; frames: number; sameMemory: number; copiedBytes: number; allocatedBytes: number }> = [];
      for (const parser of list) {
        try {
          const checked = await pass(parser, style, chunks, rec.jpeg, true);
          const { tally } = await countCopies(() => pass(parser, style, chunks, rec.jpeg, false));
          ready.push({ parser, ...checked, copiedBytes: tally.copiedBytes, allocatedBytes: tally.allocatedBytes });
        } catch (err) {
          rows.push({
            peer: `${parser.name}, ${label}`,
            figures: { 'frames/s': null, 'MB/s': null, 'copies/frame': null },
            note: `wrong output: ${(err as Error).message}`,
          });
        }
      }
      for (const { parser } of ready) await timed(parser, style, chunks, rec.jpeg, bytes); // warm-up
      const rounds = new Map<Parser, Array<{ fps: number; mbps: number }>>(ready.map((r) => [r.parser, []]));
      for (let r = 0; r < ROUNDS; r++) {
        for (const { parser } of ready) rounds.get(parser)?.push(await timed(parser, style, chunks, rec.jpeg, bytes));
      }
      for (const { parser, frames, sameMemory, copiedBytes, allocatedBytes } of ready) {
        const measured = rounds.get(parser) ?? [];
        const f = median(measured.map((m) => m.fps));
        fps.set(`${parser.name}|${style.name}|${String(chunking)}`, f);
        if (parser.name.startsWith('ours') && chunking === 'part') oursWholeInChunk = (oursWholeInChunk ?? 0) + (frames - sameMemory);
        rows.push({
          peer: `${parser.name}, ${label}`,
          figures: {
            'frames/s': f,
            'MB/s': median(measured.map((m) => m.mbps)),
            'copies/frame': copiedBytes / frames / rec.jpeg.length,
            'copied B/frame': copiedBytes / frames,
            'allocated B/frame': allocatedBytes / frames,
            'frames in chunk memory': sameMemory / frames,
          },
        });
      }
    }
  }

  const ratios: Record<string, Figure> = {};
  for (const style of STYLES) {
    for (const chunking of [SOCKET_CHUNK, 'part']) {
      const key = `${style.name}, ${chunking === 'part' ? 'part chunks' : '64 KiB'}: ours / mjpeg-consumer`;
      ratios[key] = ratio(
        fps.get(`ours (MjpegStream)|${style.name}|${String(chunking)}`) ?? null,
        fps.get(`mjpeg-consumer|${style.name}|${String(chunking)}`) ?? null,
      );
    }
  }
  const socketRatios = STYLES.map((s) => ratios[`${s.name}, 64 KiB: ours / mjpeg-consumer`]);
  const worst = socketRatios.some((r) => r === null) ? null : Math.min(...(socketRatios as number[]));
  notes.push(
    `Stream: the simulator's first ${(recordings.get(STYLES[0]) as Recording).jpeg.length}-byte (LARGE_FRAME_WEBCAM) part of each style, recorded over HTTP, repeated ${FRAMES} times; ` +
      'each chunk in its own memory. Every frame was compared byte for byte with the JPEG sent before timing.',
    'copies/frame = bytes copied through Buffer.concat / buf.copy / Buffer.from(bytes) per frame ÷ JPEG size (lib/copies.ts); ' +
      '"frames in chunk memory" = share of frames whose bytes are a view of an input chunk (1 = all). Parsers take turns within each round.',
  );
  return {
    id: 'mjpeg',
    title: '3. MJPEG parsing: ~200 KB frames from memory',
    rows,
    ratios,
    goals: [
      goal(
        'frames/s ≥ 2× mjpeg-consumer (64 KiB chunks, both boundary styles)',
        worst,
        (v) => v >= 2,
        (v) => `lowest ${fmt(v)}×`,
      ),
      goal(
        'no copy of a frame that arrived in one chunk',
        oursWholeInChunk,
        (v) => v === 0,
        (v) => (v === 0 ? 'every such frame is a view of its chunk' : `${v} frames copied`),
      ),
    ],
    notes,
  };
}
