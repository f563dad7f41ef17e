// The printer-socket node's behaviour (issue 16.4): one RawPrinterSocket per node, msg.payload out as
// a frame, every frame in on output 1 (JSON parsed when it parses), the socket's connects, drops and
// errors on output 2 as the core websocket nodes report them, the status from the socket's state.
import {
  type AppConnection,
  type Clock,
  InvalidArgumentError,
  OctoEverywhereError,
  type RawClose,
  type RawFrame,
  RawPrinterSocket,
  type SupervisedState,
} from '../../client';
import { jsonText } from '../../client/body-codec';
import { checkSocketPath } from '../../client/live/raw-socket';
import { checkSubprotocols } from '../../client/validate';
import { FlashStatus } from './flash-status';
import { requiredNumber, type Translate } from './settings';
import { status } from './status';
import type { NodeMessage, NodeStatus } from './types';

export const DEFAULT_HEARTBEAT_SEC = 15;
export const MIN_HEARTBEAT_SEC = 1;
export const MAX_HEARTBEAT_SEC = 30;

/** What output 2 reports: `all` (connected, disconnected, error), `errors` (disconnected, error), `none`. */
export type SocketEventsChoice = 'all' | 'errors' | 'none';
const EVENT_CHOICES: readonly SocketEventsChoice[] = ['all', 'errors', 'none'];

export interface PrinterSocketDefFields {
  path?: string;
  /** Comma-separated, as typed in the editor. */
  subprotocols?: string;
  /** Seconds. */
  heartbeat?: string | number;
  events?: string;
}

export interface PrinterSocketSettings {
  path: string;
  subprotocols: string[];
  heartbeatMs: number;
  events: SocketEventsChoice;
}

/** The node's settings, checked: a path that can never work is a configuration error shown at deploy. */
export function printerSocketSettings(def: PrinterSocketDefFields, t: Translate): PrinterSocketSettings {
  const path = checkSocketPath(typeof def.path === 'string' ? def.path.trim() : def.path);
  const subprotocols = checkSubprotocols(
    (def.subprotocols ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== ''),
  );
  const heartbeat =
    def.heartbeat === undefined || def.heartbeat === ''
      ? DEFAULT_HEARTBEAT_SEC
      : requiredNumber(def.heartbeat, { what: t('label.heartbeat'), min: MIN_HEARTBEAT_SEC, max: MAX_HEARTBEAT_SEC, integer: true }, t);
  const events = EVENT_CHOICES.find((c) => c === (def.events || 'all'));
  if (!events) throw new InvalidArgumentError(t('errors.events', { value: String(def.events) }), 'OE_INVALID_CONFIG');
  return { path, subprotocols, heartbeatMs: heartbeat * 1000, events };
}

/** What a frame to send is made of: a Buffer (or bytes) binary, a string as text, anything else as JSON text. */
export function frameOf(payload: unknown, t: Translate): string | Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (typeof payload === 'string') return payload;
  if (payload === undefined) throw new InvalidArgumentError(t('errors.no-payload'), 'OE_INVALID_PAYLOAD');
  const text = jsonText(payload);
  if (text === undefined) throw new InvalidArgumentError(t('errors.not-json'), 'OE_INVALID_PAYLOAD');
  return text;
}

/** A received frame as msg.payload: text parsed as JSON when it is JSON, else the string; binary as a Buffer. */
export function payloadOf(frame: RawFrame): unknown {
  if (frame.binary) return frame.data;
  try {
    return JSON.parse(frame.data) as unknown;
  } catch {
    return frame.data;
  }
}

export interface PrinterSocketControllerOptions {
  settings: PrinterSocketSettings;
  connection: AppConnection;
  clock: Clock;
  t: Translate;
  show: (status: NodeStatus) => void;
  /** Sends [output 1, output 2]. */
  send: (outputs: [NodeMessage | null, NodeMessage | null]) => void;
  /** A stop that needs the user: to Catch nodes (node.error(err, msg)). */
  raise: (error: OctoEverywhereError, msg: NodeMessage) => void;
}

export class PrinterSocketController {
  private readonly socket: RawPrinterSocket;
  private readonly board: FlashStatus;
  private connected = false;
  private lastClose: RawClose | undefined;
  private closed = false;

  constructor(private readonly options: PrinterSocketControllerOptions) {
    const { settings, connection, clock } = options;
    this.board = new FlashStatus(clock, options.show);
    this.socket = new RawPrinterSocket({ connection, path: settings.path, protocols: settings.subprotocols, heartbeatMs: settings.heartbeatMs, clock });
    this.socket.on('frame', (frame) => options.send([{ topic: settings.path, payload: payloadOf(frame) }, null]));
    this.socket.on('close', (close) => {
      this.lastClose = close;
    });
    this.socket.on('state', (state) => this.state(state));
  }

  start(): void {
    this.socket.start();
  }

  /** Sends msg.payload as one frame; throws (OE_INVALID_PAYLOAD, OE_SOCKET_NOT_CONNECTED) with a red flash over the socket's status. */
  input(msg: NodeMessage): void {
    try {
      this.socket.send(frameOf(msg.payload, this.options.t));
    } catch (err) {
      if (err instanceof OctoEverywhereError) this.board.flashStatus(status.error(err.code));
      throw err;
    }
  }

  /** Closes the socket cleanly and releases every timer; nothing is sent afterwards. */
  close(): void {
    this.closed = true;
    this.socket.removeAllListeners();
    this.socket.stop();
    this.board.close();
  }

  private state(state: SupervisedState): void {
    if (this.closed) return;
    const { t } = this.options;
    const wasConnected = this.connected;
    this.connected = state.status === 'connected';
    switch (state.status) {
      case 'connected':
        this.lastClose = undefined;
        this.board.setBase(status.working(t(state.via === 'local' ? 'status.connected-local' : 'status.connected')));
        this.event('connected', { via: state.via });
        return;
      case 'connecting':
        if (!state.error) {
          this.board.setBase(status.waiting(t(state.attempt > 1 ? 'status.reconnecting' : 'status.connecting')));
          return;
        }
        this.board.setBase(status.waiting(t('status.retrying', { seconds: Math.ceil((state.retryInMs ?? 0) / 1000), code: state.error.code })));
        this.failure(wasConnected, state.error, state.retryInMs ?? null);
        return;
      case 'stopped': {
        if (!state.error) {
          this.board.setBase(status.idle());
          return;
        }
        this.board.setBase(status.error(state.error.code));
        // Catch nodes get their own copy: the one on output 2 may be changed downstream.
        const msg = this.failure(wasConnected, state.error, null);
        this.options.raise(state.error, { topic: msg.topic, payload: { ...(msg.payload as Record<string, unknown>) } });
        return;
      }
    }
  }

  /** A drop (the socket was open) or an error (an attempt failed): output 2 by the node's choice; the message made. */
  private failure(wasConnected: boolean, error: OctoEverywhereError, retryInMs: number | null): NodeMessage {
    if (wasConnected) {
      const close = this.lastClose;
      this.lastClose = undefined;
      return this.event('disconnected', { closeCode: close?.code ?? null, closeReason: close?.reason ?? '', ...this.errorFields(error, retryInMs) });
    }
    return this.event('error', this.errorFields(error, retryInMs));
  }

  private errorFields(error: OctoEverywhereError, retryInMs: number | null): Record<string, unknown> {
    return { code: error.code, message: error.message, retryInMs };
  }

  /** Sends the event on output 2 when the node's choice reports it; returns the message either way. */
  private event(topic: 'connected' | 'disconnected' | 'error', fields: Record<string, unknown>): NodeMessage {
    const choice = this.options.settings.events;
    const msg: NodeMessage = { topic, payload: { path: this.options.settings.path, ...fields } };
    if (choice === 'all' || (choice === 'errors' && topic !== 'connected')) this.options.send([null, msg]);
    return msg;
  }
}
