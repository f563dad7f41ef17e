import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { MjpegParser, MjpegStream, mjpegFrames, type MjpegFrame, type OctoEverywhereError } from '../../src/client';

/** A small seeded PRNG (mulberry32): the same seed gives the same chunking on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JPEG-looking bytes: SOI, random content, EOI. */
function jpeg(size: number, random: () => number): Buffer {
  const b = Buffer.alloc(Math.max(4, size));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(random() * 256);
  b[0] = 0xff;
  b[1] = 0xd8;
  b[b.length - 2] = 0xff;
  b[b.length - 1] = 0xd9;
  return b;
}

/** The plugin's parts (docs/octoeverywhere.md §7). */
function oePart(frame: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`--oestreamboundary\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.length}\r\n\r\n`), frame, Buffer.from('\r\n')]);
}

/** mjpg-streamer's parts: the delimiter line leads with CRLF, except (optionally) on the first part. */
function streamerPart(frame: Buffer, first: boolean, withLength = true): Buffer {
  const lead = first ? '' : '\r\n';
  const length = withLength ? `Content-Length: ${frame.length}\r\n` : '';
  return Buffer.concat([Buffer.from(`${lead}--boundarydonotcross\r\nContent-Type: image/jpeg\r\n${length}X-Timestamp: 1712.123456\r\n\r\n`), frame]);
}

function split(data: Buffer, random: () => number, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length;) {
    const size = 1 + Math.floor(random() * maxChunk);
    // Each chunk in its own memory, as sockets deliver them.
    chunks.push(Buffer.from(data.subarray(i, i + size)));
    i += size;
  }
  return chunks;
}

function parseAll(chunks: Buffer[], boundary?: string): { frames: MjpegFrame[]; parser: MjpegParser } {
  const parser = new MjpegParser({ boundary });
  const frames: MjpegFrame[] = [];
  for (const chunk of chunks) parser.push(chunk, (f) => frames.push(f));
  return { frames, parser };
}

function assertFrames(got: MjpegFrame[], want: Buffer[], context: string): void {
  assert.equal(got.length, want.length, `${context}: frame count`);
  got.forEach((f, i) => assert.ok(f.data.equals(want[i]), `${context}: frame ${i} differs (${f.data.length} vs ${want[i].length} bytes)`));
}

describe('client: MJPEG parser', () => {
  it('parses the plugin format by Content-Length, with part headers', () => {
    const random = prng(1);
    const frames = [jpeg(1000, random), jpeg(20, random), jpeg(5000, random)];
    const { frames: got } = parseAll([Buffer.concat(frames.map(oePart))], 'oestreamboundary');
    assertFrames(got, frames, 'one chunk');
    assert.deepEqual(got[1].headers, { 'content-type': 'image/jpeg', 'content-length': '20' });
  });

  it('parses mjpg-streamer parts, with or without the CRLF before the first boundary, X-Timestamp kept', () => {
    const random = prng(2);
    const frames = [jpeg(700, random), jpeg(900, random), jpeg(300, random)];
    for (const firstHasCrlf of [false, true]) {
      const data = Buffer.concat(frames.map((f, i) => streamerPart(f, i === 0 && !firstHasCrlf)));
      const { frames: got } = parseAll([data], 'boundarydonotcross');
      assertFrames(got, frames, `first CRLF ${firstHasCrlf}`);
      assert.equal(got[0].headers['x-timestamp'], '1712.123456');
    }
  });

  it('returns a view into the chunk for a frame that arrived whole, and one copy for a frame that did not', () => {
    const random = prng(3);
    const frame = jpeg(4096, random);
    const whole = oePart(frame);
    const { frames: viewed } = parseAll([whole], 'oestreamboundary');
    assert.equal(viewed[0].data.buffer, whole.buffer, "the frame shares the chunk's memory");

    const [a, b] = [whole.subarray(0, 2000), whole.subarray(2000)].map((x) => Buffer.from(x));
    const { frames: copied } = parseAll([a, b], 'oestreamboundary');
    assert.ok(copied[0].data.equals(frame));
    assert.notEqual(copied[0].data.buffer, a.buffer);
    assert.notEqual(copied[0].data.buffer, b.buffer);
  });

  it('cuts a part without Content-Length at the next boundary', () => {
    const random = prng(4);
    const frames = [jpeg(800, random), jpeg(50, random), jpeg(1200, random)];
    const data = Buffer.concat([...frames.map((f, i) => streamerPart(f, i === 0, false)), Buffer.from('\r\n--boundarydonotcross\r\n')]);
    const { frames: got } = parseAll([data], 'boundarydonotcross');
    assertFrames(got, frames, 'boundary scan');
  });

  it('keeps boundary-like bytes inside a frame when the part has a Content-Length', () => {
    const frame = Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.from('\r\n--oestreamboundary\r\nContent-Length: 3\r\n\r\n'), Buffer.from([0xff, 0xd9])]);
    const { frames: got } = parseAll([Buffer.concat([oePart(frame), oePart(frame)])], 'oestreamboundary');
    assertFrames(got, [frame, frame], 'embedded boundary');
  });

  it('survives random chunking of every format (seeded fuzz)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = prng(seed);
      const count = 1 + Math.floor(random() * 6);
      const frames = Array.from({ length: count }, () => jpeg(4 + Math.floor(random() * 3000), random));
      const format = seed % 4;
      let data: Buffer;
      let boundary: string | undefined;
      if (format === 0) {
        data = Buffer.concat(frames.map(oePart));
        boundary = 'oestreamboundary';
      } else if (format === 1) {
        data = Buffer.concat(frames.map((f, i) => streamerPart(f, i === 0)));
        boundary = 'boundarydonotcross';
      } else if (format === 2) {
        // No Content-Length: the boundary scan, ended by a final delimiter.
        data = Buffer.concat([...frames.map((f, i) => streamerPart(f, i === 0, false)), Buffer.from('\r\n--boundarydonotcross\r\n')]);
        boundary = 'boundarydonotcross';
      } else {
        // The boundary is not named: it is learnt from the first line.
        data = Buffer.concat(frames.map(oePart));
      }
      // Tiny chunks split every line and boundary; large ones keep frames whole.
      const maxChunk = [1, 3, 17, 200, 5000][seed % 5];
      const { frames: got } = parseAll(split(data, random, maxChunk), boundary);
      assertFrames(got, frames, `seed ${seed}, format ${format}, chunks ≤ ${maxChunk}`);
    }
  });

  it('learns the boundary from the stream when the Content-Type names none', () => {
    const random = prng(5);
    const frames = [jpeg(100, random), jpeg(100, random)];
    const { frames: got, parser } = parseAll([Buffer.concat([Buffer.from('\r\n'), ...frames.map((f, i) => streamerPart(f, i === 0))])]);
    assertFrames(got, frames, 'learnt');
    assert.equal(parser.boundary, 'boundarydonotcross');
  });

  it('accepts a part with no header block: the JPEG right after the boundary line', () => {
    const random = prng(6);
    const frames = [jpeg(300, random), jpeg(300, random)];
    const data = Buffer.concat([...frames.map((f) => Buffer.concat([Buffer.from('--b\r\n'), f, Buffer.from('\r\n')])), Buffer.from('--b--\r\n')]);
    for (const maxChunk of [1, 2, 7, 1000]) {
      const { frames: got, parser } = parseAll(split(data, prng(maxChunk), maxChunk), 'b');
      assertFrames(got, frames, `chunks ≤ ${maxChunk}`);
      assert.equal(parser.done, true, 'the closing boundary ends the stream');
    }
  });

  it('refuses a part over the frame size limit before buffering it', () => {
    const parser = new MjpegParser({ boundary: 'oestreamboundary' });
    assert.throws(
      () => parser.push(Buffer.from(`--oestreamboundary\r\nContent-Type: image/jpeg\r\nContent-Length: ${17 * 1024 * 1024}\r\n\r\n`), () => undefined),
      (e: OctoEverywhereError) => e.code === 'OE_MJPEG_FRAME_TOO_LARGE',
    );
    const scan = new MjpegParser({ boundary: 'b', maxFrameBytes: 1000 });
    scan.push(Buffer.from('--b\r\nContent-Type: image/jpeg\r\n\r\n'), () => undefined);
    assert.throws(
      () => {
        for (let i = 0; i < 20; i++) scan.push(Buffer.alloc(100, 1), () => undefined);
      },
      (e: OctoEverywhereError) => e.code === 'OE_MJPEG_FRAME_TOO_LARGE',
    );
  });

  it('refuses garbage: a bad Content-Length, an endless header line', () => {
    assert.throws(
      () => new MjpegParser({ boundary: 'b' }).push(Buffer.from('--b\r\nContent-Length: 12x\r\n\r\n'), () => undefined),
      (e: OctoEverywhereError) => e.code === 'OE_MJPEG_INVALID',
    );
    const endless = new MjpegParser({ boundary: 'b' });
    endless.push(Buffer.from('--b\r\nX-Junk: '), () => undefined);
    assert.throws(
      () => {
        for (let i = 0; i < 10; i++) endless.push(Buffer.alloc(1024, 0x41), () => undefined);
      },
      (e: OctoEverywhereError) => e.code === 'OE_MJPEG_INVALID',
    );
  });

  it('skips junk before a boundary with bounded memory', () => {
    const random = prng(7);
    const frame = jpeg(100, random);
    const parser = new MjpegParser({ boundary: 'oestreamboundary' });
    const got: MjpegFrame[] = [];
    for (let i = 0; i < 100; i++) parser.push(Buffer.alloc(10_000, 0x20), (f) => got.push(f));
    parser.push(oePart(frame), (f) => got.push(f));
    assertFrames(got, [frame], 'after junk');
  });

  it('says when the stream ended inside a frame', () => {
    const random = prng(8);
    const part = oePart(jpeg(500, random));
    const { frames, parser } = parseAll([part.subarray(0, 300)], 'oestreamboundary');
    assert.equal(frames.length, 0);
    assert.equal(parser.inFrame, true);
  });

  it('iterates the frames of a Readable (async iterator) and pipes as a Transform', async () => {
    const random = prng(9);
    const frames = [jpeg(2000, random), jpeg(3000, random), jpeg(10, random)];
    const chunks = split(Buffer.concat(frames.map(oePart)), random, 700);
    const iterated: Buffer[] = [];
    for await (const f of mjpegFrames(Readable.from(chunks), { boundary: 'oestreamboundary' })) iterated.push(f.data);
    assertFrames(
      iterated.map((data) => ({ data, headers: {} })),
      frames,
      'iterator',
    );

    const piped: Buffer[] = [];
    await pipeline(
      Readable.from(chunks),
      new MjpegStream({ boundary: 'oestreamboundary' }),
      new Writable({
        objectMode: true,
        write(f: MjpegFrame, _e, cb) {
          piped.push(f.data);
          cb();
        },
      }),
    );
    assertFrames(
      piped.map((data) => ({ data, headers: {} })),
      frames,
      'transform',
    );
  });

  it('fails the Transform with the parser error', async () => {
    await assert.rejects(
      pipeline(
        Readable.from([Buffer.from('--b\r\nContent-Length: nope\r\n\r\n')]),
        new MjpegStream({ boundary: 'b' }),
        new Writable({ objectMode: true, write: (_f, _e, cb) => cb() }),
      ),
      (e: OctoEverywhereError) => e.code === 'OE_MJPEG_INVALID',
    );
  });
});
