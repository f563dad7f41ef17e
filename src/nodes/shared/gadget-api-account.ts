// What one Gadget API config node shares with every failure-detection node using its key: the client
// (one keep-alive pool), the monthly call budget, and the stop after a key error (a disabled, blocked
// or invalid key stops every user of the key until a redeploy, since no call can succeed).
import type { FailureDetectionClient, FailureDetectionError } from '../../client';
import type { CallBudget } from './call-budget';

export class GadgetApiAccount {
  #stopped?: FailureDetectionError;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(
    readonly client: FailureDetectionClient,
    readonly budget: CallBudget,
  ) {}

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
