// Upgrading saved node configs when a node's options change. Each node type keeps an ordered list of
// steps in resources/migrations.js, the one file the runtime (here) and the editor (a <script> of the
// config nodes' .html) share, so both bring an old flow to the same current shape. This module gives
// the runtime its typed view of that file. (The pattern of node-red-contrib-home-assistant-websocket.)

/** One step: turns a config of version `to - 1` into version `to`. It must not mutate its input. */
export interface Migration {
  readonly to: number;
  up(config: Readonly<Record<string, unknown>>): Record<string, unknown>;
}

type Config = Readonly<Record<string, unknown>>;

interface SharedMigrations {
  readonly FIRST_VERSION: number;
  readonly STEPS: Readonly<Record<string, readonly Migration[]>>;
  configVersion(config: Config): number;
  applySteps(config: Config, steps: readonly Migration[]): Record<string, unknown>;
  currentVersion(type: string): number;
  migrate(type: string, config: Config): Record<string, unknown>;
}

// The same path from src/nodes/shared (tests) and dist/nodes/shared (the package): resources/ is
// beside both at the package root. A plain require: the file is ES5 for the browser, not a TS module.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain .js file shared with the editor, outside the TypeScript build
const shared = require('../../../resources/migrations.js') as SharedMigrations;

/**
 * Configs saved before nodes carried `version` are version 1: that is the first shape that shipped.
 * A version newer than every step (a flow from a later release) is left as it is.
 */
export const FIRST_VERSION = shared.FIRST_VERSION;

/** Every node type's steps, keyed by type. */
export const MIGRATIONS: Readonly<Record<string, readonly Migration[]>> = shared.STEPS;

export function configVersion(config: Config): number {
  return shared.configVersion(config);
}

/** The config in its newest shape, `version` set. Steps run in order from the config's version up. */
export function applyMigrations<T extends object>(config: T, migrations: readonly Migration[]): T & { version: number } {
  return shared.applySteps(config as Config, migrations) as T & { version: number };
}

/** The version a new node of `type` is saved with. */
export function currentVersion(type: string): number {
  return shared.currentVersion(type);
}

/** A node's saved config read in the current shape of its type (throws for a type without a list). */
export function migrate<T extends object>(type: string, config: T): T & { version: number } {
  return shared.migrate(type, config as Config) as T & { version: number };
}
