// Counts the bytes that JavaScript copies through Buffer's public APIs while a function runs.
// Socket data lands in buffers Node allocates natively, which are not counted; every later copy
// of it in JS goes through one of these (Buffer.concat, buf.copy, Buffer.from(bytes), the
// allocators a hand-rolled accumulator uses). Nested calls count once (concat allocates and
// copies internally). Calls of TypedArray.prototype.set are only counted (`setCalls`): Node's own
// Buffer code uses a captured original, so only user-land calls would show there.
export interface CopyTally {
  /** Bytes written by a copy (concat, copy, from). */
  copiedBytes: number;
  /** Bytes of fresh buffers not made by a counted copy (alloc*, e.g. an accumulator to copy into). */
  allocatedBytes: number;
  copies: number;
  setCalls: number;
}

type Fn = (...args: never[]) => unknown;

export async function countCopies<T>(fn: () => Promise<T>): Promise<{ result: T; tally: CopyTally }> {
  const tally: CopyTally = { copiedBytes: 0, allocatedBytes: 0, copies: 0, setCalls: 0 };
  let depth = 0;
  const restore: Array<() => void> = [];
  const patch = (owner: object, name: string, count: (result: unknown, args: unknown[]) => void): void => {
    const target = owner as Record<string, Fn>;
    const original = target[name];
    target[name] = function patched(this: unknown, ...args: unknown[]): unknown {
      depth++;
      try {
        const result = (original as (...a: unknown[]) => unknown).apply(this, args);
        if (depth === 1) count(result, args);
        return result;
      } finally {
        depth--;
      }
    } as Fn;
    restore.push(() => {
      target[name] = original;
    });
  };
  const len = (v: unknown): number => (v instanceof Uint8Array ? v.byteLength : 0);
  const copied = (bytes: number): void => {
    if (bytes > 0) {
      tally.copiedBytes += bytes;
      tally.copies++;
    }
  };
  patch(Buffer, 'concat', (r) => copied(len(r)));
  patch(Buffer, 'from', (r, args) => {
    // Buffer.from(arrayBuffer[, offset, length]) is a view, not a copy.
    if (!(args[0] instanceof ArrayBuffer) && !(typeof SharedArrayBuffer !== 'undefined' && args[0] instanceof SharedArrayBuffer)) copied(len(r));
  });
  patch(Buffer.prototype, 'copy', (r) => copied(typeof r === 'number' ? r : 0));
  for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow']) {
    patch(Buffer, name, (r) => {
      tally.allocatedBytes += len(r);
    });
  }
  const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
  patch(TypedArrayProto, 'set', () => {
    tally.setCalls++;
  });
  try {
    const result = await fn();
    return { result, tally };
  } finally {
    for (const undo of restore.reverse()) undo();
  }
}
