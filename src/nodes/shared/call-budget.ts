// The Gadget API config node's monthly call budget: each Failure Detection process call beyond the
// free 5,000 a month costs the key's owner money, so the node counts them (per calendar month, UTC,
// on the injectable clock), keeps the count across restarts where a persistent context store
// exists, and refuses to call once the budget is used up.
import type { Clock } from '../../client';
import type { RecordStore } from './context-store';

export interface BudgetRecord {
  /** `YYYY-MM`, UTC. */
  month: string;
  calls: number;
}

export function isBudgetRecord(value: unknown): value is BudgetRecord {
  const v = value as Partial<BudgetRecord> | null;
  return typeof v === 'object' && v !== null && typeof v.month === 'string' && typeof v.calls === 'number' && Number.isInteger(v.calls) && v.calls >= 0;
}

/** The UTC calendar month of a clock time. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** Clock time at which the month of `ms` ends (the next month's first instant, UTC). */
export function nextMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

export class CallBudget {
  /** Resolves once the persisted count is loaded (at once without a store); calls wait for it. */
  readonly ready: Promise<void>;
  #record: BudgetRecord;
  #saving: Promise<void> = Promise.resolve();

  constructor(
    readonly limit: number,
    private readonly clock: Clock,
    private readonly store?: RecordStore<BudgetRecord>,
    private readonly onSaveError?: (err: unknown) => void,
  ) {
    this.#record = { month: monthOf(clock.now()), calls: 0 };
    this.ready = store
      ? store.load().then(
          (saved) => {
            // Calls counted while loading are added to what was saved.
            if (saved && saved.month === this.#record.month) this.#record = { month: saved.month, calls: saved.calls + this.#record.calls };
          },
          () => undefined,
        )
      : Promise.resolve();
  }

  /** Whether the store keeps the count across restarts. */
  get persistent(): boolean {
    return this.store !== undefined;
  }

  /** Calls made this month. */
  get used(): number {
    this.#roll();
    return this.#record.calls;
  }

  get exhausted(): boolean {
    return this.used >= this.limit;
  }

  /** One paid call goes out now. */
  count(): void {
    this.#roll();
    this.#record = { month: this.#record.month, calls: this.#record.calls + 1 };
    const record = this.#record;
    if (this.store) {
      const store = this.store;
      // Saves run one after another, so an older count can never overwrite a newer one.
      this.#saving = this.#saving.then(() => store.save(record)).catch((err: unknown) => this.onSaveError?.(err));
    }
  }

  /** Resolves when every save so far has been attempted. */
  flushed(): Promise<void> {
    return this.#saving;
  }

  /** A new month starts from zero. */
  #roll(): void {
    const month = monthOf(this.clock.now());
    if (month !== this.#record.month) this.#record = { month, calls: 0 };
  }
}
