// Network misbehaviour on demand: latency, dropped connections and error answers, applied to the
// relay and the App APIs (not the portal pages) so clients' retry and back-off paths can be tested.

export interface ChaosKnobs {
  /** Real milliseconds added before each request is handled. */
  latencyMs: number;
  /** Share (0–1) of requests whose socket is destroyed without an answer. */
  dropRate: number;
  /** Share (0–1) of requests answered with `errorStatus` instead of being handled. */
  errorRate: number;
  /** Status for `errorRate` answers, e.g. 502 or a temporary 6xx; 0 means 503. */
  errorStatus: number;
  /** Real-ms timeout for webhook deliveries; 0 means production's 10 s. */
  webhookTimeoutMs: number;
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

export interface ChaosOutcome {
  drop(): void;
  fail(status: number): void;
  pass(): void;
}

export class Chaos {
  readonly knobs: ChaosKnobs = { latencyMs: 0, dropRate: 0, errorRate: 0, errorStatus: 0, webhookTimeoutMs: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();

  /** No knob set: callers may skip apply() on the hot path. */
  get quiet(): boolean {
    const k = this.knobs;
    return k.latencyMs <= 0 && k.dropRate <= 0 && k.errorRate <= 0;
  }

  /** Decides a request's fate and calls exactly one of the outcome's functions (maybe later). */
  apply(outcome: ChaosOutcome): void {
    const { latencyMs } = this.knobs;
    if (latencyMs <= 0) {
      this.decide(outcome);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.decide(outcome);
    }, latencyMs);
    this.timers.add(timer);
  }

  webhookTimeoutMs(): number {
    return this.knobs.webhookTimeoutMs > 0 ? this.knobs.webhookTimeoutMs : DEFAULT_WEBHOOK_TIMEOUT_MS;
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private decide(outcome: ChaosOutcome): void {
    const { dropRate, errorRate, errorStatus } = this.knobs;
    if (dropRate > 0 && Math.random() < dropRate) outcome.drop();
    else if (errorRate > 0 && Math.random() < errorRate) outcome.fail(errorStatus || 503);
    else outcome.pass();
  }
}
