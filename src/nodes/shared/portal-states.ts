// The one-time states that tie a portal window to the editor that opened it. A state is the only
// authority the unauthenticated callback has, so it is random, short-lived, used once, and the few
// that may exist at a time are kept in memory only (a restart forgets them, as it should).
import { randomBytes } from 'node:crypto';
import type { CompletionResult } from '../../client';

/** What the portal's callback found: a connection for the editor, or why there is none. */
export type PortalOutcome = { ok: true; connection: CompletionResult } | { ok: false; code: string; message: string };

export interface PortalStatesOptions {
  now?: () => number;
  /** How long the user has to finish the portal. Default 10 minutes. */
  ttlMs?: number;
  /** How long a finished outcome waits for the editor to read it. Default 2 minutes. */
  resultTtlMs?: number;
  /** States kept at most; the oldest is dropped first. Default 16. */
  max?: number;
}

interface Entry {
  expires: number;
  outcome?: PortalOutcome;
}

export const DEFAULT_PORTAL_TTL_MS = 10 * 60_000;

export class PortalStates {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly resultTtlMs: number;
  private readonly max: number;

  constructor(options: PortalStatesOptions = {}) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? DEFAULT_PORTAL_TTL_MS;
    this.resultTtlMs = options.resultTtlMs ?? 2 * 60_000;
    this.max = options.max ?? 16;
  }

  get size(): number {
    this.prune();
    return this.entries.size;
  }

  /** A new pending state: 192 random bits, URL-safe. */
  create(): string {
    this.prune();
    while (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    const state = randomBytes(24).toString('base64url');
    this.entries.set(state, { expires: this.now() + this.ttlMs });
    return state;
  }

  /** Forgets a state (the editor gave up on it, or the portal URL could not be built). */
  discard(state: string): void {
    this.entries.delete(state);
  }

  /**
   * The callback: records the outcome of a pending state. False when the state is unknown, expired
   * or already used, so a replayed or forged callback changes nothing.
   */
  complete(state: string, outcome: PortalOutcome): boolean {
    const entry = this.live(state);
    if (!entry || entry.outcome) return false;
    entry.outcome = outcome;
    entry.expires = this.now() + this.resultTtlMs;
    return true;
  }

  /** The editor's poll: 'pending', the outcome (given once, then forgotten), or undefined (unknown or expired). */
  read(state: string): PortalOutcome | 'pending' | undefined {
    const entry = this.live(state);
    if (!entry) return undefined;
    if (!entry.outcome) return 'pending';
    this.entries.delete(state);
    return entry.outcome;
  }

  private live(state: string): Entry | undefined {
    const entry = this.entries.get(state);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(state);
      return undefined;
    }
    return entry;
  }

  private prune(): void {
    const now = this.now();
    for (const [state, entry] of this.entries) if (entry.expires <= now) this.entries.delete(state);
  }
}
