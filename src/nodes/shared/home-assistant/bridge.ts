// The Home Assistant node's behaviour, free of Node-RED wiring: one printer as a Home Assistant
// device over an MqttPort. It keeps what should be retained on the broker (configs, state,
// availability, the last command's result, the webcam picture) and publishes a value only when it
// changed, everything again when the broker connection comes back or Home Assistant restarts; turns
// Home Assistant's button and switch commands into printer commands; fires a device trigger per
// derived print event; takes the webcam picture at an interval only while printing. Time from a Clock.
import { InvalidArgumentError, OctoEverywhereError, type Clock, type PrinterEvent, type PrinterSnapshot } from '../../../client';
import { Timers } from '../clock';
import { asOctoEverywhereError } from '../failure';
import type { ConnectionSignal, MqttPort } from './core-broker';
import {
  BUTTON_ACTIONS,
  type DiscoveryConfig,
  discoveryConfigs,
  type DiscoveryOptions,
  type Group,
  lightKey,
  modelOf,
  type PrinterShape,
  stateDocument,
  topicsOf,
} from './discovery';

export interface BridgeOptions {
  port: MqttPort;
  clock: Clock;
  prefix: string;
  id: string;
  deviceName: (snapshot: PrinterSnapshot) => string;
  groups: ReadonlySet<Group>;
  /** An App Connection: Gadget entities are offered only then. */
  gadget: boolean;
  webcamIntervalMs: number;
  names: DiscoveryOptions['names'];
  origin: DiscoveryOptions['origin'];
  /** The OctoEverywhere page of the printer (configuration_url). */
  configurationUrl: () => string;
  /** Runs one printer command with the command node's checks and words; rejects with its coded error. */
  runCommand: (action: string, payload: unknown) => Promise<unknown>;
  /** The current webcam picture (the webcam node's path, with its cool-down). */
  snapshotImage: () => Promise<Buffer>;
  /** A poll soon after a command (within the poller's rules). */
  refresh: () => void;
  /** A failed Home Assistant command, for Catch nodes. */
  commandFailed: (error: OctoEverywhereError, msg: Record<string, unknown>) => void;
  /** A webcam failure worth a log line (once per code in a row). */
  webcamFailed: (error: OctoEverywhereError) => void;
  /** The node status should be recomputed (connection or printer changed). */
  changed: () => void;
  t: (key: string, vars?: Record<string, string | number>) => string;
}

export class HomeAssistantBridge {
  readonly topics;
  readonly #o: BridgeOptions;
  readonly #timers: Timers;
  /** What should stand retained on the broker now, by topic (republished on every reconnect). */
  readonly #retained = new Map<string, string | Buffer>();
  #configs = new Map<string, string>();
  #shape?: PrinterShape;
  #last?: PrinterSnapshot;
  #reachable = false;
  #connection: ConnectionSignal = 'connecting';
  #webcamTimer?: ReturnType<Timers['after']>;
  #webcamBusy = false;
  #webcamError?: string;
  #closed = false;

  constructor(o: BridgeOptions) {
    this.#o = o;
    this.#timers = new Timers(o.clock);
    this.topics = topicsOf(o.id);
    this.#retain(this.topics.node, 'online');
    if (o.groups.has('controls')) {
      o.port.subscribe(this.topics.command, (topic, payload) => this.#command(topic, payload));
      o.port.subscribe(this.topics.lightSet('+'), (topic, payload) => this.#command(topic, payload));
    }
    // Home Assistant announces itself on `<prefix>/status` when it starts: it wants the configs again.
    o.port.subscribe(`${o.prefix}/status`, (_topic, payload) => {
      if (payload.toString('utf8') === 'online') this.#republish();
    });
  }

  get connection(): ConnectionSignal {
    return this.#connection;
  }

  get snapshot(): PrinterSnapshot | undefined {
    return this.#last;
  }

  /** The discovery configs published now (for the admin and the tests). */
  get configTopics(): string[] {
    return [...this.#configs.keys()];
  }

  /** The broker connection changed (the core broker's signal). */
  connectionChanged(state: ConnectionSignal): void {
    if (this.#closed || state === this.#connection) return;
    this.#connection = state;
    if (state === 'connected') this.#republish();
    this.#o.changed();
  }

  /** A status snapshot with its derived events (poll or live). */
  update(snapshot: PrinterSnapshot, events: PrinterEvent[]): void {
    if (this.#closed) return;
    this.#last = snapshot;
    this.#reachable = snapshot.online;
    if (snapshot.online) this.#announce(snapshot);
    this.#publishState(snapshot);
    this.#retain(this.topics.availability, this.#reachable ? 'online' : 'offline');
    // Device triggers are not retained: a trigger must not fire again when Home Assistant restarts.
    if (this.#o.groups.has('events') && this.#o.port.connected) {
      for (const event of events) void this.#o.port.publish(this.topics.event, JSON.stringify(event), false);
    }
    this.#webcam(snapshot);
    this.#o.changed();
  }

  /** A failed poll: the relay or the printer cannot be reached, so the printer's entities are unavailable. */
  unreachable(): void {
    if (this.#closed) return;
    this.#reachable = false;
    if (this.#last) this.#publishState({ ...this.#last, online: false });
    this.#retain(this.topics.availability, 'offline');
    this.#webcam(undefined);
    this.#o.changed();
  }

  /**
   * On close: stops at once; on removal clears every retained message (Home Assistant drops the
   * entities), on a redeploy only says offline. Resolves once the broker has them (or cannot).
   */
  async close(removed: boolean): Promise<void> {
    this.#closed = true;
    this.#timers.cancelAll();
    const sends: Array<Promise<boolean>> = [];
    if (removed) {
      for (const topic of new Set([...this.#configs.keys(), ...this.#retained.keys()])) sends.push(this.#o.port.publish(topic, '', true));
    } else {
      sends.push(this.#o.port.publish(this.topics.availability, 'offline', true), this.#o.port.publish(this.topics.node, 'offline', true));
    }
    this.#configs.clear();
    this.#retained.clear();
    await Promise.all(sends);
  }

  /** Keeps `payload` retained on `topic`; sent only when it changed, unless `always` (each command's result). */
  #retain(topic: string, payload: string | Buffer, always = false): void {
    const before = this.#retained.get(topic);
    if (!always && before !== undefined && (Buffer.isBuffer(payload) ? Buffer.isBuffer(before) && payload.equals(before) : before === payload)) return;
    this.#retained.set(topic, payload);
    void this.#o.port.publish(topic, payload, true);
  }

  #republish(): void {
    for (const [topic, payload] of this.#configs) void this.#o.port.publish(topic, payload, true);
    for (const [topic, payload] of this.#retained) void this.#o.port.publish(topic, payload, true);
  }

  #publishState(snapshot: PrinterSnapshot): void {
    this.#retain(this.topics.state, JSON.stringify(stateDocument(snapshot, this.#shape, this.#o.clock.now())));
  }

  /** The entity list for this printer: published when it is first known and whenever it changes. */
  #announce(snapshot: PrinterSnapshot): void {
    // Only grows: a printer reports its temperatures only while printing, and an entity that came
    // and went with each print would lose its history in Home Assistant.
    const before = this.#shape;
    const shape: PrinterShape = {
      lights: [...new Set([...(before?.lights ?? []), ...snapshot.lights.map((l) => l.name)])],
      chamber: before?.chamber === true || snapshot.temperatures.chamber !== null,
      gadget: this.#o.gadget,
      model: modelOf(snapshot),
      swVersion: snapshot.platformVersion,
      configurationUrl: this.#o.configurationUrl(),
    };
    const configs = discoveryConfigs({
      prefix: this.#o.prefix,
      id: this.#o.id,
      deviceName: this.#o.deviceName(snapshot),
      groups: this.#o.groups,
      shape,
      broker: this.#o.port.presence(),
      names: this.#o.names,
      origin: this.#o.origin,
    });
    this.#shape = shape;
    const next = new Map(configs.map((c: DiscoveryConfig) => [c.topic, JSON.stringify(c.payload)]));
    for (const topic of this.#configs.keys()) if (!next.has(topic)) void this.#o.port.publish(topic, '', true);
    for (const [topic, payload] of next) if (this.#configs.get(topic) !== payload) void this.#o.port.publish(topic, payload, true);
    this.#configs = next;
  }

  /** A message from Home Assistant: a button's action or a light switch's ON/OFF. */
  #command(topic: string, raw: Buffer): void {
    if (this.#closed) return;
    const text = raw.toString('utf8').trim();
    let action = text.toLowerCase();
    let payload: unknown;
    const light = topic.startsWith(`${this.topics.base}/light/`) ? topic.slice(`${this.topics.base}/light/`.length, -'/set'.length) : undefined;
    const run = async (): Promise<void> => {
      if (light !== undefined) {
        const name = this.#shape?.lights.find((l) => lightKey(l) === light);
        if (!name) throw new InvalidArgumentError(this.#o.t('errors.unknown-light', { light }));
        if (action !== 'on' && action !== 'off') throw new InvalidArgumentError(this.#o.t('errors.light-payload'));
        payload = { name, on: action === 'on' };
        action = 'set-light';
      } else if (text.startsWith('{')) {
        // An automation may send {"action": "pause", "payload": {"zLiftMm": 5}}.
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new InvalidArgumentError(this.#o.t('errors.command-json'));
        }
        const p = parsed as { action?: unknown; payload?: unknown };
        action = typeof p.action === 'string' ? p.action.trim().toLowerCase() : '';
        payload = p.payload;
      }
      if (light === undefined && !(BUTTON_ACTIONS as readonly string[]).includes(action)) {
        throw new InvalidArgumentError(this.#o.t('errors.command-not-allowed', { actions: BUTTON_ACTIONS.join(', ') }));
      }
      await this.#o.runCommand(action, payload);
    };
    const at = new Date(this.#o.clock.now()).toISOString();
    run().then(
      () => {
        this.#retain(this.topics.commandResult, JSON.stringify({ code: 'ok', action, at }), true);
        this.#o.refresh();
      },
      (err: unknown) => {
        const e = asOctoEverywhereError(err);
        this.#retain(this.topics.commandResult, JSON.stringify({ code: e.code, action, message: e.message, at }), true);
        this.#o.commandFailed(e, { topic, payload: text, action });
      },
    );
  }

  /** Webcam pictures only while printing, at the node's interval (every webcam rule of the printer applies). */
  #webcam(snapshot: PrinterSnapshot | undefined): void {
    const wanted = this.#o.groups.has('webcam') && snapshot?.online === true && snapshot.printing;
    if (!wanted) {
      this.#timers.cancel(this.#webcamTimer);
      this.#webcamTimer = undefined;
      return;
    }
    if (this.#webcamTimer || this.#webcamBusy) return;
    this.#takePicture();
  }

  #takePicture(): void {
    this.#webcamBusy = true;
    this.#o
      .snapshotImage()
      .then(
        (image) => {
          this.#webcamError = undefined;
          if (!this.#closed) this.#retain(this.topics.webcam, image);
        },
        (err: unknown) => {
          const e = err instanceof OctoEverywhereError ? err : asOctoEverywhereError(err);
          if (this.#webcamError !== e.code) this.#o.webcamFailed(e);
          this.#webcamError = e.code;
        },
      )
      .finally(() => {
        this.#webcamBusy = false;
        if (this.#closed) return;
        this.#webcamTimer = this.#timers.after(this.#o.webcamIntervalMs, () => {
          this.#webcamTimer = undefined;
          if (this.#last?.online && this.#last.printing && this.#reachable) this.#takePicture();
        });
      });
  }
}
