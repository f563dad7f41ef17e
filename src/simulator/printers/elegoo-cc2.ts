// An Elegoo Centauri Carbon 2 behind the OctoEverywhere companion: its MQTT broker's protocol as the
// plugin uses it (docs/octoeverywhere.md §9.1; the OctoEverywhere plugin's source elegoocc2client.py / elegoocc2models.py): status pushes on
// `elegoo/<SN>/api_status` with only the changed fields, a registration before requests, requests
// and answers per client id, and a PING/PONG heartbeat.
import type { JobState, SimTimer } from '../contract';
import type { PrinterContext } from './context';
import { parsePayload, PushingBroker } from './mqtt-broker';

/** The status push's method number. */
export const CC2_STATUS_METHOD = 6000;
export const CC2_METHOD = { Attributes: 1001, Status: 1002 } as const;
/** A registered client that neither pings nor asks for this long is forgotten (real ms). */
export const CC2_CLIENT_TIMEOUT_MS = 65_000;
/** Status pushes while something changes (real ms). */
export const CC2_PUSH_INTERVAL_MS = 1_000;

/** machine_status.status / sub_status for a job state (the plugin's PrinterState table, reversed). */
function machineStatus(ctx: PrinterContext): { status: number; sub_status: number } {
  const { bed } = ctx.sim.heaters;
  const table: Record<JobState, { status: number; sub_status: number }> = {
    idle: { status: 1, sub_status: 0 },
    warmingup: { status: 2, sub_status: bed.actual < bed.target - 1 ? 1405 : 1045 },
    printing: { status: 2, sub_status: 2075 },
    resuming: { status: 2, sub_status: 2401 },
    paused: { status: 2, sub_status: 2502 },
    complete: { status: 2, sub_status: 2077 },
    cancelled: { status: 2, sub_status: 2504 },
    error: { status: 1, sub_status: 0 },
  };
  return table[ctx.sim.state];
}

type Status = Record<string, Record<string, unknown>>;

/** The full status (method 1002's result and the base of every push). */
export function cc2Status(ctx: PrinterContext): Status {
  const { sim } = ctx;
  const job = sim.job;
  const showJob = job !== undefined && sim.state !== 'idle';
  const { bed, hotend, chamber } = sim.heaters;
  const progress = showJob ? Math.floor(sim.progress) : 0;
  const timeLeft = sim.timeLeftSec;
  const round1 = (n: number): number => Math.round(n * 10) / 10;
  return {
    machine_status: { ...machineStatus(ctx), exception_status: sim.state === 'error' ? [1101] : [], progress },
    print_status: {
      filename: showJob ? job.fileName : '',
      uuid: showJob ? job.printId : '',
      current_layer: showJob ? sim.currentLayer : 0,
      total_layer: showJob ? job.totalLayers : 0,
      print_duration: showJob ? sim.durationSec : 0,
      total_duration: showJob ? job.durationSec : 0,
      remaining_time_sec: showJob && timeLeft >= 0 ? timeLeft : 0,
      progress,
    },
    extruder: { temperature: round1(hotend.actual), target: hotend.target },
    heater_bed: { temperature: round1(bed.actual), target: bed.target },
    ztemperature_sensor: { temperature: round1(chamber.actual), target: chamber.target },
    led: { status: sim.lights.some((l) => l.On) ? 1 : 0 },
  };
}

let serialCounter = 0;
/** A stable fake CC2 serial number in start order. */
export function nextCc2Serial(): string {
  return `E2CC${String(++serialCounter).padStart(11, '0')}`;
}

export class Cc2Broker extends PushingBroker {
  private readonly prefix: string;
  private readonly statusTopic: string;
  private sent: Status;
  private statusId = 0;
  /** Registered client ids and the timer that forgets each. */
  private readonly clients = new Map<string, SimTimer>();

  constructor(ctx: PrinterContext, serialNumber: string) {
    super(ctx, serialNumber, CC2_PUSH_INTERVAL_MS);
    this.prefix = `elegoo/${serialNumber}/`;
    this.statusTopic = `${this.prefix}api_status`;
    this.sent = cc2Status(ctx);
    this.on('link', (up: boolean) => {
      if (!up) this.forgetClients();
    });
  }

  /** Client ids registered now (for tests). */
  get registeredClients(): string[] {
    return [...this.clients.keys()];
  }

  override close(): void {
    super.close();
    this.forgetClients();
  }

  protected accepts(): boolean {
    if (!this.subscribed(this.statusTopic)) this.sent = cc2Status(this.ctx);
    this.pacer.start();
    return true;
  }

  protected handle(topic: string, payload: Buffer): void {
    if (!topic.startsWith(this.prefix)) return;
    const rest = topic.slice(this.prefix.length).split('/');
    const message = parsePayload(payload);
    if (!message) return;
    if (rest.length === 1 && rest[0] === 'api_register') {
      const clientId = message.client_id;
      const requestId = message.request_id;
      if (typeof clientId !== 'string' || clientId === '' || typeof requestId !== 'string' || requestId === '') return;
      this.touch(clientId);
      this.deliver(`${this.prefix}${requestId}/register_response`, JSON.stringify({ client_id: clientId, request_id: requestId, error: 'ok' }));
      return;
    }
    if (rest.length === 2 && rest[1] === 'api_request') this.request(rest[0], message);
  }

  private request(clientId: string, message: Record<string, unknown>): void {
    // An unregistered client gets no answer (the printer expects api_register first).
    if (!this.clients.has(clientId)) return;
    this.touch(clientId);
    const answer = (body: Record<string, unknown>): void => this.deliver(`${this.prefix}${clientId}/api_response`, JSON.stringify(body));
    if (message.type === 'PING') {
      answer({ type: 'PONG' });
      return;
    }
    const { id, method } = message;
    if (method === CC2_METHOD.Attributes) answer({ id, method, result: { error_code: 0, ...this.attributes() } });
    else if (method === CC2_METHOD.Status) answer({ id, method, result: { error_code: 0, ...cc2Status(this.ctx) } });
    // The simulator's choice for methods it does not model: an answer with a non-zero error_code.
    else answer({ id, method, result: { error_code: 1 } });
  }

  private attributes(): Record<string, unknown> {
    const { name, platform } = this.ctx;
    return {
      hostname: name,
      machine_model: 'Centauri Carbon 2',
      sn: this.serialNumber,
      ip: '127.0.0.1',
      mac: '02:00:00:00:cc:02',
      protocol_version: '1.0.0',
      hardware_version: 'V1.0',
      software_version: { ota_version: platform.platformVersion, mcu_version: '00.01.02', soc_version: '01.00.07' },
    };
  }

  private touch(clientId: string): void {
    this.ctx.clock.clearTimer(this.clients.get(clientId));
    this.clients.set(
      clientId,
      this.ctx.clock.setTimeout(() => this.clients.delete(clientId), this.ctx.realMs(CC2_CLIENT_TIMEOUT_MS)),
    );
  }

  private forgetClients(): void {
    for (const timer of this.clients.values()) this.ctx.clock.clearTimer(timer);
    this.clients.clear();
  }

  /** Pushes what changed; false once nobody listens. */
  protected pushChanges(): boolean {
    if (!this.linkUp || !this.subscribed(this.statusTopic)) return false;
    const now = cc2Status(this.ctx);
    const changed: Status = {};
    for (const [object, attrs] of Object.entries(now)) {
      for (const [key, value] of Object.entries(attrs)) {
        if (JSON.stringify(this.sent[object]?.[key]) !== JSON.stringify(value)) (changed[object] ??= {})[key] = value;
      }
    }
    this.sent = now;
    if (Object.keys(changed).length > 0) {
      this.deliver(this.statusTopic, JSON.stringify({ method: CC2_STATUS_METHOD, status_id: ++this.statusId, result: changed }));
    }
    return true;
  }
}
