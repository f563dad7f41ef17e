// The one time rule of every request that reads its whole answer (relay requests, command API calls,
// App API calls): it ends by its deadline, whatever the far side dribbles. axios's own `timeout` is a
// socket idle timeout in Node (any byte restarts it), so an answer sending a byte every second never
// timed out; a Deadline starts with the request and covers connecting, the head and the body.
import { type Clock, type ClockTimer, realClock } from './clock';
import { NetworkError } from './errors';

export class Deadline {
  readonly ms: number;
  readonly #controller = new AbortController();
  readonly #clock: Clock;
  readonly #parent?: AbortSignal;
  #timer?: ClockTimer;
  #expired = false;

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
      this.#controller.abort();
      return;
    }
    parent?.addEventListener('abort', this.#onParentAbort, { once: true });
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#controller.signal.aborted) return;
      this.#expired = true;
      this.release();
      this.#controller.abort();
    }, ms);
  }

  /** Given to axios (and any other reader of the answer) in place of the caller's signal. */
  get signal(): AbortSignal {
    return this.#controller.signal;
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
    this.#controller.abort();
  }

  /** The request is over: stops the timer and lets go of the caller's signal. Safe to call twice. */
  release(): void {
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#parent?.removeEventListener('abort', this.#onParentAbort);
  }

  /** OE_TIMEOUT for `what`; the message names only the limit, never a URL or a header. */
  error(what: string): NetworkError {
    return new NetworkError(
      'OE_TIMEOUT',
      `${what} did not complete within ${formatMs(this.ms)}. Check the printer is online; a longer timeout may help for large transfers.`,
      { kind: 'temporary' },
    );
  }

  readonly #onParentAbort = (): void => {
    this.release();
    this.#controller.abort();
  };
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
