// The status node's derivation memory (client/derive.ts) kept in the persistent context store,
// keyed by the printer: the next node to watch that printer — the same node after a restart or a
// redeploy, or another Node-RED instance's after a hand-over (docs/scaling.md) — continues from the
// last state seen, so what happened in between is announced once and nothing is announced twice.
import type { Clock, DeriveMemory } from '../../client';
import { COMPLETE_PROGRESS } from '../../client/derive';
import { isObject } from '../../client/values';
import { persistentRecord, type RecordStore } from './context-store';
import type { Node, NodeAPI } from './types';

/** An older record is not continued from: a state that old says little about what is news now. */
export const MEMORY_MAX_AGE_MS = 15 * 60_000;
/** An unchanged memory is saved again this often, so its age says the printer is still watched. */
export const MEMORY_REFRESH_MS = 60_000;

export interface MemoryRecord {
  /** Clock time of the save. */
  at: number;
  memory: DeriveMemory;
}

/** The global context key of a printer's record (`.` and `[` would make a context key a path). */
export function memoryKey(printerKey: string): string {
  return `octoeverywhere-status-${printerKey.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

const FLAGS = ['firstLayer', 'thirdLayer', 'cooldownPending', 'gadgetWarned', 'gadgetPauseAnnounced'] as const;

/** What deriveEvents reads of a memory; a store may hold anything (another version, a hand edit). */
export function isMemoryRecord(value: unknown): value is MemoryRecord {
  if (!isObject(value) || typeof value.at !== 'number' || !isObject(value.memory)) return false;
  const m = value.memory;
  const last = m.last;
  return (
    typeof m.decile === 'number' &&
    FLAGS.every((flag) => typeof m[flag] === 'boolean') &&
    isObject(last) &&
    typeof last.online === 'boolean' &&
    typeof last.printing === 'boolean' &&
    typeof last.state === 'string' &&
    isObject(last.temperatures) &&
    isObject(last.temperatures.bed)
  );
}

/** The record of a status node's printer in the global context of the persistent store, or undefined without one. */
export function memoryStore(RED: NodeAPI, node: Node, printerKey: string): RecordStore<MemoryRecord> | undefined {
  return persistentRecord(RED, node, memoryKey(printerKey), isMemoryRecord, 'global');
}

/** What the next derivation reads of a memory: one that differs only in temperatures or times need not be written. */
function signature(m: DeriveMemory): string {
  const last = m.last;
  return JSON.stringify([
    m.decile,
    ...FLAGS.map((flag) => m[flag]),
    last.online,
    last.printing,
    last.state,
    last.printId,
    (last.progress ?? 0) >= COMPLETE_PROGRESS,
  ]);
}

export class StatusMemory {
  /** The latest memory not yet handed to the store. */
  #latest?: MemoryRecord;
  #saving?: Promise<void>;
  #savedSignature?: string;
  #savedAt = -Infinity;

  constructor(
    private readonly store: RecordStore<MemoryRecord> | undefined,
    private readonly clock: Clock,
    private readonly onSaveError: (err: unknown) => void,
  ) {}

  /** Whether there is a store to continue from (without one a node starts from a baseline). */
  get persistent(): boolean {
    return this.store !== undefined;
  }

  /** The memory to continue from: the saved one when it is recent, else undefined (a baseline). */
  async load(): Promise<DeriveMemory | undefined> {
    const record = await this.store?.load().catch(() => undefined);
    const now = this.clock.now();
    return record && record.at <= now && now - record.at < MEMORY_MAX_AGE_MS ? record.memory : undefined;
  }

  /**
   * Saves in the background when the memory changed in what the next derivation reads, and at least
   * every MEMORY_REFRESH_MS (a poll every 10 s would otherwise write 6 times a minute to a store that
   * may be a network away); saves run one at a time and only the newest waiting one is written.
   */
  save(memory: DeriveMemory): void {
    if (!this.store) return;
    const now = this.clock.now();
    const sig = signature(memory);
    if (sig === this.#savedSignature && now - this.#savedAt < MEMORY_REFRESH_MS) return;
    this.#savedSignature = sig;
    this.#savedAt = now;
    this.#latest = { at: now, memory };
    this.#saving ??= this.#drain(this.store);
  }

  /** Resolves once the newest memory is in the store (a node's close waits for it: the next owner reads it). */
  flushed(): Promise<void> {
    return this.#saving ?? Promise.resolve();
  }

  async #drain(store: RecordStore<MemoryRecord>): Promise<void> {
    for (let record = this.#latest; record; record = this.#latest) {
      this.#latest = undefined;
      await store.save(record).catch(this.onSaveError);
    }
    this.#saving = undefined;
  }
}
