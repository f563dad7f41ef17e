// The OctoEverywhere plugin's printer-agnostic command API (docs/octoeverywhere.md §7), reached through the relay under
// /octoeverywhere-command-api/. Arguments are checked here, before anything is sent, and always go in
// a JSON body: the query-string form would turn booleans and numbers into strings.
import type { Readable } from 'node:stream';
import type { AppConnection, CallOptions, PrinterResponse } from './connection';
import { commandError, InvalidArgumentError, OctoEverywhereError } from './errors';
import { checkBoolean, checkNumber, checkString } from './validate';
import { isObject, toInt } from './values';

export const COMMAND_API_PATH = '/octoeverywhere-command-api';

/** `Features` bits of the status command. */
export const FEATURES = {
  light: 1,
  moveAxis: 2,
  home: 4,
  extrude: 8,
  temperature: 16,
  printStart: 32,
} as const;

/** Which command each feature bit unlocks; commands not listed here need no feature bit. */
export const COMMAND_FEATURE: Readonly<Record<string, number>> = {
  'set-light': FEATURES.light,
  'move-axis': FEATURES.moveAxis,
  home: FEATURES.home,
  extrude: FEATURES.extrude,
  'set-temp': FEATURES.temperature,
  start: FEATURES.printStart,
};

export interface PauseOptions {
  smartPause?: boolean;
  disableHotend?: boolean;
  disableBed?: boolean;
  zLiftMm?: number;
  retractFilamentMm?: number;
  suppressNotification?: boolean;
  showSmartPausePopup?: boolean;
}

export interface StartOptions {
  /** Virtual path under gcode/. */
  path: string;
  /** PrusaLink only (default `local`). */
  storage?: string;
  /** Bambu Lab .3mf keys; unset ones take the printer's default. */
  plate?: number;
  useAms?: boolean;
  /** Filament source per slot, from MaterialSystem.Sources[].PrintMappingValue (-1 = unmapped). */
  amsMapping?: number[];
  flowCali?: boolean;
  timelapse?: boolean;
  bedLeveling?: boolean;
  vibrationCali?: boolean;
  layerInspect?: boolean;
}

/** Start's boolean options and their wire names. */
const START_FLAGS: ReadonlyArray<[keyof StartOptions, string]> = [
  ['useAms', 'UseAms'],
  ['flowCali', 'FlowCali'],
  ['timelapse', 'Timelapse'],
  ['bedLeveling', 'BedLeveling'],
  ['vibrationCali', 'VibrationCali'],
  ['layerInspect', 'LayerInspect'],
];
const MAX_AMS_SLOTS = 64;

export interface SetTempOptions {
  bedC?: number;
  chamberC?: number;
  toolC?: number;
  toolNumber?: number;
}

export interface Webcam {
  name: string;
  index: number;
  flipH: boolean;
  flipV: boolean;
  rotation: number;
  enabled: boolean;
  snapshotUrl?: string;
  streamUrl?: string;
}

export interface WebcamList {
  defaultIndex: number;
  webcams: Webcam[];
}

export interface WebcamTransform {
  flipH: boolean;
  flipV: boolean;
  rotation: number;
  /** The header as sent, e.g. `fliph rotate=90`. */
  raw: string;
}

export interface Snapshot {
  image: Buffer;
  contentType: string;
  transform: WebcamTransform;
}

export interface MjpegStreamResponse {
  stream: Readable;
  contentType: string;
  /** From the Content-Type; undefined when the server named none. */
  boundary?: string;
  /** From `x-oe-webcam-transform` when the stream carries it (the plugin's does; camera streams may not). */
  transform?: WebcamTransform;
}

/** The status command's Result as the wire has it; see status.ts for the normalised form. */
export type StatusWire = Record<string, unknown>;

export class CommandApi {
  constructor(private readonly connection: AppConnection) {}

  /** Sends any command; returns its Result. Typed helpers below check their arguments first. */
  async send(command: string, args?: Record<string, unknown>, query?: string, options: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.#call(command, { method: args ? 'POST' : 'GET', args, query }, options);
  }

  async #call(
    command: string,
    req: { method: 'GET' | 'POST'; args?: Record<string, unknown>; query?: string },
    options: CallOptions,
  ): Promise<Record<string, unknown>> {
    const name = checkCommandName(command);
    const res = await this.connection.request<Buffer>({
      method: req.method,
      path: `${COMMAND_API_PATH}/${name}${req.query ? `?${req.query}` : ''}`,
      body: req.args,
      responseType: 'buffer',
      via: 'relay',
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    return parseEnvelope(res, name);
  }

  async status(options: { includeMaterialSystem?: boolean } & CallOptions = {}): Promise<StatusWire> {
    return this.send('status', undefined, options.includeMaterialSystem ? 'IncludeMaterialSystem=true' : undefined, options);
  }

  async ping(options: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.send('ping', undefined, undefined, options);
  }

  async webcamList(options: CallOptions = {}): Promise<WebcamList> {
    const r = await this.send('webcam/list', undefined, undefined, options);
    const list = Array.isArray(r.Webcams) ? r.Webcams : [];
    return {
      defaultIndex: toInt(r.DefaultIndex) ?? 0,
      webcams: list.filter(isObject).map((w, index) => ({
        name: typeof w.Name === 'string' ? w.Name : `Webcam ${index + 1}`,
        index,
        flipH: w.FlipH === true,
        flipV: w.FlipV === true,
        rotation: toInt(w.Rotation) ?? 0,
        enabled: w.Enabled !== false,
        snapshotUrl: typeof w.SnapshotUrl === 'string' ? w.SnapshotUrl : undefined,
        streamUrl: typeof w.StreamUrl === 'string' ? w.StreamUrl : undefined,
      })),
    };
  }

  /** A JPEG from the webcam at `index` (the plugin falls back to webcam 0 when out of range). */
  async snapshot(index?: number, options: CallOptions = {}): Promise<Snapshot> {
    const res = await this.connection.request<Buffer>({
      path: `${COMMAND_API_PATH}/webcam/snapshot${webcamQuery(index)}`,
      responseType: 'buffer',
      via: 'relay',
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
    const contentType = res.headers['content-type'] ?? '';
    if (res.statusCode !== 200 || mentionsJson(contentType)) throw rawEndpointError(res, 'webcam snapshot');
    return { image: res.body, contentType: contentType || 'image/jpeg', transform: parseTransform(res.headers['x-oe-webcam-transform']) };
  }

  /** The webcam's MJPEG stream; the caller owns the stream and must destroy it. */
  async stream(index?: number, options: CallOptions = {}): Promise<MjpegStreamResponse> {
    const res = await this.connection.request<Readable>({
      path: `${COMMAND_API_PATH}/webcam/stream${webcamQuery(index)}`,
      responseType: 'stream',
      via: 'relay',
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    const contentType = res.headers['content-type'] ?? '';
    if (res.statusCode !== 200 || !/^multipart\//i.test(contentType)) {
      const body = await readAll(res.body, 64 * 1024);
      throw rawEndpointError({ ...res, body }, 'webcam stream');
    }
    const transform = res.headers['x-oe-webcam-transform'];
    return { stream: res.body, contentType, boundary: boundaryOf(contentType), transform: transform === undefined ? undefined : parseTransform(transform) };
  }

  async pause(options: PauseOptions = {}, call: CallOptions = {}): Promise<Record<string, unknown>> {
    if (!isObject(options)) throw new InvalidArgumentError('pause takes an options object (or none).');
    const body: Record<string, unknown> = {};
    const bools: Array<[keyof PauseOptions, string]> = [
      ['smartPause', 'SmartPause'],
      ['disableHotend', 'DisableHotend'],
      ['disableBed', 'DisableBed'],
      ['suppressNotification', 'SuppressNotification'],
      ['showSmartPausePopup', 'ShowSmartPausePopup'],
    ];
    for (const [key, wire] of bools) if (options[key] !== undefined) body[wire] = checkBoolean(options[key], key);
    if (options.zLiftMm !== undefined) body.ZLiftMm = checkNumber(options.zLiftMm, 'zLiftMm', 0, 50);
    if (options.retractFilamentMm !== undefined) body.RetractFilamentMm = checkNumber(options.retractFilamentMm, 'retractFilamentMm', 0, 50);
    return this.send('pause', body, undefined, call);
  }

  async resume(call: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.send('resume', {}, undefined, call);
  }

  async cancel(call: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.send('cancel', {}, undefined, call);
  }

  async home(call: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.send('home', {}, undefined, call);
  }

  async start(options: StartOptions, call: CallOptions = {}): Promise<Record<string, unknown>> {
    if (!isObject(options)) throw new InvalidArgumentError('start needs { path } (a file under gcode/).');
    const body: Record<string, unknown> = { Path: checkString(options.path, 'path') };
    if (options.storage !== undefined) body.Storage = checkString(options.storage, 'storage', 64);
    if (options.plate !== undefined) body.Plate = checkNumber(options.plate, 'plate', 1, 64, true);
    for (const [key, wire] of START_FLAGS) if (options[key] !== undefined) body[wire] = checkBoolean(options[key], key);
    if (options.amsMapping !== undefined) {
      const slots: unknown = options.amsMapping;
      if (!Array.isArray(slots) || slots.length > MAX_AMS_SLOTS)
        throw new InvalidArgumentError(`amsMapping must be an array of at most ${MAX_AMS_SLOTS} slot numbers.`);
      body.AmsMapping = slots.map((slot: unknown) => checkNumber(slot, 'amsMapping slot', -1, 255, true));
    }
    return this.send('start', body, undefined, call);
  }

  async setLight(name: string, on: boolean, call: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.send('set-light', { Name: checkString(name, 'Light name', 128), On: checkBoolean(on, 'on') }, undefined, call);
  }

  async moveAxis(axis: string, distanceMm: number, call: CallOptions = {}): Promise<Record<string, unknown>> {
    const a = typeof axis === 'string' ? axis.toUpperCase() : '';
    if (a !== 'X' && a !== 'Y' && a !== 'Z') throw new InvalidArgumentError('axis must be "X", "Y" or "Z".');
    return this.send('move-axis', { Axis: a, DistanceMm: checkNumber(distanceMm, 'distanceMm', -1000, 1000) }, undefined, call);
  }

  async extrude(extruder: number, distanceMm: number, call: CallOptions = {}): Promise<Record<string, unknown>> {
    const body = { Extruder: checkNumber(extruder, 'extruder', 0, 16, true), DistanceMm: checkNumber(distanceMm, 'distanceMm', -1000, 1000) };
    return this.send('extrude', body, undefined, call);
  }

  /** Sets temperatures (°C, 0 = off); at least one of bed, chamber, tool. */
  async setTemp(options: SetTempOptions, call: CallOptions = {}): Promise<Record<string, unknown>> {
    if (!isObject(options)) throw new InvalidArgumentError('set-temp needs at least one of bedC, chamberC, toolC.');
    const body: Record<string, unknown> = {};
    if (options.bedC !== undefined) body.BedC = checkNumber(options.bedC, 'bedC', 0, 75);
    if (options.chamberC !== undefined) body.ChamberC = checkNumber(options.chamberC, 'chamberC', 0, 75);
    if (options.toolC !== undefined) body.ToolC = checkNumber(options.toolC, 'toolC', 0, 260);
    if (options.toolNumber !== undefined) body.ToolNumber = checkNumber(options.toolNumber, 'toolNumber', 0, 16, true);
    if (body.BedC === undefined && body.ChamberC === undefined && body.ToolC === undefined) {
      throw new InvalidArgumentError('set-temp needs at least one of bedC, chamberC, toolC.');
    }
    return this.send('set-temp', body, undefined, call);
  }

  async listFiles(options: { root?: 'gcode' | 'config' | 'logs'; path?: string } = {}, call: CallOptions = {}): Promise<Record<string, unknown>> {
    if (!isObject(options)) throw new InvalidArgumentError('listFiles takes an options object (or none).');
    if (options.path !== undefined) return this.send('files/list', undefined, `path=${encodeURIComponent(checkFilePath(options.path))}`, call);
    if (options.root !== undefined && !['gcode', 'config', 'logs'].includes(options.root)) {
      throw new InvalidArgumentError('root must be "gcode", "config" or "logs".');
    }
    return this.send('files/list', undefined, options.root ? `root=${options.root}` : undefined, call);
  }

  async fileDetails(path: string): Promise<Record<string, unknown>> {
    return this.send('files/details', undefined, `path=${encodeURIComponent(checkFilePath(path))}`);
  }

  /**
   * Deletes a file. POST with no body: the plugin reads the query string only when there is no JSON
   * body, so an empty `{}` body would hide the path from it.
   */
  async deleteFile(path: string, call: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.#call('files/delete', { method: 'POST', query: `path=${encodeURIComponent(checkFilePath(path))}` }, call);
  }

  /** Uploads raw bytes to a virtual path (e.g. gcode/part.gcode). */
  async uploadFile(path: string, data: Buffer | Readable, options: { timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    const res = await this.connection.request<Buffer>({
      method: 'PUT',
      path: `${COMMAND_API_PATH}/files/upload?path=${encodeURIComponent(checkFilePath(path))}`,
      body: data,
      responseType: 'buffer',
      via: 'relay',
      timeoutMs: options.timeoutMs,
    });
    return parseEnvelope(res, 'files/upload');
  }

  async downloadFile(path: string, options: { maxBytes?: number; timeoutMs?: number } = {}): Promise<Buffer> {
    const res = await this.connection.request<Buffer>({
      path: `${COMMAND_API_PATH}/files/download?path=${encodeURIComponent(checkFilePath(path))}`,
      responseType: 'buffer',
      via: 'relay',
      maxResponseBytes: options.maxBytes,
      timeoutMs: options.timeoutMs,
    });
    if (res.statusCode !== 200 || mentionsJson(res.headers['content-type'] ?? '')) throw rawEndpointError(res, 'files/download');
    return res.body;
  }
}

/** A command API envelope: Result on 200, a CommandError otherwise. */
export function parseEnvelope(res: PrinterResponse<Buffer>, command: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    if (res.statusCode !== 200) throw commandError(res.statusCode, command);
    throw new OctoEverywhereError('OE_INVALID_RESPONSE', `The ${command} command's answer is not valid JSON.`, { kind: 'temporary' });
  }
  if (!isObject(body)) throw new OctoEverywhereError('OE_INVALID_RESPONSE', `The ${command} command's answer has an unexpected shape.`, { kind: 'temporary' });
  const status = toInt(body.Status) ?? res.statusCode;
  if (status !== 200) throw commandError(status, command, typeof body.Error === 'string' ? body.Error : undefined);
  return isObject(body.Result) ? body.Result : {};
}

/** A raw endpoint (snapshot, stream, download) answered with an error envelope instead of data. */
function rawEndpointError(res: PrinterResponse<Buffer>, command: string): OctoEverywhereError {
  try {
    parseEnvelope(res, command);
  } catch (err) {
    if (err instanceof OctoEverywhereError) return err;
  }
  return commandError(res.statusCode === 200 ? 750 : res.statusCode, command);
}

function checkCommandName(command: string): string {
  if (typeof command !== 'string' || !/^[a-z][a-z0-9-]*(\/[a-z][a-z0-9-]*)?$/i.test(command)) {
    throw new InvalidArgumentError('The command name must look like "status" or "webcam/list".');
  }
  return command.toLowerCase();
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkFilePath(path: unknown): string {
  const p = checkString(path, 'The file path', 1024);
  if (p.split('/').some((s) => s === '..')) throw new InvalidArgumentError('The file path must not contain "..".', 'OE_INVALID_PATH');
  // A lone surrogate cannot be percent-encoded (encodeURIComponent throws a URIError).
  if (LONE_SURROGATE.test(p)) throw new InvalidArgumentError('The file path contains an invalid Unicode character.', 'OE_INVALID_PATH');
  return p;
}

function webcamQuery(index: number | undefined): string {
  if (index === undefined) return '';
  return `?index=${checkNumber(index, 'The webcam index', 0, 64, true)}`;
}

/** Loose on purpose: any answer that mentions JSON is read as a possible error envelope. */
function mentionsJson(contentType: string): boolean {
  return /json/i.test(contentType);
}

/** `x-oe-webcam-transform`: `none`, or words such as `fliph flipv rotate=90`. */
export function parseTransform(header: string | undefined): WebcamTransform {
  const raw = (header ?? 'none').trim() || 'none';
  const words = raw.toLowerCase().split(/\s+/);
  const rotate = words.find((w) => w.startsWith('rotate='));
  return {
    flipH: words.includes('fliph'),
    flipV: words.includes('flipv'),
    rotation: rotate ? (toInt(rotate.slice('rotate='.length)) ?? 0) : 0,
    raw,
  };
}

export function boundaryOf(contentType: string): string | undefined {
  const m = /boundary=("?)([^";]+)\1/i.exec(contentType);
  return m ? m[2].replace(/^--/, '') : undefined;
}

async function readAll(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    chunks.push(b);
    size += b.length;
    if (size >= max) break;
  }
  stream.destroy();
  return Buffer.concat(chunks);
}
