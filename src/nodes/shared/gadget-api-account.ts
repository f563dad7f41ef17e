// What one Gadget API config node owns and shares with every failure-detection node using its key:
// the client (one keep-alive pool), the monthly call budget, and the stop after a key error (a
// disabled, blocked or invalid key stops every user of the key until a redeploy, since no call can
// succeed). Users register and deregister, as with the App Connection's PrinterConnection; close()
// releases the client once the calls in flight have ended and the last count is written.
import type { FailureDetectionClient, FailureDetectionError } from '../../client';
import type { CallBudget } from './call-budget';

export class GadgetApiAccount {
  #stopped?: FailureDetectionError;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #users = new Set<string>();

  constructor(
    readonly client: FailureDetectionClient,
    readonly budget: CallBudget,
  ) {}

  /** The nodes registered now. */
  get users(): number {
    return this.#users.size;
  }

  register(user: { readonly id: string }): void {
    this.#users.add(user.id);
  }

  deregister(user: { readonly id: string }): void {
    this.#users.delete(user.id);
  }

  /** Waits for the calls in flight (their nodes aborted them on close), then closes the client and writes the count. */
  async close(): Promise<void> {
    await this.settled();
    await Promise.all([this.client.close(), this.budget.flushed()]);
  }

  /** The key error that stopped every call, if any. */
  get stopped(): FailureDetectionError | undefined {
    return this.#stopped;
  }

  stop(error: FailureDetectionError): void {
    this.#stopped ??= error;
  }

  /** Keeps `work` (a frame's call, which never rejects) until it ends, for settled(). */
  track(work: Promise<void>): Promise<void> {
    this.#inFlight.add(work);
    return work.finally(() => this.#inFlight.delete(work));
  }

  /** Resolves once no call of any node using this key is in flight (tests step the clock between calls). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }
}
