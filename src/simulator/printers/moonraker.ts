// Moonraker's own API as the relay reaches it (docs/octoeverywhere.md §9): REST (/printer/info, object queries,
// webcams, the database item holding the OctoEverywhere Printer ID) and JSON-RPC 2.0 over
// /websocket with printer.objects.subscribe and notify_status_update / notify_klippy_* pushes.
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { JobState, SimTimer } from '../contract';
import { nativeWebcamUrls } from './command-api';
import type { PrinterContext } from './context';
import { isRecord, sendJson } from './http';
import { serveNativeWebcam, type NativeApi } from './native';

type Status = Record<string, Record<string, unknown>>;
/** Subscribed objects: name → attributes (null = all). */
type Subscription = Map<string, string[] | null>;

const KLIPPER_VERSION = 'v0.12.0-302-g87ac69363';
const MOONRAKER_VERSION = 'v0.9.3-1-g8a4b6d5';

/** Klipper's print_stats.state for a job state (Klipper "prints" while it heats). */
const PRINT_STATS_STATE: Record<JobState, string> = {
  idle: 'standby',
  warmingup: 'printing',
  printing: 'printing',
  resuming: 'printing',
  paused: 'paused',
  complete: 'complete',
  cancelled: 'cancelled',
  error: 'error',
};

export function createMoonrakerApi(ctx: PrinterContext): NativeApi {
  const subscribers = new Map<WebSocket, { subscription: Subscription; sent: Status }>();
  let pushTimer: SimTimer | undefined;

  const eventtime = (): number => Math.round(ctx.clock.now()) / 1000;

  const notify = (socket: WebSocket, method: string, params?: unknown[]): void => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(JSON.stringify({ jsonrpc: '2.0', method, ...(params ? { params } : {}) }));
  };

  /** Sends each subscriber only the attributes that changed since its last update. */
  const pushUpdates = (): void => {
    for (const [socket, sub] of subscribers) {
      const status = query(ctx, sub.subscription);
      const diff: Status = {};
      for (const [object, attrs] of Object.entries(status)) {
        for (const [key, value] of Object.entries(attrs)) {
          if (JSON.stringify(sub.sent[object]?.[key]) !== JSON.stringify(value)) {
            (diff[object] ??= {})[key] = value;
          }
        }
      }
      sub.sent = status;
      if (Object.keys(diff).length > 0) notify(socket, 'notify_status_update', [diff, eventtime()]);
    }
  };
  const onState = (): void => pushUpdates();
  ctx.sim.on('state', onState);

  const keyOk = (req: IncomingMessage): boolean => {
    if (ctx.apiKeys.size === 0) return true; // Moonraker trusts the LAN unless a key is configured
    const key = req.headers['x-api-key'];
    return typeof key === 'string' && ctx.apiKeys.has(key);
  };

  /** Methods shared by REST and JSON-RPC: params → result, or a thrown RpcError. */
  const methods: Record<string, (params: Record<string, unknown>) => unknown> = {
    'printer.info': () => ({
      state: ctx.hostConnected ? 'ready' : 'startup',
      state_message: ctx.hostConnected ? 'Printer is ready' : 'Klipper is starting',
      hostname: ctx.name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      software_version: KLIPPER_VERSION,
      cpu_info: '4 core ARMv7 Processor rev 4 (v7l)',
      klipper_path: '/home/pi/klipper',
      python_path: '/home/pi/klippy-env/bin/python',
      log_file: '/home/pi/printer_data/logs/klippy.log',
      config_file: '/home/pi/printer_data/config/printer.cfg',
      app: 'Klipper',
    }),
    'server.info': () => ({
      klippy_connected: ctx.hostConnected,
      klippy_state: ctx.hostConnected ? 'ready' : 'disconnected',
      components: ['database', 'file_manager', 'webcam', 'websockets'],
      failed_components: [],
      registered_directories: ['config', 'logs', 'gcodes'],
      warnings: [],
      websocket_count: subscribers.size,
      moonraker_version: MOONRAKER_VERSION,
      api_version: [1, 5, 0],
      api_version_string: '1.5.0',
    }),
    'printer.objects.list': () => ({ objects: Object.keys(fullStatus(ctx)) }),
    'printer.objects.query': (params) => ({ eventtime: eventtime(), status: query(ctx, subscriptionOf(params)) }),
    'server.webcams.list': () => ({ webcams: webcamList(ctx) }),
    'server.database.get_item': (params) => databaseItem(ctx, params.namespace, params.key),
    'printer.print.pause': () => rpcResult(ctx.sim.pause()),
    'printer.print.resume': () => rpcResult(ctx.sim.resume()),
    'printer.print.cancel': () => rpcResult(ctx.sim.cancel()),
    'printer.print.start': (params) => rpcResult(ctx.sim.startPrint(typeof params.filename === 'string' ? params.filename : undefined)),
  };

  /** REST path → method, with the query string as params. */
  const restRoutes: Record<string, string> = {
    '/printer/info': 'printer.info',
    '/server/info': 'server.info',
    '/printer/objects/list': 'printer.objects.list',
    '/printer/objects/query': 'printer.objects.query',
    '/server/webcams/list': 'server.webcams.list',
    '/server/database/item': 'server.database.get_item',
    '/printer/print/pause': 'printer.print.pause',
    '/printer/print/resume': 'printer.print.resume',
    '/printer/print/cancel': 'printer.print.cancel',
    '/printer/print/start': 'printer.print.start',
  };

  const stopPushingIfIdle = (): void => {
    if (subscribers.size > 0) return;
    ctx.clock.clearTimer(pushTimer);
    pushTimer = undefined;
  };

  return {
    socketPath: '/websocket',
    acceptsSocket: keyOk,
    handle(req, res, url) {
      if (serveNativeWebcam(ctx, req, res, url)) return;
      if (!keyOk(req)) {
        sendJson(res, 401, { error: { code: 401, message: 'Unauthorized' } });
        return;
      }
      const method = restRoutes[url.pathname];
      if (!method) {
        sendJson(res, 404, { error: { code: 404, message: 'Not Found' } });
        return;
      }
      // Object queries name objects as bare keys (`?print_stats&virtual_sdcard`).
      const params = method === 'printer.objects.query' ? { objects: queryObjects(url) } : Object.fromEntries(url.searchParams);
      try {
        sendJson(res, 200, { result: methods[method](params) });
      } catch (err) {
        const error = err instanceof RpcError ? err : new RpcError(500, String(err));
        sendJson(res, error.httpStatus, { error: { code: error.httpStatus, message: error.message } });
      }
    },
    onSocket(socket) {
      socket.on('message', (data) => {
        let request: unknown;
        try {
          request = JSON.parse(wsText(data));
        } catch {
          socket.send(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }));
          return;
        }
        if (!isRecord(request) || typeof request.method !== 'string') {
          socket.send(JSON.stringify({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null }));
          return;
        }
        const id = request.id ?? null;
        const params = isRecord(request.params) ? request.params : {};
        const reply = (body: Record<string, unknown>): void => socket.send(JSON.stringify({ jsonrpc: '2.0', ...body, id }));
        if (request.method === 'printer.objects.subscribe') {
          const subscription = subscriptionOf(params);
          const status = query(ctx, subscription);
          subscribers.set(socket, { subscription, sent: status });
          pushTimer ??= ctx.clock.setInterval(pushUpdates, ctx.realMs(250));
          reply({ result: { eventtime: eventtime(), status } });
          return;
        }
        if (request.method === 'server.connection.identify') {
          reply({ result: { connection_id: Math.floor(Math.random() * 1e9) } });
          return;
        }
        const method = methods[request.method];
        if (!method) {
          reply({ error: { code: -32601, message: `Method not found: ${request.method}` } });
          return;
        }
        try {
          reply({ result: method(params) });
        } catch (err) {
          const error = err instanceof RpcError ? err : new RpcError(500, String(err));
          reply({ error: { code: error.httpStatus, message: error.message } });
        }
      });
      socket.on('close', () => {
        subscribers.delete(socket);
        stopPushingIfIdle();
      });
    },
    hostChanged(connected) {
      for (const socket of subscribers.keys()) notify(socket, connected ? 'notify_klippy_ready' : 'notify_klippy_disconnected');
    },
    close() {
      ctx.sim.off('state', onState);
      subscribers.clear();
      stopPushingIfIdle();
    },
  };
}

class RpcError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

function rpcResult(ok: boolean): string {
  if (!ok) throw new RpcError(400, 'Printer is not in a state for this request');
  return 'ok';
}

function databaseItem(ctx: PrinterContext, namespace: unknown, key: unknown): unknown {
  if (namespace !== 'octoeverywhere') throw new RpcError(404, `Namespace '${String(namespace)}' not found`);
  if (key !== 'public.printerId') throw new RpcError(404, `Key '${String(key)}' in namespace 'octoeverywhere' not found`);
  return { namespace, key, value: ctx.printerId };
}

function webcamList(ctx: PrinterContext): unknown[] {
  return ctx.webcams.map((w, i) => {
    const s = w.settings;
    const urls = nativeWebcamUrls(ctx, i);
    return {
      name: s.Name,
      location: 'printer',
      service: 'mjpegstreamer-adaptive',
      enabled: s.Enabled,
      icon: 'mdiWebcam',
      target_fps: 15,
      target_fps_idle: 5,
      stream_url: urls.StreamUrl,
      snapshot_url: urls.SnapshotUrl,
      flip_horizontal: s.FlipH,
      flip_vertical: s.FlipV,
      rotation: s.Rotation,
      aspect_ratio: '4:3',
      extra_data: {},
      source: 'database',
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    };
  });
}

/** `?print_stats&virtual_sdcard=progress,is_active` → object → attributes (null = all). */
function queryObjects(url: URL): Record<string, string[] | null> {
  const objects: Record<string, string[] | null> = {};
  for (const [name, attrs] of url.searchParams) objects[name] = attrs === '' ? null : attrs.split(',');
  return objects;
}

function subscriptionOf(params: Record<string, unknown>): Subscription {
  const subscription: Subscription = new Map();
  if (!isRecord(params.objects)) return subscription;
  for (const [name, attrs] of Object.entries(params.objects)) {
    subscription.set(name, Array.isArray(attrs) ? attrs.filter((a): a is string => typeof a === 'string') : null);
  }
  return subscription;
}

/** The requested objects and attributes; unknown objects are left out, as Klipper does. */
function query(ctx: PrinterContext, subscription: Subscription): Status {
  const all = fullStatus(ctx);
  const result: Status = {};
  for (const [name, attrs] of subscription) {
    const object = all[name];
    if (!object) continue;
    result[name] = attrs === null ? object : Object.fromEntries(attrs.filter((a) => a in object).map((a) => [a, object[a]]));
  }
  return result;
}

function fullStatus(ctx: PrinterContext): Status {
  const { sim } = ctx;
  const job = sim.job;
  const { bed, hotend, chamber } = sim.heaters;
  const showJob = job !== undefined && sim.state !== 'idle';
  const fileSize = job ? (ctx.files.get('gcode', job.fileName)?.data.length ?? 0) : 0;
  const printDuration = job ? job.printedSec : 0;
  return {
    webhooks: { state: ctx.hostConnected ? 'ready' : 'startup', state_message: ctx.hostConnected ? 'Printer is ready' : 'Klipper is starting' },
    print_stats: {
      filename: showJob ? job.fileName : '',
      total_duration: showJob ? sim.durationSec : 0,
      print_duration: showJob ? printDuration : 0,
      filament_used: showJob ? Math.round((sim.progress / 100) * sim.estFilamentMm) : 0,
      state: PRINT_STATS_STATE[sim.state],
      message: sim.error ?? '',
      info: { total_layer: showJob ? job.totalLayers : null, current_layer: showJob ? sim.currentLayer : null },
    },
    virtual_sdcard: {
      file_path: showJob ? `/home/pi/printer_data/gcodes/${job.fileName}` : null,
      progress: showJob ? sim.progress / 100 : 0,
      is_active: sim.state === 'printing',
      file_position: showJob ? Math.floor((sim.progress / 100) * fileSize) : 0,
      file_size: showJob ? fileSize : 0,
    },
    display_status: { progress: showJob ? sim.progress / 100 : 0, message: null },
    heater_bed: { temperature: bed.actual, target: bed.target, power: bed.target > bed.actual ? 1 : 0 },
    extruder: { temperature: hotend.actual, target: hotend.target, power: hotend.target > hotend.actual ? 1 : 0 },
    'temperature_sensor chamber': { temperature: chamber.actual, measured_min_temp: 18, measured_max_temp: 45 },
    toolhead: {
      homed_axes: sim.position.homed ? 'xyz' : '',
      position: [sim.position.x, sim.position.y, sim.position.z || sim.zMm, 0],
      print_time: sim.durationSec,
    },
  };
}

/** A WebSocket message's text (ws hands out a Buffer, an ArrayBuffer or fragments). */
function wsText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Buffer.isBuffer(data)) return data.toString();
  return Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data).toString();
}
