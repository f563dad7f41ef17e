// Just enough typing for the two benchmark-only packages that ship none.
declare module 'autocannon' {
  interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    duration?: number;
    overallRate?: number;
    pipelining?: number;
  }
  interface Histogram {
    p50: number;
    p99: number;
    average: number;
  }
  interface Result {
    requests: Histogram & { total: number };
    latency: Histogram;
    non2xx: number;
    errors: number;
    timeouts: number;
  }
  function autocannon(options: Options, callback: (err: Error | null, result: Result) => void): unknown;
  export = autocannon;
}

declare module 'mjpeg-consumer' {
  import { Transform, type TransformOptions } from 'node:stream';
  class MjpegConsumer extends Transform {
    constructor(options?: TransformOptions);
  }
  export = MjpegConsumer;
}
