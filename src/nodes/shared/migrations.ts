// Upgrading saved node configs when a node's options change. Each node keeps an ordered list of
// steps; a config saved by an older version is brought up to date when the runtime reads it, so the
// node code only ever sees the current shape. (The pattern of node-red-contrib-home-assistant-websocket.)

/** One step: turns a config of version `to - 1` into version `to`. It must not mutate its input. */
export interface Migration {
  readonly to: number;
  up(config: Readonly<Record<string, unknown>>): Record<string, unknown>;
}

/**
 * Configs saved before nodes carried `version` are version 1: that is the first shape that shipped.
 * A version newer than every step (a flow from a later release) is left as it is.
 */
export const FIRST_VERSION = 1;

export function configVersion(config: Readonly<Record<string, unknown>>): number {
  const v = config.version;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= FIRST_VERSION ? n : FIRST_VERSION;
}

/** The config in its newest shape, `version` set. Steps run in order from the config's version up. */
export function migrate<T extends object>(config: T, migrations: readonly Migration[]): T & { version: number } {
  let current: Record<string, unknown> = { ...(config as Record<string, unknown>) };
  let version = configVersion(current);
  for (const step of [...migrations].sort((a, b) => a.to - b.to)) {
    if (step.to <= version) continue;
    if (step.to !== version + 1) throw new Error(`migration to version ${step.to} cannot follow version ${version}`);
    current = step.up(current);
    version = step.to;
  }
  return { ...current, version } as T & { version: number };
}
