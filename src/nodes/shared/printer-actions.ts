// The printer command node's actions (docs/octoeverywhere.md §7): each action's command, its arguments as msg.payload
// and the editor carry them, the feature bit that offers it, and its words for "wrong state"; and
// the checks that turn a message into one action with its arguments before anything is sent.
import { COMMAND_FEATURE, CommandError, InvalidArgumentError, OctoEverywhereError, type CallOptions, type CommandApi, type StartOptions } from '../../client';
import { isObject } from '../../client/values';
import type { Translate } from './settings';

export type Args = Record<string, unknown>;
export type Result = Record<string, unknown>;

export interface Action {
  /** The command API command it sends; feature bits (COMMAND_FEATURE) are keyed by it. */
  command: string;
  /**
   * Argument names, as msg.payload carries them: camelCase, or OctoEverywhere's own spelling
   * (`SmartPause`, `Name`), matched without regard to case. Any other key is refused.
   */
  args: readonly string[];
  /** Editor property for an argument whose name differs (the editor's fields are shared by all actions). */
  editorFields?: Readonly<Record<string, string>>;
  /** Catalog key for "wrong printer state" (786), in this action's words. */
  stateError?: string;
  // Arguments are untyped user data here; the client checks every one of them at run time.
  run(commands: CommandApi, args: Args, call: CallOptions): Promise<Result>;
}

const PAUSE_ARGS = ['smartPause', 'disableHotend', 'disableBed', 'zLiftMm', 'retractFilamentMm', 'suppressNotification', 'showSmartPausePopup'] as const;

/** The node's actions, by the name msg.action and the editor use. */
export const ACTIONS: Readonly<Record<string, Action>> = {
  status: { command: 'status', args: [], run: (c, _a, o) => c.status(o) },
  ping: { command: 'ping', args: [], run: (c, _a, o) => c.ping(o) },
  pause: { command: 'pause', args: PAUSE_ARGS, stateError: 'errors.state-pause', run: (c, a, o) => c.pause(a, o) },
  resume: { command: 'resume', args: [], stateError: 'errors.state-resume', run: (c, _a, o) => c.resume(o) },
  cancel: { command: 'cancel', args: [], stateError: 'errors.state-cancel', run: (c, _a, o) => c.cancel(o) },
  home: { command: 'home', args: [], stateError: 'errors.state-busy', run: (c, _a, o) => c.home(o) },
  'set-light': {
    command: 'set-light',
    args: ['name', 'on'],
    editorFields: { name: 'lightName', on: 'lightOn' },
    run: (c, a, o) => c.setLight(a.name as string, a.on as boolean, o),
  },
  'set-temp': { command: 'set-temp', args: ['bedC', 'chamberC', 'toolC', 'toolNumber'], run: (c, a, o) => c.setTemp(a, o) },
  'move-axis': {
    command: 'move-axis',
    args: ['axis', 'distanceMm'],
    editorFields: { distanceMm: 'moveDistanceMm' },
    stateError: 'errors.state-busy',
    run: (c, a, o) => c.moveAxis(a.axis as string, a.distanceMm as number, o),
  },
  extrude: {
    command: 'extrude',
    args: ['extruder', 'distanceMm'],
    editorFields: { distanceMm: 'extrudeDistanceMm' },
    stateError: 'errors.state-busy',
    run: (c, a, o) => c.extrude(a.extruder as number, a.distanceMm as number, o),
  },
  start: {
    command: 'start',
    args: ['path', 'storage', 'plate', 'useAms', 'amsMapping', 'flowCali', 'timelapse', 'bedLeveling', 'vibrationCali', 'layerInspect'],
    stateError: 'errors.state-busy',
    run: (c, a, o) => c.start(a as unknown as StartOptions, o),
  },
  'list-files': {
    command: 'files/list',
    args: ['root', 'path'],
    editorFields: { path: 'folder' },
    run: (c, a, o) => c.listFiles(a, o),
  },
  'delete-file': { command: 'files/delete', args: ['path'], stateError: 'errors.state-delete', run: (c, a, o) => c.deleteFile(a.path as string, o) },
};

export const ACTION_NAMES = Object.keys(ACTIONS);

/** The actions a printer with these `Features` bits can run; actions that need no bit are always included. */
export function actionsFor(features: number): string[] {
  return ACTION_NAMES.filter((name) => {
    const bit = COMMAND_FEATURE[ACTIONS[name].command];
    return bit === undefined || (features & bit) !== 0;
  });
}

/** msg.action when it is given, else the editor's; anything else names the allowed ones. */
export function actionOf(requested: unknown, editorAction: string, t: Translate): string {
  const name = requested === undefined || requested === null || requested === '' ? editorAction : requested;
  const normal = typeof name === 'string' ? name.trim().toLowerCase() : '';
  if (!Object.prototype.hasOwnProperty.call(ACTIONS, normal)) {
    throw new InvalidArgumentError(t('errors.unknown-action', { actions: ACTION_NAMES.join(', ') }));
  }
  return normal;
}

/**
 * msg.payload's keys under the action's own argument names. A payload that is not an object (an
 * inject's timestamp, a button's string) carries no arguments. An object key the action does not
 * take is refused, so a command never runs with an argument it silently dropped.
 */
export function payloadArguments(name: string, action: Action, payload: unknown, t: Translate): Args {
  if (!isObject(payload) || Buffer.isBuffer(payload)) return {};
  const byLowerCase = new Map(action.args.map((arg) => [arg.toLowerCase(), arg]));
  const args: Args = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(payload)) {
    const arg = byLowerCase.get(key.toLowerCase());
    if (arg === undefined) unknown.push(key);
    else if (Object.prototype.hasOwnProperty.call(args, arg)) {
      throw new InvalidArgumentError(t('errors.duplicate-argument', { action: name, arg }));
    } else args[arg] = value;
  }
  if (unknown.length > 0) {
    const keys = unknown.slice(0, 5).join(', ') + (unknown.length > 5 ? ', …' : '');
    throw new InvalidArgumentError(
      action.args.length > 0
        ? t('errors.unknown-arguments', { action: name, keys, args: action.args.join(', ') })
        : t('errors.no-arguments', { action: name, keys }),
    );
  }
  return args;
}

/**
 * 786 and 788 in the words of the action that got them; other failures keep the client's text.
 * Keyed by code, not by behaviour: both are `refused`, and it is their wording that differs.
 */
export function inWords(err: unknown, name: string, action: Action, t: Translate): unknown {
  if (!(err instanceof OctoEverywhereError)) return err;
  const key = err.status === 788 ? 'errors.not-supported' : err.status === 786 ? action.stateError : undefined;
  if (!key) return err;
  return new CommandError(err.code, t(key, { action: name }), { status: err.status, kind: err.kind });
}

/**
 * The arguments an action runs with: the editor's values (when given) overridden by msg.payload's
 * arguments. Empty editor fields and null payload values mean "not set", so the printer's default applies.
 */
export function argumentsFor(action: Action, editor: Record<string, unknown> | undefined, payload: Args): Args {
  const args: Args = {};
  for (const arg of action.args) {
    const fromEditor = editor?.[action.editorFields?.[arg] ?? arg];
    const value = payload[arg] !== undefined ? payload[arg] : fromEditor;
    if (value !== undefined && value !== null && value !== '') args[arg] = value;
  }
  return args;
}
