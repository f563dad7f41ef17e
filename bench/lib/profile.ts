// BENCH_PROFILE=<dir>: a CPU profile of the measured rounds only (not start-up, code loading or the
// warm-up), one file per party, so that a profile shows the steady state. Profiling costs CPU: the
// figures of such a run are not the ones to quote.
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const DIR = process.env.BENCH_PROFILE;
/** Sampling interval of the profiles, µs (V8's default is 1,000). */
const INTERVAL_US = 250;

function post<T = unknown>(session: inspector.Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T))));
}

/** Runs `fn`; with BENCH_PROFILE set, writes its CPU profile to `<dir>/<label>.cpuprofile`. */
export async function profiled<T>(label: string, fn: () => Promise<T>): Promise<T> {
  if (!DIR) return fn();
  const session = new inspector.Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: INTERVAL_US });
  await post(session, 'Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await post<{ profile: object }>(session, 'Profiler.stop');
    fs.mkdirSync(DIR, { recursive: true });
    const file = path.join(path.resolve(DIR), `${label.replace(/[^\w.-]+/g, '-')}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}
