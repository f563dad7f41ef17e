// The App Connection side of the webhook node: SetNotificationWebhook on start, renewal long before
// the service forgets it (180 days after the last Set), retry with back-off on temporary failures,
// a stop on permanent ones, and DeleteNotificationWebhook only when the node is removed.
import { createHash } from 'node:crypto';
import { type Clock, type OctoEverywhereClient, type OctoEverywhereError } from '../../client';
import { backoffDelay } from '../../client/backoff';
import { isObject } from '../../client/values';
import { Timers } from './clock';
import { persistentRecord } from './context-store';
import { asOctoEverywhereError, stops } from './failure';
import type { Node, NodeAPI } from './types';

const DAY_MS = 24 * 3600_000;
/** Renew every 30 days: six chances before the 180-day lifetime runs out. */
export const RENEW_EVERY_MS = 30 * DAY_MS;
export const FIRST_RETRY_MS = 60_000;
export const MAX_RETRY_MS = 6 * 3600_000;

/** What survives a restart when a persistent context store is configured. */
export interface RegistrationRecord {
  /** Clock time of the last successful Set. */
  at: number;
  /** Hash of what was registered (connection, URL with its token, filter): a change means Set again. */
  fingerprint: string;
}

export interface RegistrationStore {
  load(): Promise<RegistrationRecord | undefined>;
  save(record: RegistrationRecord): Promise<void>;
}

const RECORD_KEY = 'octoeverywhere-webhook-registration';

/** The node's record in the persistent context store; without one, every start registers again (which also renews). */
export function registrationStore(RED: NodeAPI, node: Node): RegistrationStore | undefined {
  return persistentRecord(RED, node, RECORD_KEY, isRecord);
}

function isRecord(value: unknown): value is RegistrationRecord {
  return isObject(value) && typeof value.at === 'number' && typeof value.fingerprint === 'string';
}

export type RegistrationState =
  | { state: 'registering' }
  | { state: 'registered'; at: number; renewAt: number }
  | { state: 'retrying'; error: OctoEverywhereError; retryAt: number }
  | { state: 'failed'; error: OctoEverywhereError };

export interface RegistrationOptions {
  /** The shared client; throws the config node's error when there is none. */
  client: () => OctoEverywhereClient;
  url: string;
  eventTypes: readonly number[];
  clock: Clock;
  /** Absent: no persistent store, so every start registers again (cheap, and it renews too). */
  store?: RegistrationStore;
  onChange: (state: RegistrationState) => void;
}

export class WebhookRegistration {
  private readonly timers: Timers;
  private stopped = false;
  /** Temporary failures in a row: the back-off step. */
  private failures = 0;
  /** The Set (or the start-up check) under way, so removal can wait for it before Delete. */
  private pending?: Promise<void>;

  constructor(private readonly options: RegistrationOptions) {
    this.timers = new Timers(options.clock);
  }

  /** Registers now, or later when a persistent record says the current registration is still fresh. */
  start(): void {
    this.track(this.resume());
  }

  /** Stops timers; an answer still on its way is ignored. The registration stays at the service. */
  stop(): void {
    this.stopped = true;
    this.timers.cancelAll();
  }

  /**
   * The node was removed: stop, let a Set under way finish (so it cannot land after the Delete),
   * then delete the registration through `client`.
   */
  async remove(client: OctoEverywhereClient): Promise<void> {
    this.stop();
    await this.pending;
    await client.app.deleteNotificationWebhook();
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => {
      if (this.pending === tracked) this.pending = undefined;
    });
    this.pending = tracked;
  }

  private async resume(): Promise<void> {
    const fingerprint = this.fingerprint();
    const record = await this.options.store?.load().catch(() => undefined);
    if (this.stopped) return;
    const now = this.options.clock.now();
    if (fingerprint && record && record.fingerprint === fingerprint && record.at <= now && now - record.at < RENEW_EVERY_MS) {
      this.registered(record.at);
      return;
    }
    await this.register();
  }

  private async register(): Promise<void> {
    this.options.onChange({ state: 'registering' });
    try {
      await this.options.client().app.setNotificationWebhook(this.options.url, this.options.eventTypes);
    } catch (err) {
      if (!this.stopped) this.failed(asOctoEverywhereError(err));
      return;
    }
    if (this.stopped) return;
    const at = this.options.clock.now();
    this.failures = 0;
    const fingerprint = this.fingerprint();
    if (fingerprint) await this.options.store?.save({ at, fingerprint }).catch(() => undefined);
    if (!this.stopped) this.registered(at);
  }

  private registered(at: number): void {
    const renewAt = at + RENEW_EVERY_MS;
    this.timers.cancelAll();
    this.timers.after(renewAt - this.options.clock.now(), () => this.track(this.register()));
    this.options.onChange({ state: 'registered', at, renewAt });
  }

  private failed(error: OctoEverywhereError): void {
    this.timers.cancelAll();
    if (stops(error)) {
      this.options.onChange({ state: 'failed', error });
      return;
    }
    const delay = backoffDelay({ baseMs: FIRST_RETRY_MS, maxMs: MAX_RETRY_MS }, ++this.failures);
    this.timers.after(delay, () => this.track(this.register()));
    this.options.onChange({ state: 'retrying', error, retryAt: this.options.clock.now() + delay });
  }

  /** Undefined when the client cannot be had (the Set will then fail and say why). */
  private fingerprint(): string | undefined {
    let base: string;
    try {
      base = this.options.client().connection.baseUrl;
    } catch {
      return undefined;
    }
    return createHash('sha256')
      .update(JSON.stringify([base, this.options.url, [...this.options.eventTypes].sort((a, b) => a - b)]))
      .digest('base64url');
  }
}
