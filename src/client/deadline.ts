// The one time rule of every request that reads its whole answer (relay requests, command API calls,
// App API calls, the Failure Detection API, the Printer ID look-up on the LAN): it ends by its
// deadline, whatever the far side dribbles. axios's own `timeout` is a socket idle timeout in Node
// (any byte restarts it), so an answer sending a byte every second never timed out; a Deadline starts
// with the request and covers connecting, the head and the body.
import { type Clock, type ClockTimer, realClock } from './clock';
import { NetworkError } from './errors';

export class Deadline {
  readonly ms: number;
  /** Made only when someone asks for `signal` (axios, a stream reader): the fast path listens with onCancel(). */
  #controller?: AbortController;
  readonly #clock: Clock;
  readonly #parent?: AbortSignal;
  #timer?: ClockTimer;
  #expired = false;
  #aborted = false;
  #listener?: () => void;

  /**
   * Starts now: `signal` aborts after `ms` on `clock`, or as soon as `parent` (the caller's signal)
   * aborts, or on abort(). Aborting the signal given to axios destroys the request and its socket,
   * so a timed-out socket never goes back to the keep-alive pool.
   */
  constructor(ms: number, parent?: AbortSignal, clock: Clock = realClock) {
    this.ms = ms;
    this.#clock = clock;
    this.#parent = parent;
    if (parent?.aborted) {
      this.#aborted = true;
      return;
    }
    if (parent) watch(parent, this.#onParentAbort);
    this.#timer = clock.setTimeout(this.#onTime, ms);
  }

  /** Given to axios (and any other reader of the answer) in place of the caller's signal. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** Whether the request was ended: by its time, the caller or abort(). */
  get aborted(): boolean {
    return this.#aborted;
  }

  /**
   * `fn` runs once when the request is ended (as `signal`'s abort event would), unless replaced or
   * cleared (undefined) before: the one listener of the relay fast path, cheaper than an AbortSignal.
   */
  onCancel(fn: (() => void) | undefined): void {
    this.#listener = fn;
  }

  /** Whether the request ended because its time was up (not because the caller cancelled it). */
  get expired(): boolean {
    return this.#expired;
  }

  /**
   * The answer's head came in time and its body is a stream the caller reads: the time rule is theirs
   * now, but the caller's signal still cancels the request until release().
   */
  stopClock(): void {
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /** Ends the request now, not as a timeout (e.g. an answer refused after its head). */
  abort(): void {
    this.release();
    this.#cancel();
  }

  /** The request is over: stops the timer and lets go of the caller's signal. Safe to call twice. */
  release(): void {
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    if (this.#parent) unwatch(this.#parent, this.#onParentAbort);
  }

  /** OE_TIMEOUT for `what`; the message names only the limit, never a URL or a header. */
  error(what: string, advice = 'Check the printer is online; a longer timeout may help for large transfers.'): NetworkError {
    return new NetworkError('OE_TIMEOUT', `${what} did not complete within ${formatMs(this.ms)}. ${advice}`, { kind: 'temporary' });
  }

  #cancel(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
    this.#controller?.abort();
  }

  readonly #onTime = (): void => {
    this.#timer = undefined;
    if (this.#aborted) return;
    this.#expired = true;
    this.release();
    this.#cancel();
  };

  readonly #onParentAbort = (): void => {
    this.release();
    this.#cancel();
  };
}

/**
 * The deadlines waiting on each caller signal, behind one abort listener per signal: a node's one
 * signal serves all its messages, and EventTarget's add/removeEventListener scan every listener
 * (O(n) per request with n in flight), a Set does not. Called in the order they were added.
 */
const watchers = new WeakMap<AbortSignal, Set<() => void>>();

function watch(signal: AbortSignal, fn: () => void): void {
  let set = watchers.get(signal);
  if (!set) {
    const fns = new Set<() => void>();
    set = fns;
    watchers.set(signal, fns);
    signal.addEventListener(
      'abort',
      () => {
        for (const f of [...fns]) f();
        fns.clear();
      },
      { once: true },
    );
  }
  set.add(fn);
}

function unwatch(signal: AbortSignal, fn: () => void): void {
  watchers.get(signal)?.delete(fn);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
