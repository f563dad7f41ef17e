// Child processes for the benchmarks: every measured party runs in its own Node process (started
// through tsx) so that no two share an event loop or CPU accounting; they talk over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

interface Request {
  id: number;
  cmd: string;
  payload?: unknown;
}
interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/**
 * A TypeScript file of bench/ started as a child with IPC; `--expose-gc` so it can measure memory.
 * BENCH_CPU_PROF=<dir> writes each child's CPU profile there (`node --cpu-prof`), to see where the time goes.
 */
export function forkTs(file: string, args: string[] = []): ChildProcess {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : [];
  return fork(path.resolve(__dirname, '..', file), args, {
    execArgv: ['--import', 'tsx', '--expose-gc', ...profile],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The parent's side of a child's request/reply channel. */
export class Peer {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const p of this.pending.values()) p.reject(new Error(`child exited (${code ?? signal})`));
        this.pending.clear();
        resolve();
      });
    });
  }

  call<T>(cmd: string, payload?: unknown): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, payload } satisfies Request);
    });
  }

  /** Asks the child to finish, then waits for it; kills it if it does not go within 10 s. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.call('close').catch(() => undefined);
    await this.exited;
    clearTimeout(timer);
  }
}

export type Handlers = Record<string, (payload: never) => unknown>;

/** The child's side: answers the parent's calls; `close` runs the handler (if any) and exits. */
export function serve(handlers: Handlers): void {
  process.on('message', (m: Request) => {
    const handler = handlers[m.cmd];
    const reply = (r: Omit<Reply, 'id'>): void => {
      process.send?.({ id: m.id, ...r });
    };
    Promise.resolve()
      .then(() => (handler ? handler(m.payload as never) : m.cmd === 'close' ? undefined : Promise.reject(new Error(`unknown command ${m.cmd}`))))
      .then(
        (result: unknown) => reply({ ok: true, result }),
        (err: unknown) => reply({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      )
      .finally(() => {
        if (m.cmd !== 'close') return;
        process.disconnect?.();
        // A benchmark child is done once it has closed what it measured; anything left is not ours to wait for.
        setTimeout(() => process.exit(0), 200).unref();
      });
  });
}
