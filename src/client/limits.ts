// The account's transfer limits (Info API `PrinterLimits`), fetched once and kept for a while, so that
// an upload or download the relay would refuse (608 / 607) can fail before its bytes move.
import { AppApi, type PrinterLimits } from './app-api';
import type { AppConnection } from './connection';
import { serviceError, type ServiceError } from './errors';

/** Limits change only when the owner's plan does; a few minutes of staleness costs at most one refused transfer. */
export const LIMITS_TTL_MS = 10 * 60_000;
/** After the Info API failed, transfers go unchecked (the relay still enforces the limits) until this has passed. */
export const LIMITS_RETRY_MS = 60_000;

export interface AccountLimitsOptions {
  ttlMs?: number;
  retryMs?: number;
  now?: () => number;
}

/**
 * A small TTL cache in front of the Info API. `load` is undefined for a Shared Connection, which has no
 * Info API: its limits are simply unknown and only the relay checks them.
 */
export class AccountLimits {
  readonly #load?: () => Promise<PrinterLimits>;
  readonly #ttlMs: number;
  readonly #retryMs: number;
  readonly #now: () => number;
  #value?: PrinterLimits;
  #until = 0;
  #loading?: Promise<PrinterLimits | undefined>;

  constructor(load: (() => Promise<PrinterLimits>) | undefined, options: AccountLimitsOptions = {}) {
    this.#load = load;
    this.#ttlMs = options.ttlMs ?? LIMITS_TTL_MS;
    this.#retryMs = options.retryMs ?? LIMITS_RETRY_MS;
    this.#now = options.now ?? Date.now;
  }

  /** The cached limits, or undefined when none are known right now; never fetches. */
  peek(): PrinterLimits | undefined {
    return this.#now() < this.#until ? this.#value : undefined;
  }

  /** The limits, fetched when the cache is empty or stale; undefined when they cannot be known. Never rejects. */
  async get(): Promise<PrinterLimits | undefined> {
    if (!this.#load) return undefined;
    if (this.#now() < this.#until) return this.#value;
    // Concurrent callers share one Info request.
    this.#loading ??= this.#load()
      .then(
        (limits) => this.#remember(limits, this.#ttlMs),
        () => this.#remember(undefined, this.#retryMs),
      )
      .finally(() => {
        this.#loading = undefined;
      });
    return this.#loading;
  }

  clear(): void {
    this.#value = undefined;
    this.#until = 0;
  }

  #remember(limits: PrinterLimits | undefined, forMs: number): PrinterLimits | undefined {
    this.#value = limits;
    this.#until = this.#now() + forMs;
    return limits;
  }
}

const byConnection = new WeakMap<AppConnection, AccountLimits>();

/** The one limits cache of a connection, shared by everything that uses it; gone with the connection. */
export function accountLimits(connection: AppConnection): AccountLimits {
  let limits = byConnection.get(connection);
  if (!limits) {
    const app = new AppApi(connection);
    limits = new AccountLimits(connection.hasAppApi ? async () => (await app.info()).limits : undefined);
    byConnection.set(connection, limits);
  }
  return limits;
}

/** OE_608 when `bytes` is over the account's upload limit; nothing when within it or unknown. */
export function checkUploadSize(bytes: number, limits: PrinterLimits | undefined, appId?: string): void {
  const max = limits?.maxUploadFileSizeBytes;
  if (max !== undefined && max > 0 && bytes > max) throw overLimit(608, 'An upload', bytes, max, appId);
}

/** OE_607 when `bytes` is over the account's download limit; nothing when within it or unknown. */
export function checkDownloadSize(bytes: number, limits: PrinterLimits | undefined, appId?: string): void {
  const max = limits?.maxDownloadFileSizeBytes;
  if (max !== undefined && max > 0 && bytes > max) throw overLimit(607, 'A download', bytes, max, appId);
}

export function overLimit(status: 607 | 608, what: string, bytes: number, max: number, appId?: string): ServiceError {
  return serviceError(status, `${what} of ${formatBytes(bytes)} (the account allows ${formatBytes(max)})`, appId);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}
