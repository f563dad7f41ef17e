// The OctoEverywhere plugin's command API (docs/octoeverywhere.md §7) as every simulated printer serves it under
// /octoeverywhere-command-api/: routing by lower-cased path prefix whatever the method, arguments
// from a JSON body or else from the query string (keys lower-cased, values strings), JSON answers
// in the {"Status","Result"|"Error"} envelope with HTTP 200, raw endpoints with real HTTP codes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PrinterContext } from './context';
import { FileStore, FILE_ROOTS, type FileRoot } from './files';
import { parseJsonObject, readBody, requestUrl, sendBytes, sendJson } from './http';
import { serveMjpeg } from './mjpeg';
import { Feature } from './platform';
import { buildStatus } from './status';
import type { SimWebcam } from './webcam';

export const COMMAND_API_PREFIX = '/octoeverywhere-command-api/';

/** The envelope codes of docs/octoeverywhere.md §7 that the simulated plugin produces. */
export const CommandStatus = {
  Ok: 200,
  BadRequest: 400,
  UnknownFailure: 750,
  BadArguments: 751,
  ExecutionFailed: 752,
  UnknownCommand: 754,
  HostNotConnected: 785,
  InvalidPrinterState: 786,
  NotSupported: 788,
} as const;

export class CommandError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Arguments by lower-cased name: typed JSON values, or strings from a query string. */
type Args = ReadonlyMap<string, unknown>;

interface Io {
  req: IncomingMessage;
  res: ServerResponse;
  body: Buffer;
}

interface Command {
  /** Lower-case path below the prefix; a request path that starts with it selects the command. */
  path: string;
  feature?: number;
  /** Answers even while the plugin cannot reach the printer host (it does not need the host). */
  hostIndependent?: boolean;
  /** Writes its own response; errors use real HTTP codes. */
  raw?: boolean;
  /** The body is a payload (upload), so arguments come from the query string only. */
  bodyIsPayload?: boolean;
  run(ctx: PrinterContext, args: Args, io: Io): unknown;
}

export async function handleCommandApi(ctx: PrinterContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = requestUrl(req);
  const sub = url.pathname.toLowerCase().slice(COMMAND_API_PREFIX.length);
  const command = COMMANDS.find((c) => sub.startsWith(c.path));
  try {
    const body = await readBody(req);
    if (!command) throw new CommandError(CommandStatus.UnknownCommand, "The command path didn't match any known commands.");
    if (!ctx.hostConnected && !command.hostIndependent) {
      throw new CommandError(CommandStatus.HostNotConnected, 'Host not connected');
    }
    if (command.feature !== undefined && (ctx.platform.features & command.feature) === 0) {
      throw new CommandError(CommandStatus.NotSupported, `This command is not supported on ${ctx.kind}.`);
    }
    const args = command.bodyIsPayload ? queryArgs(url) : parseArgs(body, url);
    const result = await command.run(ctx, args, { req, res, body });
    if (!command.raw) sendJson(res, 200, { Status: CommandStatus.Ok, Result: result ?? {} }, 'text/json');
  } catch (err) {
    const error = err instanceof CommandError ? err : new CommandError(CommandStatus.UnknownFailure, String(err));
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = { Status: error.status, Error: error.message };
    if (command?.raw) sendJson(res, error.status >= 100 && error.status <= 599 ? error.status : 400, body, 'text/json');
    else sendJson(res, 200, body, 'text/json');
  }
}

// ---- arguments ----

function queryArgs(url: URL): Args {
  const args = new Map<string, unknown>();
  for (const [key, value] of url.searchParams) args.set(key.toLowerCase(), value);
  return args;
}

function parseArgs(body: Buffer, url: URL): Args {
  let json: Record<string, unknown> | undefined;
  try {
    json = parseJsonObject(body);
  } catch {
    throw new CommandError(CommandStatus.BadArguments, 'The request body is not valid JSON.');
  }
  if (!json) return queryArgs(url);
  return new Map(Object.entries(json).map(([k, v]) => [k.toLowerCase(), v]));
}

const badArg = (name: string, expected: string): CommandError => new CommandError(CommandStatus.BadArguments, `Argument ${name} must be ${expected}.`);

function optString(args: Args, name: string): string | undefined {
  const value = args.get(name.toLowerCase());
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badArg(name, 'a string');
  return value;
}

function reqString(args: Args, name: string): string {
  const value = optString(args, name);
  if (value === undefined || value === '') throw badArg(name, 'a non-empty string');
  return value;
}

/** A typed bool: the query string's "true" is a string, not a bool. */
function optBool(args: Args, name: string): boolean | undefined {
  const value = args.get(name.toLowerCase());
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badArg(name, 'a bool');
  return value;
}

function optNumber(args: Args, name: string): number | undefined {
  const value = args.get(name.toLowerCase());
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badArg(name, 'a number');
  return value;
}

function reqNumber(args: Args, name: string): number {
  const value = optNumber(args, name);
  if (value === undefined) throw badArg(name, 'a number');
  return value;
}

/** A flag that may also come from the query string (`IncludeMaterialSystem=true`). */
function flag(args: Args, name: string): boolean {
  const value = args.get(name.toLowerCase());
  return value === true || (typeof value === 'string' && value.toLowerCase() === 'true');
}

// ---- webcams ----

/** The webcam for an index argument; out-of-range or unparsable indexes fall back to webcam 0. */
export function pickWebcam(webcams: readonly SimWebcam[], index: unknown): SimWebcam | undefined {
  const n = typeof index === 'number' ? index : typeof index === 'string' && index.trim() !== '' ? Number(index) : 0;
  return (Number.isInteger(n) ? webcams[n] : undefined) ?? webcams[0];
}

function requireWebcam(ctx: PrinterContext, args: Args): SimWebcam {
  const webcam = pickWebcam(ctx.webcams, args.get('index'));
  if (!webcam) throw new CommandError(CommandStatus.UnknownCommand, 'No webcam is configured.');
  return webcam;
}

/** The printer's own (mjpg-streamer style) URLs of webcam N, relative to its origin. */
export function nativeWebcamUrls(ctx: PrinterContext, index: number): { SnapshotUrl: string; StreamUrl: string } {
  if (ctx.kind === 'bambu' || ctx.kind === 'elegoo-cc2') {
    return {
      SnapshotUrl: `${COMMAND_API_PREFIX}webcam/snapshot?index=${index}`,
      StreamUrl: `${COMMAND_API_PREFIX}webcam/stream?index=${index}`,
    };
  }
  const base = index === 0 ? '/webcam/' : `/webcam${index + 1}/`;
  return { SnapshotUrl: `${base}?action=snapshot`, StreamUrl: `${base}?action=stream` };
}

// ---- printer state ----

function requireState(ok: boolean, what: string): void {
  if (!ok) throw new CommandError(CommandStatus.InvalidPrinterState, `The printer is not in a state to ${what}.`);
}

function notWhilePrinting(ctx: PrinterContext, what: string): void {
  requireState(!ctx.sim.active, what);
}

/** Temperature arguments and their allowed ranges in °C (0 turns the heater off). */
const TEMP_ARGS = [
  { arg: 'BedC', heater: 'bed', max: 75 },
  { arg: 'ChamberC', heater: 'chamber', max: 75 },
  { arg: 'ToolC', heater: 'hotend', max: 260 },
] as const;

// ---- files ----

function filePath(args: Args): { root: FileRoot; rel: string } {
  const parsed = FileStore.parse(reqString(args, 'path'));
  if (!parsed || parsed.rel === '') throw badArg('path', 'a file path');
  return parsed;
}

function existingFile(ctx: PrinterContext, args: Args, missingStatus: number) {
  const { root, rel } = filePath(args);
  const file = ctx.files.get(root, rel);
  if (!file) throw new CommandError(missingStatus, `File ${root}/${rel} not found.`);
  return file;
}

// ---- the commands ----

const COMMAND_LIST: Command[] = [
  { path: 'ping', hostIndependent: true, run: () => ({ Message: 'Pong' }) },
  { path: 'status', run: (ctx, args) => buildStatus(ctx, flag(args, 'IncludeMaterialSystem')) },
  {
    path: 'webcam/list',
    hostIndependent: true,
    run: (ctx) => ({
      DefaultIndex: 0,
      Webcams: ctx.webcams.map((w, i) => ({ ...w.settings, ...nativeWebcamUrls(ctx, i) })),
    }),
  },
  {
    path: 'webcam/snapshot',
    hostIndependent: true,
    raw: true,
    run: (ctx, args, { res }) => {
      const webcam = requireWebcam(ctx, args);
      sendBytes(res, 200, webcam.jpeg(), {
        'Content-Type': 'image/jpeg',
        'Cache-Control': 'no-store',
        'x-oe-webcam-transform': webcam.transform,
      });
    },
  },
  {
    path: 'webcam/stream',
    hostIndependent: true,
    raw: true,
    run: (ctx, args, { req, res }) => {
      const webcam = requireWebcam(ctx, args);
      serveMjpeg(req, res, webcam, ctx.clock, {
        boundary: 'oestreamboundary',
        firstFrameTwice: true,
        timestampHeader: false,
        noFrameTimeoutMs: ctx.realMs(60_000),
        registry: ctx.streams,
        headers: { 'x-oe-webcam-transform': webcam.transform },
      });
    },
  },
  {
    path: 'pause',
    run: (ctx, args) => {
      // Every option is typed-checked even where the simulation has no use for it.
      optBool(args, 'SmartPause');
      optNumber(args, 'ZLiftMm');
      optNumber(args, 'RetractFilamentMm');
      optBool(args, 'ShowSmartPausePopup');
      const ok = ctx.sim.pause({
        disableHotend: optBool(args, 'DisableHotend'),
        disableBed: optBool(args, 'DisableBed'),
        suppressNotification: optBool(args, 'SuppressNotification'),
      });
      requireState(ok, 'pause');
    },
  },
  { path: 'resume', run: (ctx) => requireState(ctx.sim.resume(), 'resume') },
  { path: 'cancel', run: (ctx) => requireState(ctx.sim.cancel(), 'cancel') },
  {
    path: 'home',
    feature: Feature.Home,
    run: (ctx) => {
      notWhilePrinting(ctx, 'home');
      Object.assign(ctx.sim.position, { x: 0, y: 0, z: 0, homed: true });
    },
  },
  {
    path: 'start',
    feature: Feature.PrintStart,
    run: (ctx, args) => {
      optString(args, 'Storage');
      optBool(args, 'UseAms');
      const file = existingFile(ctx, args, CommandStatus.ExecutionFailed);
      if (file.root !== 'gcode') throw badArg('Path', 'a file under gcode/');
      notWhilePrinting(ctx, 'start a print');
      ctx.sim.startPrint(file.rel.split('/').pop());
      return ctx.files.paths(file.root, file.rel);
    },
  },
  {
    path: 'set-light',
    feature: Feature.Light,
    run: (ctx, args) => {
      const name = reqString(args, 'Name');
      const on = optBool(args, 'On');
      if (on === undefined) throw badArg('On', 'a bool');
      if (!ctx.sim.setLight(name, on)) throw badArg('Name', `one of ${ctx.sim.lights.map((l) => l.Name).join(', ')}`);
    },
  },
  {
    path: 'move-axis',
    feature: Feature.AxisMove,
    run: (ctx, args) => {
      const axis = reqString(args, 'Axis').toLowerCase();
      if (axis !== 'x' && axis !== 'y' && axis !== 'z') throw badArg('Axis', 'X, Y or Z');
      const distance = reqNumber(args, 'DistanceMm');
      notWhilePrinting(ctx, 'move');
      ctx.sim.position[axis] += distance;
    },
  },
  {
    path: 'extrude',
    feature: Feature.Extrude,
    run: (ctx, args) => {
      const extruder = optNumber(args, 'Extruder') ?? 0;
      if (!Number.isInteger(extruder) || extruder !== 0) throw badArg('Extruder', 'the index of an extruder (0)');
      reqNumber(args, 'DistanceMm');
      notWhilePrinting(ctx, 'extrude');
    },
  },
  {
    path: 'set-temp',
    feature: Feature.Temperature,
    run: (ctx, args) => {
      const tool = optNumber(args, 'ToolNumber') ?? 0;
      if (tool !== 0) throw new CommandError(CommandStatus.BadRequest, 'ToolNumber must be 0: this printer has one tool.');
      const settings = TEMP_ARGS.map((t) => ({ ...t, value: optNumber(args, t.arg) })).filter((t) => t.value !== undefined);
      if (settings.length === 0) throw new CommandError(CommandStatus.BadRequest, 'Give at least one of BedC, ChamberC, ToolC.');
      for (const t of settings) {
        if (t.value === undefined || t.value < 0 || t.value > t.max) {
          throw new CommandError(CommandStatus.BadRequest, `${t.arg} must be between 0 and ${t.max}.`);
        }
      }
      for (const t of settings) if (t.value !== undefined) ctx.sim.setTarget(t.heater, t.value);
    },
  },
  {
    path: 'files/list',
    run: (ctx, args) => {
      const path = optString(args, 'path');
      if (path !== undefined) {
        const parsed = FileStore.parse(path);
        if (!parsed) throw badArg('path', 'a folder path');
        return { Files: ctx.files.list(parsed.root, parsed.rel).map((f) => ctx.files.info(f)) };
      }
      const rootArg = (optString(args, 'root') ?? 'gcode').toLowerCase();
      const root = FILE_ROOTS.find((r) => r === rootArg);
      if (!root) throw badArg('root', FILE_ROOTS.join(', '));
      return { Files: ctx.files.list(root).map((f) => ctx.files.info(f)) };
    },
  },
  { path: 'files/details', run: (ctx, args) => ctx.files.info(existingFile(ctx, args, CommandStatus.ExecutionFailed)) },
  {
    path: 'files/upload',
    bodyIsPayload: true,
    run: (ctx, args, { body }) => {
      const { root, rel } = filePath(args);
      const file = ctx.files.put(root, rel, body);
      return { ...ctx.files.paths(root, rel), SizeBytes: file.data.length };
    },
  },
  {
    path: 'files/download',
    raw: true,
    run: (ctx, args, { res }) => {
      const file = existingFile(ctx, args, 404);
      sendBytes(res, 200, file.data, {
        'Content-Type': 'application/octet-stream',
        'Content-Disposition': `attachment; filename="${ctx.files.info(file).Name}"`,
      });
    },
  },
  {
    path: 'files/delete',
    run: (ctx, args) => {
      const file = existingFile(ctx, args, CommandStatus.ExecutionFailed);
      if (ctx.sim.active && file.root === 'gcode' && ctx.sim.job?.fileName === ctx.files.info(file).Name) {
        throw new CommandError(CommandStatus.InvalidPrinterState, 'The file is being printed.');
      }
      ctx.files.delete(file.root, file.rel);
    },
  },
];

/** Longest path first, so a command is never shadowed by a shorter command that prefixes it. */
const COMMANDS = [...COMMAND_LIST].sort((a, b) => b.path.length - a.path.length);
