// The broker inside an MQTT printer (Bambu Lab, Elegoo CC2) as the plugin's one upstream connection
// sees it: subscriptions, the link, and delivery of what the printer (or a client) publishes.
import { EventEmitter } from 'node:events';
import type { SimClock, SimMqttBroker, SimMqttMessage, SimTimer } from '../contract';
import { topicMatches } from '../mqtt-topic';
import type { PrinterContext } from './context';

export abstract class PrinterBroker extends EventEmitter implements SimMqttBroker {
  /** Upstream subscriptions; the proxy subscribes each distinct filter once. */
  readonly subscriptions = new Set<string>();
  /** How many SUBSCRIBEs reached the printer (tests check that identical filters share one). */
  upstreamSubscribes = 0;
  /** Filters the printer refuses (the proxy answers SUBACK 0x80): lets clients' refusal paths be tested. */
  readonly refusedFilters = new Set<string>();
  private hostUp = true;
  private dropped = false;

  constructor(readonly serialNumber: string) {
    super();
  }

  get linkUp(): boolean {
    return this.hostUp && !this.dropped;
  }

  subscribe(filter: string): boolean {
    if (!this.linkUp) return false;
    this.upstreamSubscribes++;
    if (this.refusedFilters.has(filter) || !this.accepts(filter)) return false;
    this.subscriptions.add(filter);
    return true;
  }

  unsubscribe(filter: string): void {
    this.subscriptions.delete(filter);
  }

  publish(topic: string, payload: Buffer, retain: boolean): void {
    if (!this.linkUp) return;
    // A broker delivers a client's publish to every matching subscription, the sender's included.
    this.deliver(topic, payload, retain);
    this.handle(topic, payload);
  }

  /** The plugin's link to the printer host (the printer's `setHostConnected`). */
  setHostUp(up: boolean): void {
    const before = this.linkUp;
    this.hostUp = up;
    this.linkChanged(before);
  }

  /** The printer dropped the plugin's connection (e.g. a subscribe it does not like). */
  protected dropLink(): void {
    const before = this.linkUp;
    this.dropped = true;
    this.linkChanged(before);
  }

  protected restoreLink(): void {
    const before = this.linkUp;
    this.dropped = false;
    this.linkChanged(before);
  }

  protected deliver(topic: string, payload: Buffer | string, retain = false): void {
    if (!this.linkUp) return;
    for (const filter of this.subscriptions) {
      if (topicMatches(filter, topic)) {
        const message: SimMqttMessage = { topic, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), retain };
        this.emit('message', message);
        return;
      }
    }
  }

  protected subscribed(topic: string): boolean {
    for (const filter of this.subscriptions) if (topicMatches(filter, topic)) return true;
    return false;
  }

  /** Whether the printer takes this subscription; it may drop the link instead. */
  protected abstract accepts(filter: string): boolean;
  /** The printer's reaction to a publish (commands on its request topics). */
  protected abstract handle(topic: string, payload: Buffer): void;
  abstract close(): void;

  private linkChanged(before: boolean): void {
    if (before === this.linkUp) return;
    // A new upstream connection starts with no subscriptions.
    if (!this.linkUp) this.subscriptions.clear();
    this.emit('link', this.linkUp);
  }
}

/**
 * A printer broker that pushes its status while someone listens (its PushPacer, started by the
 * subclass when a subscription wants the pushes) and at once on every job state change.
 */
export abstract class PushingBroker extends PrinterBroker {
  protected readonly pacer: PushPacer;
  readonly #onState = (): void => void this.pushChanges();

  constructor(
    protected readonly ctx: PrinterContext,
    serialNumber: string,
    pushIntervalMs: number,
  ) {
    super(serialNumber);
    this.pacer = new PushPacer(ctx.clock, ctx.realMs(pushIntervalMs), () => this.pushChanges());
    ctx.sim.on('state', this.#onState);
  }

  /** Pushes what changed since the last push; false once nobody listens (which stops the pacer). */
  protected abstract pushChanges(): boolean;

  close(): void {
    this.ctx.sim.off('state', this.#onState);
    this.pacer.stop();
  }
}

/**
 * Paces a printer's status pushes while someone listens: every `intervalMs`, and at once on a job
 * state change (so no state is skipped). `push` returns false once nobody listens, which stops it.
 */
export class PushPacer {
  private timer: SimTimer | undefined;

  constructor(
    private readonly clock: SimClock,
    private readonly intervalMs: number,
    private readonly push: () => boolean,
  ) {}

  start(): void {
    this.timer ??= this.clock.setInterval(() => {
      if (!this.push()) this.stop();
    }, this.intervalMs);
  }

  stop(): void {
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}

/** A JSON object payload, or undefined. */
export function parsePayload(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
