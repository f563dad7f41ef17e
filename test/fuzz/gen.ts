// Seeded generators for the fuzz tests: the same seed gives the same cases, so a failure can be
// replayed (the seed is printed with every figure; set OE_FUZZ_SEED to try another one).

export const SEED = Number(process.env.OE_FUZZ_SEED ?? 0x0e10) >>> 0;

/** mulberry32: small, fast, good enough to spread cases over the input space. */
export function prng(seed = SEED): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return new Rng(next);
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\r\n',
  'a\r\nX-Injected: 1',
  '\u0000',
  '..',
  '../..',
  '%2e%2e',
  '%252e%252e',
  '\u2024\u2024',
  '．．',
  '//evil.example',
  'http://evil.example/',
  '\\\\evil',
  '__proto__',
  'constructor',
  'prototype',
  '${7*7}',
  '<script>alert(1)</script>',
  '\ud800',
  '🔥'.repeat(10),
  'null',
  'true',
  '-1',
  '1e309',
  'NaN',
];

export class Rng {
  constructor(readonly next: () => number) {}

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Random characters from the whole BMP, ASCII-weighted, including controls and lone surrogates. */
  string(maxLength = 40): string {
    const n = this.int(0, maxLength);
    let s = '';
    for (let i = 0; i < n; i++) {
      const r = this.next();
      s += String.fromCharCode(r < 0.7 ? this.int(0x20, 0x7e) : r < 0.8 ? this.int(0, 0x1f) : this.int(0x80, 0xffff));
    }
    return s;
  }

  hostileString(): string {
    const r = this.next();
    if (r < 0.4) return this.pick(HOSTILE_STRINGS);
    if (r < 0.5) return 'x'.repeat(this.int(1000, 200_000));
    return this.string();
  }

  number(): number {
    return this.pick([
      0,
      -0,
      -1,
      1,
      0.5,
      1e-9,
      1e9,
      2 ** 31,
      2 ** 53 + 1,
      -1e308,
      Number.MAX_VALUE,
      NaN,
      Infinity,
      -Infinity,
      this.int(-1000, 1000),
      this.next() * 300,
    ]);
  }

  /** Any JSON-ish or not-JSON value, nested up to `depth`, with prototype-pollution keys now and then. */
  value(depth = 2): unknown {
    const r = this.next();
    if (r < 0.15) return this.hostileString();
    if (r < 0.3) return this.number();
    if (r < 0.37) return this.bool();
    if (r < 0.42) return null;
    if (r < 0.45) return undefined;
    if (r < 0.5) return Buffer.from(this.string(64));
    if (r < 0.53) return () => 1;
    if (r < 0.55) return Symbol('s');
    if (r < 0.57) return BigInt(this.int(0, 1000));
    if (depth <= 0) return this.string(8);
    if (r < 0.75) return Array.from({ length: this.int(0, 4) }, () => this.value(depth - 1));
    return this.object(depth - 1);
  }

  object(depth = 1): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (let i = this.int(0, 5); i > 0; i--) {
      const key = this.bool(0.25)
        ? this.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'])
        : this.bool(0.5)
          ? this.hostileString().slice(0, 40)
          : this.string(12);
      // defineProperty: a literal `__proto__` key must be an own property, as JSON.parse would make it.
      Object.defineProperty(o, key, {
        value: key === '__proto__' && this.bool() ? { polluted: 'yes' } : this.value(depth),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
    return o;
  }
}

/** Object.prototype's own keys now: compared before and after a fuzz run to catch prototype pollution. */
export function prototypeKeys(): string {
  return JSON.stringify([Object.getOwnPropertyNames(Object.prototype).sort(), ({} as Record<string, unknown>).polluted]);
}

/** encodeURIComponent, with lone surrogates (which it refuses) replaced by U+FFFD first. */
export function safeEncode(s: string): string {
  return encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}

/** JSON text for any generated value (BigInt as a string; what JSON cannot hold becomes null). */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? 'null';
}
