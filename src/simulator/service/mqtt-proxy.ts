// The command API's MQTT proxy (docs/octoeverywhere.md §9.1) for printers with an MQTT broker (Bambu Lab, Elegoo
// CC2): MQTT 3.1.1 in binary WebSocket frames from many clients, multiplexed over the plugin's one
// upstream connection to the printer's broker. The wire format is mqtt-packet's; the rules are the
// plugin's (`mqttmux/wireclient.py`): CONNECT checks, kicking an older session with the same client
// id, keepalive at 1.5×, shared upstream subscriptions, a retained-message cache, wills, and every
// session closed when the printer link drops.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import mqttPacket, { type IConnectPacket, type IPublishPacket, type ISubscribePacket, type Packet } from 'mqtt-packet';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { timeScaleOf } from '../clock';
import type { SimClock, SimMqttBroker, SimMqttMessage, SimPrinter, SimTimer } from '../contract';
import { isValidFilter, isValidTopic, topicMatches } from '../mqtt-topic';
import { type Chaos, CLOSE_PRINTER_LINK_LOST } from './chaos';

/** Largest MQTT packet a session takes (remaining length). */
export const MAX_PACKET_BYTES = 1024 * 1024;
/** Retained-message cache bounds. */
export const MAX_RETAINED_TOPICS = 1024;
export const MAX_RETAINED_BYTES = 4 * 1024 * 1024;

/** CONNACK return codes (MQTT 3.1.1 §3.2.2.3). */
export const ConnackCode = { Accepted: 0, BadProtocol: 1, IdentifierRejected: 2, ServerUnavailable: 3 } as const;

/** WebSocket close codes the simulator picks (production's are unverified). */
const CLOSE_PROTOCOL = 1002;
const CLOSE_UNSUPPORTED = 1003;
const CLOSE_TOO_BIG = 1009;
const CLOSE_KICKED = 1000;

/** Answer to a plain HTTP request on the proxy path (the command API's envelope). */
export const NOT_A_WEBSOCKET = { Status: 400, Error: 'MQTT proxy requires a websocket connection.' } as const;

export class MqttProxy {
  private readonly server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // A few bytes over the packet limit for the fixed header; a bigger frame ends with 1009.
    maxPayload: MAX_PACKET_BYTES + 5,
    autoPong: false,
    // The docs name no subprotocol; MQTT.js insists on one being echoed (docs/octoeverywhere.md §9.1).
    handleProtocols: (offered) => offered.values().next().value ?? false,
  });
  private readonly muxes = new Map<SimPrinter, Mux>();

  constructor(
    private readonly clock: SimClock,
    private readonly chaos: Chaos,
  ) {}

  /** A handshake that passed the relay's gate. Printers without a broker answer as for an unknown command. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, printer: SimPrinter, refuse: (status: number) => void): void {
    const broker = printer.mqtt;
    if (!broker) {
      refuse(754);
      return;
    }
    this.server.handleUpgrade(req, socket, head, (ws) => {
      let mux = this.muxes.get(printer);
      if (!mux) {
        mux = new Mux(printer, broker, this.chaos);
        this.muxes.set(printer, mux);
      }
      new Session(ws, mux, this.clock, this.chaos).start();
    });
  }

  close(): void {
    for (const mux of this.muxes.values()) mux.close();
    this.muxes.clear();
    this.server.close();
  }
}

/** The plugin's side of one printer: its sessions, shared upstream subscriptions and retained cache. */
class Mux {
  readonly sessions = new Map<string, Session>();
  private readonly filters = new Map<string, Set<Session>>();
  private readonly retained = new Map<string, Buffer>();
  private readonly onMessage = (message: SimMqttMessage): void => this.route(message);
  private readonly onLink = (up: boolean): void => {
    if (up) return;
    this.filters.clear();
    for (const session of [...this.sessions.values()]) session.close(CLOSE_PRINTER_LINK_LOST, 'printer link lost');
  };

  constructor(
    readonly printer: SimPrinter,
    private readonly broker: SimMqttBroker,
    private readonly chaos: Chaos,
  ) {
    broker.on('message', this.onMessage);
    broker.on('link', this.onLink);
  }

  get linkUp(): boolean {
    return this.broker.linkUp && this.chaos.printerLinkUp(this.printer);
  }

  /** Registers a connected session; an older one with the same client id is kicked. */
  add(session: Session): void {
    const older = this.sessions.get(session.clientId);
    this.sessions.set(session.clientId, session);
    older?.kick();
  }

  remove(session: Session): void {
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
    for (const filter of session.filters.keys()) this.unsubscribe(session, filter);
  }

  /** True when the filter is (now) subscribed upstream; identical filters share one subscription. */
  subscribe(session: Session, filter: string): boolean {
    const users = this.filters.get(filter);
    if (users && users.size > 0) {
      users.add(session);
      return true;
    }
    if (!this.broker.subscribe(filter)) return false;
    this.filters.set(filter, new Set([session]));
    return true;
  }

  unsubscribe(session: Session, filter: string): void {
    const users = this.filters.get(filter);
    if (!users) return;
    users.delete(session);
    if (users.size === 0) {
      this.filters.delete(filter);
      this.broker.unsubscribe(filter);
    }
  }

  publish(topic: string, payload: Buffer, retain: boolean): void {
    if (retain) this.remember(topic, payload);
    this.broker.publish(topic, payload, retain);
  }

  /** Cached retained messages whose topic matches a new subscription. */
  retainedFor(filter: string): Array<[string, Buffer]> {
    return [...this.retained].filter(([topic]) => topicMatches(filter, topic));
  }

  close(): void {
    this.broker.off('message', this.onMessage);
    this.broker.off('link', this.onLink);
    for (const session of [...this.sessions.values()]) session.terminate();
    this.sessions.clear();
    this.filters.clear();
  }

  private route(message: SimMqttMessage): void {
    if (message.retain) this.remember(message.topic, message.payload);
    for (const session of [...this.sessions.values()]) session.deliver(message.topic, message.payload);
  }

  private remember(topic: string, payload: Buffer): void {
    // An empty retained payload clears the topic (MQTT 3.1.1 §3.3.1.3).
    if (payload.length === 0) {
      this.retained.delete(topic);
      return;
    }
    if (payload.length > MAX_RETAINED_BYTES) return;
    if (!this.retained.has(topic) && this.retained.size >= MAX_RETAINED_TOPICS) {
      const oldest = this.retained.keys().next().value;
      if (oldest !== undefined) this.retained.delete(oldest);
    }
    this.retained.delete(topic);
    this.retained.set(topic, payload);
  }
}

type Mode = 'detect' | 'mqtt' | 'closed';

/** mqtt-packet's parser holds the packet it is reading; its length is known once the fixed header is. */
interface PartialParser {
  packet?: { length?: number };
}

/** One client's WebSocket: mode detection, CONNECT, then the MQTT session. */
class Session {
  clientId = '';
  /** Filter → granted QoS. */
  readonly filters = new Map<string, number>();
  private mode: Mode = 'detect';
  private connected = false;
  private will: IConnectPacket['will'];
  private keepaliveMs = 0;
  private keepaliveTimer: SimTimer | undefined;
  /** Simulated time of the client's last packet; the keepalive timer re-arms from it. */
  private lastSeenMs = 0;
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private untrack: () => void = () => undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly mux: Mux,
    private readonly clock: SimClock,
    private readonly chaos: Chaos,
  ) {}

  start(): void {
    this.untrack = this.chaos.track({
      printer: this.mux.printer,
      terminate: () => this.terminate(),
      close: (code, reason) => this.close(code, reason),
    });
    this.parser.on('packet', (packet: Packet) => this.onPacket(packet));
    this.parser.on('error', () => this.onParseError());
    this.ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        this.onFrame(data, isBinary);
      } catch {
        // Whatever a client sends must not take the simulator down: the session ends instead.
        this.abort('unreadable packet');
      }
    });
    this.ws.on('ping', (data: Buffer) => {
      if (!this.chaos.knobs.stallSockets) this.ws.pong(data);
      else this.chaos.stalledFrames++;
    });
    this.ws.on('close', () => this.ended());
    this.ws.on('error', () => this.ws.terminate());
  }

  /** Delivers an upstream message if one of the session's filters matches it. */
  deliver(topic: string, payload: Buffer, retain = false): void {
    if (!this.connected) return;
    for (const filter of this.filters.keys()) {
      if (topicMatches(filter, topic)) {
        this.send({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain });
        return;
      }
    }
  }

  /** A newer CONNECT with the same client id took over. */
  kick(): void {
    this.close(CLOSE_KICKED, 'session taken over by a newer connection');
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    else this.ws.terminate();
    this.ended();
  }

  terminate(): void {
    this.ws.terminate();
    this.ended();
  }

  // ---- frames and packets ----

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.mode === 'closed') return;
    // A stalled edge reads nothing; the keepalive timer does not judge the client meanwhile.
    if (this.chaos.knobs.stallSockets) {
      this.chaos.stalledFrames++;
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (this.mode === 'detect') {
      // The first frame picks the mode (relayproxy.py _DetectMode).
      if (bytes[0] === 0x7b) {
        this.close(CLOSE_UNSUPPORTED, 'legacy JSON mode is not simulated: send MQTT 3.1.1 in binary frames');
        return;
      }
      if (bytes[0] !== 0x10 || !isBinary) {
        this.close(CLOSE_PROTOCOL, 'expected an MQTT CONNECT packet');
        return;
      }
      this.mode = 'mqtt';
    }
    this.lastSeenMs = this.clock.now();
    this.parser.parse(bytes);
    // A packet may span frames: refuse one whose announced length is over the limit before it is buffered.
    if (((this.parser as PartialParser).packet?.length ?? 0) > MAX_PACKET_BYTES && (this.mode as Mode) !== 'closed') {
      this.close(CLOSE_TOO_BIG, 'packet larger than 1 MiB');
    }
  }

  private onParseError(): void {
    if (this.mode === 'closed') return;
    // A CONNECT mqtt-packet cannot read (an unknown protocol name or level) is refused as a bad protocol.
    if (!this.connected) this.refuse(ConnackCode.BadProtocol);
    else this.abort('malformed packet');
  }

  private onPacket(packet: Packet): void {
    if (this.mode === 'closed') return;
    if ((packet.length ?? 0) > MAX_PACKET_BYTES) {
      this.close(CLOSE_TOO_BIG, 'packet larger than 1 MiB');
      return;
    }
    if (!this.connected) {
      if (packet.cmd === 'connect') this.onConnect(packet);
      else this.abort('first packet must be CONNECT');
      return;
    }
    switch (packet.cmd) {
      case 'connect':
        this.abort('second CONNECT');
        return;
      case 'pingreq':
        this.send({ cmd: 'pingresp' });
        return;
      case 'subscribe':
        this.onSubscribe(packet);
        return;
      case 'unsubscribe':
        for (const filter of packet.unsubscriptions) {
          if (this.filters.delete(filter)) this.mux.unsubscribe(this, filter);
        }
        this.send({ cmd: 'unsuback', messageId: packet.messageId, granted: [] });
        return;
      case 'publish':
        this.onPublish(packet);
        return;
      case 'pubrel':
        this.send({ cmd: 'pubcomp', messageId: packet.messageId });
        return;
      case 'puback':
      case 'pubrec':
      case 'pubcomp':
        return;
      case 'disconnect':
        // A clean end: the will is discarded.
        this.will = undefined;
        this.close(1000, 'disconnect');
        return;
      default:
        this.abort(`unexpected ${packet.cmd}`);
    }
  }

  /** CONNECT rules in the plugin's order (wireclient.py _HandleConnect). */
  private onConnect(packet: IConnectPacket): void {
    if (packet.protocolId !== 'MQTT' || packet.protocolVersion !== 4) return this.refuse(ConnackCode.BadProtocol);
    if (!this.mux.linkUp) return this.refuse(ConnackCode.ServerUnavailable);
    const clean = packet.clean !== false;
    if (packet.clientId === '' && !clean) return this.refuse(ConnackCode.IdentifierRejected);
    // No persistent sessions.
    if (!clean) return this.refuse(ConnackCode.ServerUnavailable);
    this.clientId = packet.clientId === '' ? `oe-${randomBytes(16).toString('hex')}` : packet.clientId;
    // A will whose topic is not a valid topic name is never published.
    this.will = packet.will && isValidTopic(packet.will.topic) ? packet.will : undefined;
    // Keepalive is network time: real seconds, so a sped-up demo clock does not cut sessions short.
    this.keepaliveMs = (packet.keepalive ?? 0) * 1500 * timeScaleOf(this.clock);
    this.connected = true;
    // MQTT credentials are ignored: the OctoEverywhere credentials already passed the gate.
    this.send({ cmd: 'connack', returnCode: ConnackCode.Accepted, sessionPresent: false });
    this.mux.add(this);
    this.armKeepalive(this.keepaliveMs);
  }

  /**
   * SUBACK per filter. A requested QoS of 3 never gets here: mqtt-packet finds the SUBSCRIBE malformed
   * and the session closes (MQTT 3.1.1 §3.8.3.1), where the plugin's own parser answers 0x80.
   */
  private onSubscribe(packet: ISubscribePacket): void {
    const granted: number[] = [];
    const replay: Array<[string, Buffer]> = [];
    for (const { topic, qos } of packet.subscriptions) {
      if (!isValidFilter(topic) || qos > 2 || qos < 0) {
        granted.push(0x80);
        continue;
      }
      const ok = this.mux.subscribe(this, topic);
      // The printer may have dropped the link (and so this session) over this filter.
      if (this.mode === 'closed') return;
      if (!ok) {
        granted.push(0x80);
        continue;
      }
      const grantedQos = Math.min(qos, 1);
      this.filters.set(topic, grantedQos);
      granted.push(grantedQos);
      replay.push(...this.mux.retainedFor(topic));
    }
    this.send({ cmd: 'suback', messageId: packet.messageId, granted });
    for (const [topic, payload] of replay) this.send({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain: true });
  }

  private onPublish(packet: IPublishPacket): void {
    if (!isValidTopic(packet.topic)) {
      this.abort('invalid topic name');
      return;
    }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    this.mux.publish(packet.topic, payload, packet.retain);
    // The simulated printer takes a publish at once, so the ack follows immediately.
    if (packet.qos === 1) this.send({ cmd: 'puback', messageId: packet.messageId });
    else if (packet.qos === 2) this.send({ cmd: 'pubrec', messageId: packet.messageId });
  }

  // ---- endings ----

  private refuse(code: number): void {
    this.send({ cmd: 'connack', returnCode: code, sessionPresent: false });
    this.close(1000, 'connection refused');
  }

  /** A protocol violation: the network connection is closed, the will published. */
  private abort(reason: string): void {
    this.close(CLOSE_PROTOCOL, reason);
  }

  private ended(): void {
    if (this.mode === 'closed') return;
    this.mode = 'closed';
    this.clock.clearTimer(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    this.untrack();
    if (!this.connected) return;
    this.mux.remove(this);
    this.filters.clear();
    const will = this.will;
    this.will = undefined;
    // Wills on every end but DISCONNECT: a drop, a keepalive timeout, a takeover, a protocol error.
    if (will && this.mux.linkUp) {
      const payload = Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload);
      this.mux.publish(will.topic, payload, will.retain ?? false);
    }
  }

  /** One timer per session, re-armed from the last packet rather than reset on every frame. */
  private armKeepalive(delayMs: number): void {
    if (this.keepaliveMs <= 0 || this.mode === 'closed') return;
    this.keepaliveTimer = this.clock.setTimeout(() => {
      this.keepaliveTimer = undefined;
      const quietMs = this.clock.now() - this.lastSeenMs;
      // A stalled edge does not judge the client: it saw nothing because it read nothing.
      if (this.chaos.knobs.stallSockets) this.armKeepalive(this.keepaliveMs);
      else if (quietMs < this.keepaliveMs) this.armKeepalive(this.keepaliveMs - quietMs);
      else this.terminate();
    }, delayMs);
  }

  private send(packet: Packet): void {
    if (this.ws.readyState !== WebSocket.OPEN || this.chaos.knobs.stallSockets) return;
    this.ws.send(mqttPacket.generate(packet), { binary: true });
  }
}
