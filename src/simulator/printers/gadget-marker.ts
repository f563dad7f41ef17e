// The simulated print's Gadget truth, carried inside the simulator's own webcam frames: a JPEG
// comment segment (COM, 0xFFFE) right after SOI reading `OE-SIM-GADGET rating=<1..10>`. The
// simulated Failure Detection API reads it, so a test can script "good for a while, then spaghetti"
// with scriptGadget(); a JPEG from anywhere else has no such comment and scores as looking good.

const TOKEN = 'OE-SIM-GADGET rating=';
const SOI = 0xd8;
const SOS = 0xda;
const COM = 0xfe;

/** `jpeg` with the rating comment inserted after its SOI marker. */
export function markJpeg(jpeg: Buffer, rating: number): Buffer {
  const text = Buffer.from(`${TOKEN}${Math.round(rating)}`, 'ascii');
  const segment = Buffer.alloc(4 + text.length);
  segment[0] = 0xff;
  segment[1] = COM;
  segment.writeUInt16BE(text.length + 2, 2);
  text.copy(segment, 4);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

/** The rating a marked frame carries, or undefined (not marked, or not a JPEG). Stops at the image data. */
export function readMark(jpeg: Buffer): number | undefined {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) return undefined;
  let pos = 2;
  while (pos + 4 <= jpeg.length && jpeg[pos] === 0xff) {
    const marker = jpeg[pos + 1];
    if (marker === SOS) return undefined;
    const length = jpeg.readUInt16BE(pos + 2);
    if (length < 2) return undefined;
    if (marker === COM) {
      const text = jpeg.subarray(pos + 4, pos + 2 + length).toString('ascii');
      if (text.startsWith(TOKEN)) {
        const rating = Number(text.slice(TOKEN.length));
        if (Number.isInteger(rating) && rating >= 1 && rating <= 10) return rating;
      }
    }
    pos += 2 + length;
  }
  return undefined;
}
