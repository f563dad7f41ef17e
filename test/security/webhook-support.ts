// What the webhook tests in a real Node-RED process share: deploying a webhook node through the admin
// API, raw POSTs (held open for a slow sender), the events it emitted (a core file node appends each
// message to a file) and the process's CPU time from /proc.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { NodeRedProcess } from '../helpers/node-red-process';

export const HOOK_PATH = '/oe/hook';

export interface Reply {
  status: number | 'reset' | 'timeout';
  body: string;
}

export interface PostOptions {
  headers?: Record<string, string | number>;
  /** Keep the request open after the body (a slow sender) until the answer comes. */
  hold?: boolean;
  /** Give up (status 'timeout') after this long: a guard against a hanging test, not an assertion on time. */
  giveUpMs?: number;
}

/** One POST on its own socket; a reset while sending counts as 'reset' unless an answer came first. */
export function post(port: number, urlPath: string, body: string | Buffer | undefined, options: PostOptions = {}): Promise<Reply> {
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: urlPath,
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', ...options.headers },
    });
    let settled = false;
    const finish = (reply: Reply): void => {
      if (!settled) resolve(reply);
      settled = true;
      clearTimeout(timer);
      if (reply.status === 'timeout') req.destroy();
    };
    const timer = setTimeout(() => finish({ status: 'timeout', body: '' }), options.giveUpMs ?? 20_000);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, body: text }));
      res.on('error', () => finish({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', () => finish({ status: 'reset', body: '' }));
    if (body !== undefined) req.write(body);
    if (options.hold) req.flushHeaders();
    else req.end();
  });
}

/** The webhook node (LAN user mode, no filter) wired to a file node that appends each message as a line of JSON. */
export function webhookFlow(eventsFile: string, hook: Record<string, unknown> = {}, credentials: Record<string, string> = {}): unknown[] {
  return [
    { id: 'tab1', type: 'tab', label: 'webhook' },
    {
      id: 'oehook1',
      z: 'tab1',
      type: 'octoeverywhere-notification-webhook',
      mode: 'user',
      path: HOOK_PATH,
      events: [],
      dedupe: false,
      version: 1,
      wires: [['oeevents1']],
      credentials,
      ...hook,
    },
    {
      id: 'oeevents1',
      z: 'tab1',
      type: 'file',
      name: '',
      filename: eventsFile,
      filenameType: 'str',
      appendNewline: true,
      createDir: true,
      overwriteFile: 'false',
      encoding: 'none',
      wires: [],
    },
  ];
}

/** A full deploy through the admin API (as the editor's Deploy button does). */
export async function deploy(nodeRed: NodeRedProcess, flows: unknown[], adminRoot = '', bearer?: string): Promise<void> {
  const res = await fetch(`${nodeRed.url}${adminRoot}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(flows),
  });
  if (res.status !== 200 && res.status !== 204) throw new Error(`deploy failed: HTTP ${res.status} ${await res.text()}`);
}

/** Waits until the webhook answers (a wrong token gets 401 once the node listens, 404 before). */
export async function untilListening(nodeRed: NodeRedProcess, urlPath = HOOK_PATH): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const reply = await post(nodeRed.port, `${urlPath}?token=not-the-token`, '{}');
    if (reply.status === 401) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the webhook never listened:\n${nodeRed.output()}`);
}

/** The events the node emitted so far (one JSON line each). */
export function emitted(eventsFile: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(eventsFile)) return [];
  return fs
    .readFileSync(eventsFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Waits for an emitted event with this printId: the marker that everything sent before it was handled. */
export async function untilEmitted(eventsFile: string, printId: string): Promise<Array<Record<string, unknown>>> {
  for (let i = 0; i < 400; i++) {
    const events = emitted(eventsFile);
    if (events.some((e) => e.printId === printId)) return events;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no event with printId ${printId} was emitted`);
}

/** User + system CPU time of a process in milliseconds (Linux /proc; clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(path.join('/proc', String(pid), 'stat'), 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: state is field 3, utime field 14, stime field 15 (1-based, from pid).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export const delivery = (fields: Record<string, unknown>): string => JSON.stringify({ PrinterId: 'P1', PrinterName: 'Voron', EventType: 1, ...fields });
