// OctoPrint's own API as the relay reaches it (docs/octoeverywhere.md §9): REST under /api/ behind X-Api-Key, the
// passive login that yields a session for the push socket, the push socket /sockjs/websocket
// (raw WebSocket), the OctoEverywhere plugin's /api/plugin/octoeverywhere and mjpg-streamer.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { JobState, SimTimer } from '../contract';
import type { PrinterContext } from './context';
import type { StoredFile } from './files';
import { isRecord, parseJsonObject, readBody, sendJson } from './http';
import { parseMultipart } from './multipart';
import { serveNativeWebcam, type NativeApi } from './native';
import { PLUGIN_VERSION } from './platform';

const USER = 'admin';
const ACTIVE: ReadonlySet<JobState> = new Set<JobState>(['warmingup', 'printing', 'paused', 'resuming']);

export function createOctoPrintApi(ctx: PrinterContext): NativeApi {
  /** Session id → user, from passive logins. */
  const sessions = new Map<string, string>();
  const authed = new Set<WebSocket>();
  let pushTimer: SimTimer | undefined;

  const send = (socket: WebSocket, message: unknown): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  const broadcast = (message: unknown): void => {
    for (const socket of authed) send(socket, message);
  };

  // OctoPrint's event names for the simulation's state changes.
  let previous = ctx.sim.state;
  const onState = (next: JobState): void => {
    const was = previous;
    previous = next;
    const file = fileRef(ctx);
    const events: Array<[string, Record<string, unknown>]> = [];
    if (next === 'warmingup' && !ACTIVE.has(was)) events.push(['PrintStarted', file]);
    else if (next === 'complete') events.push(['PrintDone', { ...file, time: ctx.sim.durationSec }]);
    else if (next === 'paused') events.push(['PrintPaused', file]);
    else if (next === 'resuming') events.push(['PrintResumed', file]);
    else if (next === 'idle' && ACTIVE.has(was)) {
      events.push(['PrintCancelled', file], ['PrintFailed', { ...file, reason: 'cancelled' }]);
    } else if (next === 'error') {
      events.push(['Error', { error: ctx.sim.error ?? 'error' }]);
      if (ACTIVE.has(was)) events.push(['PrintFailed', { ...file, reason: 'error' }]);
    }
    for (const [type, payload] of events) broadcast({ event: { type, payload } });
    broadcast({ current: currentMessage(ctx) });
  };
  ctx.sim.on('state', onState);

  const apiKeyOf = (req: IncomingMessage, url: URL): string | undefined => {
    const header = req.headers['x-api-key'];
    return (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('apikey') ?? undefined;
  };

  /** OctoPrint answers 401 without credentials and 403 for a key it does not know. */
  const authorized = (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    const key = apiKeyOf(req, url);
    if (key === undefined) {
      sendJson(res, 401, { error: 'You need to be logged in or provide a valid API key.' });
      return false;
    }
    if (!ctx.apiKeys.has(key)) {
      sendJson(res, 403, { error: 'Invalid API key' });
      return false;
    }
    return true;
  };

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void> = {
    'GET /api/version': (_req, res) =>
      sendJson(res, 200, { api: '0.1', server: ctx.platform.platformVersion, text: `OctoPrint ${ctx.platform.platformVersion}` }),
    'GET /api/job': (_req, res) => sendJson(res, 200, jobMessage(ctx)),
    'POST /api/job': async (req, res) => {
      const body = await jsonBody(req, res);
      if (!body) return;
      const ok = jobCommand(ctx, body);
      if (ok === undefined) sendJson(res, 400, { error: 'Unknown command' });
      else if (!ok) sendJson(res, 409, { error: 'Printer is not in a state for this command' });
      else sendEmpty(res);
    },
    'GET /api/printer': (_req, res) => sendJson(res, 200, printerMessage(ctx)),
    'GET /api/connection': (_req, res) =>
      sendJson(res, 200, {
        current: { state: stateText(ctx.sim.state), port: '/dev/ttyACM0', baudrate: 115200, printerProfile: '_default' },
        options: {
          ports: ['/dev/ttyACM0'],
          baudrates: [115200, 250000],
          printerProfiles: [{ id: '_default', name: ctx.name }],
          portPreference: null,
          baudratePreference: null,
          printerProfilePreference: '_default',
          autoconnect: true,
        },
      }),
    'POST /api/connection': (_req, res) => sendEmpty(res),
    'GET /api/files': (_req, res) => sendJson(res, 200, filesMessage(ctx)),
    'GET /api/files/local': (_req, res) => sendJson(res, 200, filesMessage(ctx)),
    'POST /api/files/local': async (req, res) => {
      const parts = parseMultipart(req.headers['content-type'], await readBody(req));
      const file = parts?.find((p) => p.name === 'file' && p.filename);
      if (!file?.filename) {
        sendJson(res, 400, { error: 'No file to upload and no folder to create' });
        return;
      }
      const name = file.filename.replace(/^.*[\\/]/, '');
      const stored = ctx.files.put('gcode', name, Buffer.from(file.data));
      const field = (n: string): boolean => parts?.find((p) => p.name === n)?.data.toString() === 'true';
      if (field('print')) ctx.sim.startPrint(name);
      const entry = fileEntry(stored);
      res.setHeader('Location', entry.refs.resource);
      sendJson(res, 201, { done: true, files: { local: { name: entry.name, path: entry.path, origin: 'local', refs: entry.refs } } });
    },
    'POST /api/login': async (req, res) => {
      const body = await jsonBody(req, res);
      if (!body) return;
      if (body.passive !== true) {
        sendJson(res, 403, { error: 'Only passive login is simulated' });
        return;
      }
      const session = randomBytes(16).toString('hex');
      sessions.set(session, USER);
      sendJson(res, 200, {
        name: USER,
        active: true,
        admin: true,
        user: true,
        apikey: null,
        session,
        groups: ['admins', 'users'],
        permissions: [],
        _is_external_client: false,
        _login_mechanism: 'apikey',
      });
    },
  };

  const jsonBody = async (req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | undefined> => {
    try {
      const body = parseJsonObject(await readBody(req));
      if (body) return body;
    } catch {
      // answered below
    }
    sendJson(res, 400, { error: 'Malformed JSON body or wrong content type in request' });
    return undefined;
  };

  const startPushing = (): void => {
    if (pushTimer) return;
    pushTimer = ctx.clock.setInterval(() => broadcast({ current: currentMessage(ctx) }), ctx.realMs(500));
  };

  return {
    socketPath: '/sockjs/websocket',
    async handle(req, res, url) {
      if (serveNativeWebcam(ctx, req, res, url)) return;
      if (url.pathname === '/api/plugin/octoeverywhere') {
        sendJson(res, 200, { PluginVersion: PLUGIN_VERSION, PrinterId: ctx.printerId });
        return;
      }
      const route = routes[`${req.method ?? 'GET'} ${url.pathname}`];
      if (!url.pathname.startsWith('/api/')) {
        sendJson(res, 404, { error: 'Not found' });
      } else if (authorized(req, res, url)) {
        if (route) await route(req, res, url);
        else sendJson(res, 404, { error: 'Not found' });
      }
    },
    onSocket(socket) {
      send(socket, {
        connected: {
          version: ctx.platform.platformVersion,
          display_version: ctx.platform.platformVersion,
          branch: 'master',
          python_version: '3.11.2',
          plugin_hash: randomBytes(16).toString('hex'),
          config_hash: randomBytes(16).toString('hex'),
          debug: false,
          safe_mode: null,
          online: true,
          permissions: [],
        },
      });
      socket.on('message', (data) => {
        let message: unknown;
        try {
          message = JSON.parse(wsText(data));
        } catch {
          return; // OctoPrint ignores what it cannot parse
        }
        if (!isRecord(message) || typeof message.auth !== 'string' || authed.has(socket)) return;
        const [user, session] = message.auth.split(':');
        if (session === undefined || sessions.get(session) !== user) return;
        authed.add(socket);
        send(socket, { history: currentMessage(ctx) });
        startPushing();
      });
      socket.on('close', () => {
        authed.delete(socket);
        if (authed.size === 0) {
          ctx.clock.clearTimer(pushTimer);
          pushTimer = undefined;
        }
      });
    },
    close() {
      ctx.sim.off('state', onState);
      ctx.clock.clearTimer(pushTimer);
      pushTimer = undefined;
    },
  };
}

function sendEmpty(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

/** Start, cancel, pause/resume through /api/job; undefined for a command OctoPrint does not know. */
function jobCommand(ctx: PrinterContext, body: Record<string, unknown>): boolean | undefined {
  const { sim } = ctx;
  switch (body.command) {
    case 'start':
      return sim.startPrint();
    case 'cancel':
      return sim.cancel();
    case 'pause':
      if (body.action === 'resume') return sim.resume();
      if (body.action === 'toggle') return sim.state === 'paused' ? sim.resume() : sim.pause();
      return sim.pause();
    default:
      return undefined;
  }
}

function stateText(state: JobState): string {
  switch (state) {
    case 'warmingup':
    case 'printing':
      return 'Printing';
    case 'paused':
      return 'Paused';
    case 'resuming':
      return 'Resuming';
    case 'error':
      return 'Error';
    default:
      return 'Operational';
  }
}

function stateFlags(state: JobState): Record<string, boolean> {
  const printing = state === 'warmingup' || state === 'printing';
  return {
    operational: state !== 'error',
    printing,
    paused: state === 'paused',
    pausing: false,
    cancelling: false,
    resuming: state === 'resuming',
    finishing: false,
    error: state === 'error',
    closedOrError: state === 'error',
    ready: !ACTIVE.has(state) && state !== 'error',
    sdReady: false,
  };
}

function fileRef(ctx: PrinterContext): Record<string, unknown> {
  const name = ctx.sim.job?.fileName;
  if (!name) return {};
  return { name, path: name, display: name, origin: 'local', size: ctx.files.get('gcode', name)?.data.length ?? null };
}

function jobMessage(ctx: PrinterContext): Record<string, unknown> {
  const { sim } = ctx;
  const job = sim.job;
  const showJob = job && sim.state !== 'idle';
  return {
    job: {
      file: showJob
        ? { ...fileRef(ctx), date: Math.floor(job.startMs / 1000) }
        : { name: null, path: null, display: null, origin: null, size: null, date: null },
      estimatedPrintTime: showJob ? job.durationSec : null,
      filament: showJob ? { tool0: { length: sim.estFilamentMm, volume: 0 } } : null,
      user: showJob ? USER : null,
    },
    progress: {
      completion: showJob ? sim.progress : null,
      filepos: showJob ? Math.floor((sim.progress / 100) * (ctx.files.get('gcode', job.fileName)?.data.length ?? 0)) : null,
      printTime: showJob ? sim.durationSec : null,
      printTimeLeft: showJob && sim.timeLeftSec >= 0 ? sim.timeLeftSec : null,
      printTimeLeftOrigin: showJob ? 'estimate' : null,
    },
    state: stateText(sim.state),
    ...(sim.error ? { error: sim.error } : {}),
  };
}

function temperatures(ctx: PrinterContext): Record<string, { actual: number; target: number; offset: number }> {
  const { bed, hotend } = ctx.sim.heaters;
  return {
    tool0: { actual: hotend.actual, target: hotend.target, offset: 0 },
    bed: { actual: bed.actual, target: bed.target, offset: 0 },
  };
}

function printerMessage(ctx: PrinterContext): Record<string, unknown> {
  return {
    temperature: temperatures(ctx),
    sd: { ready: false },
    state: { text: stateText(ctx.sim.state), flags: stateFlags(ctx.sim.state), ...(ctx.sim.error ? { error: ctx.sim.error } : {}) },
  };
}

/** The push socket's `current` (and `history`) payload. */
function currentMessage(ctx: PrinterContext): Record<string, unknown> {
  const time = Math.floor(ctx.clock.now() / 1000);
  const job = jobMessage(ctx);
  return {
    state: { text: stateText(ctx.sim.state), flags: stateFlags(ctx.sim.state), error: ctx.sim.error ?? '' },
    job: job.job,
    progress: job.progress,
    currentZ: ctx.sim.zMm,
    offsets: {},
    resends: { count: 0, transmitted: 0, ratio: 0 },
    temps: [{ time, ...temperatures(ctx) }],
    logs: [],
    messages: [],
    busyFiles: ctx.sim.active && ctx.sim.job ? [{ origin: 'local', path: ctx.sim.job.fileName }] : [],
    serverTime: ctx.clock.now() / 1000,
  };
}

function fileEntry(file: StoredFile) {
  const path = file.rel;
  return {
    name: path.split('/').pop() ?? path,
    display: path.split('/').pop() ?? path,
    path,
    type: 'machinecode',
    typePath: ['machinecode', 'gcode'],
    origin: 'local',
    size: file.data.length,
    date: Math.floor(file.modifiedMs / 1000),
    refs: { resource: `/api/files/local/${path}`, download: `/downloads/files/local/${path}` },
  };
}

function filesMessage(ctx: PrinterContext): Record<string, unknown> {
  return { files: ctx.files.list('gcode').map(fileEntry), free: 20_000_000_000, total: 32_000_000_000 };
}

/** A WebSocket message's text (ws hands out a Buffer, an ArrayBuffer or fragments). */
function wsText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Buffer.isBuffer(data)) return data.toString();
  return Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data).toString();
}
