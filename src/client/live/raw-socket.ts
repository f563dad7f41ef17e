// A supervised raw WebSocket to any printer path (Moonraker's /websocket JSON-RPC, OctoPrint's
// /sockjs/websocket …) for callers that speak the printer's own protocol: frames in and out as they
// are, opened by openPrinterSocket (relay, or the LAN while it answers) and kept up by the shared
// SocketSupervisor (heartbeat, jittered back-off, one stop on the codes that need the user).
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { type Clock, realClock } from '../clock';
import type { AppConnection } from '../connection';
import { InvalidArgumentError, NetworkError, OctoEverywhereError } from '../errors';
import type { Route } from '../route-chooser';
import { checkPrinterPath, checkSubprotocols } from '../validate';
import type { BackoffOptions } from './backoff';
import { endSocket, type LocalRouteState, openPrinterSocket, rawBuffer } from './printer-socket';
import { type AttemptHandle, boundedHeartbeatMs, SocketSupervisor, type SupervisedAttempt, type SupervisedState } from './supervisor';

export interface RawPrinterSocketOptions {
  connection: AppConnection;
  /** The printer path, e.g. `/websocket`: relative, no query (a stored path never carries a secret). */
  path: string;
  /** Offered subprotocols. */
  protocols?: string[];
  clock?: Clock;
  /** Ping period (ms); a socket silent for two periods is replaced. Default 15 s, 1–30 s. */
  heartbeatMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  /** `auto` (default): the LAN URL first while it answers, else the relay. */
  via?: 'auto' | 'relay';
}

/** A frame from the printer: text as a string, binary as a Buffer. */
export type RawFrame = { binary: false; data: string } | { binary: true; data: Buffer };

/** How the printer (or the relay) ended an open socket. `code` 1006: it ended without a close frame. */
export interface RawClose {
  code: number;
  reason: string;
}

export interface RawPrinterSocketEvents {
  state: [SupervisedState];
  frame: [RawFrame];
  /** An open socket ended by the far side (before the `state` that says what happens next). */
  close: [RawClose];
}

/**
 * Events: `state` (connecting / connected / stopped, with the error and the retry delay), `frame`,
 * `close`. `send` writes a frame while connected and throws OE_SOCKET_NOT_CONNECTED otherwise.
 */
export class RawPrinterSocket extends EventEmitter<RawPrinterSocketEvents> {
  readonly path: string;
  private readonly protocols: string[];
  private readonly local: LocalRouteState = { downUntilMs: 0 };
  private readonly clock: Clock;
  private readonly heartbeatMs: number;
  private readonly supervisor: SocketSupervisor<RawAttempt>;

  /** Throws InvalidArgumentError (OE_INVALID_PATH, OE_INVALID_SUBPROTOCOL) for options that can never work. */
  constructor(private readonly options: RawPrinterSocketOptions) {
    super();
    this.path = checkSocketPath(options.path);
    this.protocols = checkSubprotocols(options.protocols ?? []);
    this.clock = options.clock ?? realClock;
    this.heartbeatMs = boundedHeartbeatMs(options.heartbeatMs);
    this.supervisor = new SocketSupervisor((handle) => new RawAttempt((onOpen) => this.openSocket(onOpen), this, handle), {
      clock: this.clock,
      heartbeatMs: this.heartbeatMs,
      backoff: options.backoff,
      random: options.random,
    });
    this.supervisor.on('state', (state) => this.emit('state', state));
  }

  get state(): SupervisedState {
    return this.supervisor.state;
  }

  /** Timers held now (heartbeat, retry): lets tests check nothing is left behind. */
  get pendingTimers(): number {
    return this.supervisor.pendingTimers;
  }

  /** Connects, and keeps connecting; again after a stop. */
  start(): void {
    this.supervisor.start();
  }

  /** Closes the socket cleanly (close frame 1000) and releases every timer. */
  stop(): void {
    this.supervisor.stop();
  }

  /** Sends one frame: a string as text, a Buffer as binary. Throws OE_SOCKET_NOT_CONNECTED unless connected. */
  send(data: string | Buffer): void {
    const ws = this.state.status === 'connected' ? this.supervisor.active?.socket : undefined;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      throw new OctoEverywhereError('OE_SOCKET_NOT_CONNECTED', `The printer socket to ${this.path} is not connected; the frame was not sent.`, {
        kind: 'temporary',
      });
    }
    ws.send(data, { binary: Buffer.isBuffer(data) });
  }

  private openSocket(onOpen: (ws: WebSocket) => void): Promise<{ ws: WebSocket; via: Route }> {
    return openPrinterSocket(
      {
        connection: this.options.connection,
        clock: this.clock,
        clientName: 'node-red-octoeverywhere',
        preferLocal: this.options.via !== 'relay',
        heartbeatMs: this.heartbeatMs,
        memo: {},
        local: this.local,
      },
      this.path,
      { protocols: this.protocols, onOpen },
    );
  }
}

/**
 * A printer path for a socket: openPrinterSocket's checks, and no query or fragment, since the path
 * is stored in the flow and a query is where a token would go (the API key travels as X-Api-Key).
 */
export function checkSocketPath(path: unknown): string {
  const checked = checkPrinterPath(path);
  if (/[?#]/.test(typeof path === 'string' ? path : '')) {
    throw new InvalidArgumentError(
      "The socket path must not carry a query (?…): it is stored in the flow, where no token belongs. The config node's API key is sent as X-Api-Key.",
      'OE_INVALID_PATH',
    );
  }
  return checked;
}

/** One socket of a RawPrinterSocket: frames out to its owner while current, a ping each heartbeat. */
class RawAttempt implements SupervisedAttempt {
  socket: WebSocket | undefined;
  private heard = true;
  private closed = false;

  constructor(
    private readonly openSocket: (onOpen: (ws: WebSocket) => void) => Promise<{ ws: WebSocket; via: Route }>,
    private readonly owner: EventEmitter<RawPrinterSocketEvents>,
    private readonly handle: AttemptHandle,
  ) {}

  async open(): Promise<{ via: Route }> {
    const { ws, via } = await this.openSocket((opened) => this.listen(opened));
    if (this.closed) {
      ws.terminate();
      throw new OctoEverywhereError('OE_CLOSED', 'The printer socket was stopped.', { kind: 'permanent' });
    }
    this.socket = ws;
    return { via };
  }

  /** In the socket's `open` event, so even a frame that came with the upgrade's answer is heard. */
  private listen(ws: WebSocket): void {
    const alive = (): void => {
      this.heard = true;
    };
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      alive();
      if (this.closed || !this.handle.current) return;
      const buffer = rawBuffer(data);
      this.owner.emit('frame', isBinary ? { binary: true, data: buffer } : { binary: false, data: buffer.toString('utf8') });
    });
    ws.on('pong', alive);
    ws.on('error', () => undefined); // the close that follows carries the ending
    ws.once('close', (code: number, reason: Buffer) => {
      this.socket = undefined;
      if (this.closed) return;
      this.closed = true;
      if (!this.handle.current) return;
      const text = reason.toString('utf8');
      this.owner.emit('close', { code, reason: text });
      this.handle.ended(new NetworkError('OE_SOCKET_CLOSED', `The printer socket closed (code ${code}); reconnecting.`, { kind: 'temporary' }));
    });
  }

  heartbeat(): boolean {
    const ws = this.socket;
    if (!ws || ws.readyState !== WebSocket.OPEN) return true;
    if (!this.heard) return false;
    // Answered since the last heartbeat: a socket that lives this long restarts the back-off from the start.
    this.handle.healthy();
    this.heard = false;
    ws.ping();
    return true;
  }

  close(how: 'clean' | 'dead' = 'clean'): void {
    if (this.closed) return;
    this.closed = true;
    const ws = this.socket;
    this.socket = undefined;
    if (ws) endSocket(ws, how);
  }
}
