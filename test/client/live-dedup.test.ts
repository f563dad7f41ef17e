// Print events keyed by the print: a scripted session (no network) on the manual clock shows that a
// status glitch or a reconnect that sees the same print again never announces its start twice, while
// a new print (another id, or the same file started again later) is announced.
import assert from 'node:assert/strict';
import { AppConnection, type JobStatus, LiveConnection, NetworkError, parseJobStatus } from '../../src/client';
import { type LiveSession, type PrintKey, samePrint, type SessionSink } from '../../src/client/live/session';
import { createClock, type ManagedClock } from '../../src/simulator';

function job(state: string, fileName: string | null, progress = 0): JobStatus {
  return parseJobStatus({ JobStatus: { State: state, CurrentPrint: fileName ? { FileName: fileName, Progress: progress } : null } });
}

/** Sessions whose statuses the test sends by hand. */
class Scripted {
  sinks: SessionSink[] = [];
  factory = (): LiveSession => {
    const self = this;
    return {
      open(sink) {
        self.sinks.push(sink);
        return Promise.resolve({ via: 'relay' as const });
      },
      heartbeat: () => true,
      close: () => undefined,
    };
  };
  get sink(): SessionSink {
    return this.sinks[this.sinks.length - 1];
  }
}

describe('client live: print events keyed by the print', () => {
  let clock: ManagedClock;
  let connection: AppConnection;
  beforeEach(() => {
    clock = createClock({ mode: 'manual' });
    connection = new AppConnection({ url: 'https://app-test.octoeverywhere.com', authBearerToken: 'unused' });
  });
  afterEach(async () => {
    await connection.close();
    clock.dispose();
  });

  it('samePrint: ids decide when present; else the file and a start within 90 s', () => {
    const t = 1_700_000_000_000;
    assert.ok(samePrint({ id: 'a', fileName: 'x' }, { id: 'a', fileName: 'y' }));
    assert.ok(!samePrint({ id: 'a', fileName: 'x' }, { id: 'b', fileName: 'x' }));
    assert.ok(samePrint({ fileName: 'x', startedAtMs: t }, { fileName: 'x', startedAtMs: t + 5_000 }));
    assert.ok(!samePrint({ fileName: 'x', startedAtMs: t }, { fileName: 'x', startedAtMs: t + 600_000 }));
    assert.ok(!samePrint({ fileName: 'x', startedAtMs: t }, { fileName: 'y', startedAtMs: t }));
    assert.ok(!samePrint(null, { fileName: 'x' }));
  });

  it('a glitch or a reconnect showing the same print again does not re-announce it; a new print is announced', async () => {
    const scripted = new Scripted();
    const live = new LiveConnection({ connection, platform: 'moonraker', clock, createSession: scripted.factory, random: () => 0 });
    const events: string[] = [];
    live.on('event', (e) => events.push(e.event));
    live.start();
    await Promise.resolve();
    const t0 = clock.now();
    const key = (startedAtMs: number): PrintKey => ({ fileName: 'a.gcode', startedAtMs });
    scripted.sink.status(job('idle', null), null);
    scripted.sink.status(job('printing', 'a.gcode', 5), key(t0));
    // A session that briefly reports the printer idle, then the same print again.
    scripted.sink.status(job('idle', null), null);
    scripted.sink.status(job('printing', 'a.gcode', 6), key(t0 + 2_000));
    // A reconnect: the new session's first status is the same print.
    scripted.sink.closed(new NetworkError('OE_SOCKET_CLOSED', 'closed', { kind: 'temporary' }));
    await clock.advance(1_000);
    await Promise.resolve();
    assert.equal(scripted.sinks.length, 2);
    scripted.sink.status(job('printing', 'a.gcode', 7), key(t0 + 1_000));
    // A state the mapping does not know is not derived from.
    scripted.sink.status(job('bogus', 'a.gcode', 7), key(t0 + 1_000));
    scripted.sink.status(job('printing', 'a.gcode', 8), key(t0 + 1_000));
    assert.equal(events.filter((e) => e === 'print-started').length, 1, events.join(','));
    // The same file started again ten minutes later is a new print.
    scripted.sink.status(job('complete', 'a.gcode', 100), key(t0));
    scripted.sink.status(job('printing', 'a.gcode', 1), key(t0 + 600_000));
    assert.equal(events.filter((e) => e === 'print-started').length, 2, events.join(','));
    live.stop();
    assert.equal(live.pendingTimers, 0);
  });

  it('an event listener that comes later hears what changes from then on, nothing from before; a repeated status says nothing', async () => {
    const scripted = new Scripted();
    const live = new LiveConnection({ connection, platform: 'moonraker', clock, createSession: scripted.factory, random: () => 0 });
    const snapshots: number[] = [];
    live.on('snapshot', (s) => snapshots.push(s.progress ?? -1));
    live.start();
    await Promise.resolve();
    const key: PrintKey = { fileName: 'a.gcode', startedAtMs: clock.now() };
    // Nobody listens to the events yet (as under the status nodes): the print starts and reaches 5 %.
    scripted.sink.status(job('idle', null), null);
    scripted.sink.status(job('printing', 'a.gcode', 5), key);
    const events: string[] = [];
    live.on('event', (e) => events.push(e.event));
    scripted.sink.status(job('printing', 'a.gcode', 5), key);
    assert.deepEqual(events, [], 'the start happened before anyone listened');
    scripted.sink.status(job('printing', 'a.gcode', 15), key);
    scripted.sink.status(job('printing', 'a.gcode', 15), key);
    scripted.sink.status(job('paused', 'a.gcode', 15), key);
    scripted.sink.status(job('paused', 'a.gcode', 15), key);
    assert.deepEqual(events, ['print-progress', 'print-paused']);
    assert.deepEqual(snapshots, [-1, 5, 15, 15], 'one snapshot per change');
    live.stop();
  });
});
