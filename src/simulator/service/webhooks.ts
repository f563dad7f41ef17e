// Print-event webhooks (docs/octoeverywhere.md §4, §5): App Connection registrations set through the App APIs and
// LAN "user webhooks" the user configures, both POSTing the same JSON body.
import http from 'node:http';
import https from 'node:https';
import type { SimClock, SimPrinter, SimPrinterEvent } from '../contract';
import type { Account, Connection } from './account';
import type { Chaos } from './chaos';
import { token } from './ids';

/** A registration lives this long after the last successful Set (simulated time). */
export const WEBHOOK_LIFETIME_MS = 180 * 24 * 60 * 60 * 1000;
/** A webhook failing MORE than this many times in a row is disabled. */
export const MAX_CONSECUTIVE_FAILURES = 5;
export const TEST_NOTIFICATION_EVENT = 16;

/** One delivery attempt, as `Simulator.webhookDeliveries` records it. */
export interface WebhookDelivery {
  /** The App Connection ID, or the user webhook's ID. */
  connectionId: string;
  url: string;
  /** The target's HTTP status, or 'error' for no answer (refused, reset, timed out). */
  status: number | 'error';
  body: object;
  /** Simulated time of the attempt. */
  at: number;
}

interface Target {
  /** App Connection ID or user webhook ID. */
  readonly id: string;
  readonly url: string;
  /** Event types to deliver; empty = all. */
  readonly filter: readonly number[];
  readonly printer: SimPrinter;
  readonly setAt: number;
  readonly secretKey?: string;
  failures: number;
  disabled: boolean;
  /** Deliveries to one target go one after another, in event order. */
  tail: Promise<void>;
}

/** The extra URLs a delivery carries (the service serves them). */
export type EventLinks = (printer: SimPrinter) => { SnapshotUrl: string; QuickViewUrl: string };

/** Production only calls public HTTPS URLs; loopback HTTP is accepted because the simulator's tests have no TLS. */
export function isAcceptableWebhookUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  const host = url.hostname;
  return host === '127.0.0.1' || host === '[::1]' || host === 'localhost' || host.endsWith('.localhost');
}

export class Webhooks {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly registrations = new Map<string, Target>();
  private readonly userHooks = new Map<string, Target>();
  private readonly pending = new Set<Promise<void>>();
  private readonly inFlight = new Set<{ req: http.ClientRequest; timer: NodeJS.Timeout }>();
  private readonly listeners = new Map<SimPrinter, (event: SimPrinterEvent) => void>();

  constructor(
    private readonly account: Account,
    private readonly clock: SimClock,
    private readonly chaos: Chaos,
    private readonly links: EventLinks,
  ) {}

  /** Starts listening to a printer's print events. */
  watch(printer: SimPrinter): void {
    if (this.listeners.has(printer)) return;
    const listener = (event: SimPrinterEvent): void => this.onEvent(printer, event);
    printer.on('event', listener);
    this.listeners.set(printer, listener);
  }

  /** Replaces the connection's registration (Set webhook). */
  set(conn: Connection, url: string, filter: readonly number[]): void {
    this.registrations.set(conn.id, this.target(conn.id, conn.printer, url, filter));
  }

  delete(conn: Connection): void {
    this.registrations.delete(conn.id);
  }

  /** The connection's registration unless it expired (an expired one is forgotten). */
  registration(conn: Connection): Readonly<Target> | undefined {
    const reg = this.registrations.get(conn.id);
    if (reg && this.clock.now() - reg.setAt > WEBHOOK_LIFETIME_MS) {
      this.registrations.delete(conn.id);
      return undefined;
    }
    return reg;
  }

  /** Delivers a Test Notification now, whatever the filter, and returns what the target answered. */
  async test(conn: Connection): Promise<number | 'error' | undefined> {
    const reg = this.registration(conn);
    if (!reg) return undefined;
    return this.attempt(reg, this.body(conn.printer, { EventType: TEST_NOTIFICATION_EVENT }), false);
  }

  addUserWebhook(printer: SimPrinter, url: string, secretKey?: string): string {
    const hook = this.target(`uw-${token(10).toLowerCase()}`, printer, url, [], secretKey);
    this.userHooks.set(hook.id, hook);
    this.watch(printer);
    return hook.id;
  }

  removeUserWebhook(id: string): void {
    this.userHooks.delete(id);
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  close(): void {
    for (const [printer, listener] of this.listeners) printer.off('event', listener);
    this.listeners.clear();
    for (const { req, timer } of this.inFlight) {
      clearTimeout(timer);
      req.destroy();
    }
    this.inFlight.clear();
  }

  private target(id: string, printer: SimPrinter, url: string, filter: readonly number[], secretKey?: string): Target {
    return { id, url, filter, printer, setAt: this.clock.now(), secretKey, failures: 0, disabled: false, tail: Promise.resolve() };
  }

  private onEvent(printer: SimPrinter, event: SimPrinterEvent): void {
    const targets: Target[] = [];
    if (this.account.supporter) {
      for (const conn of this.account.activeAppConnections(printer)) {
        const reg = this.registration(conn);
        if (reg && (reg.filter.length === 0 || reg.filter.includes(event.EventType))) targets.push(reg);
      }
    }
    for (const hook of this.userHooks.values()) if (hook.printer === printer) targets.push(hook);
    for (const target of targets) {
      if (target.disabled) continue;
      const body = this.body(printer, event, target.secretKey);
      // Re-checked when its turn comes: earlier queued deliveries may have disabled the target.
      const delivery = target.tail.then(async () => {
        if (!target.disabled) await this.attempt(target, body, true);
      });
      target.tail = delivery;
      this.pending.add(delivery);
      void delivery.finally(() => this.pending.delete(delivery));
    }
  }

  private body(printer: SimPrinter, event: SimPrinterEvent, secretKey?: string): object {
    return {
      PrinterId: printer.printerId,
      ...(secretKey !== undefined ? { SecretKey: secretKey } : {}),
      PrinterName: printer.name,
      ...this.links(printer),
      ...event,
    };
  }

  /** One POST; `counts` = an event delivery whose failures count towards disabling. */
  private async attempt(target: Target, body: object, counts: boolean): Promise<number | 'error'> {
    const at = this.clock.now();
    const status = await this.post(target.url, body);
    this.deliveries.push({ connectionId: target.id, url: target.url, status, body, at });
    if (counts) {
      if (typeof status === 'number' && status >= 200 && status < 300) target.failures = 0;
      else if (++target.failures > MAX_CONSECUTIVE_FAILURES) target.disabled = true;
    }
    return status;
  }

  private post(url: string, body: object): Promise<number | 'error'> {
    return new Promise((resolve) => {
      const payload = JSON.stringify(body);
      const request = (url.startsWith('https:') ? https : http).request(url, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      });
      const entry = {
        req: request,
        timer: setTimeout(() => {
          request.destroy();
          finish('error');
        }, this.chaos.webhookTimeoutMs()),
      };
      this.inFlight.add(entry);
      let done = false;
      function finish(status: number | 'error'): void {
        if (done) return;
        done = true;
        resolve(status);
      }
      request.on('response', (res) => {
        res.resume();
        finish(res.statusCode ?? 'error');
      });
      request.on('error', () => finish('error'));
      request.on('close', () => {
        clearTimeout(entry.timer);
        this.inFlight.delete(entry);
        finish('error');
      });
      request.end(payload);
    });
  }
}
