// Elegoo Centauri Carbon 2 through the MQTT proxy (docs/octoeverywhere.md §9.1): register, ask for the full status
// (method 1002), merge the partial `api_status` pushes (asking again after a gap in their ids), and
// PING often enough that the printer does not forget the client (it does after 65 s).
import { randomBytes } from 'node:crypto';
import { isObject } from '../values';
import { OctoEverywhereError } from '../errors';
import { parseJobStatus } from '../status';
import { deepMerge, MqttSession } from './mqtt-session';
import type { PrintKey, SessionContext } from './session';

const STATUS_METHOD = 6000;
const FULL_STATUS_METHOD = 1002;
/** The command API's Features of a CC2 (as the simulator reports them; unverified for production). */
const CC2_FEATURES = 33;
/**
 * Heartbeats without one message on the printer's topics before the serial number is taken for wrong:
 * a CC2 answers a registration at once, and nothing at all comes on another printer's topics.
 */
export const CC2_SILENT_HEARTBEATS = 3;

/** machine_status.sub_status → job state (the plugin's table). */
const SUB_STATES: Readonly<Record<number, string>> = {
  1405: 'warmingup',
  1045: 'warmingup',
  2075: 'printing',
  2401: 'resuming',
  2502: 'paused',
  2077: 'complete',
  2504: 'cancelled',
};

export class ElegooCc2Session extends MqttSession {
  private readonly requestId = randomBytes(6).toString('hex');
  private readonly cc2Id = randomBytes(6).toString('hex');
  private state: Record<string, unknown> | undefined;
  private lastStatusId: number | undefined;
  private nextRequest = 1;
  /** Something came on this printer's topics; until then, heartbeats that heard nothing are counted. */
  private heard = false;
  private silentBeats = 0;

  constructor(ctx: SessionContext, serialNumber: string) {
    super(ctx, serialNumber);
  }

  private get prefix(): string {
    return `elegoo/${this.serialNumber}/`;
  }

  protected onConnect(): void {
    const p = this.prefix;
    this.subscribe([`${p}api_status`, `${p}${this.cc2Id}/api_response`, `${p}${this.requestId}/register_response`], () => this.register());
  }

  /** Every heartbeat (at most 30 s apart, see MAX_HEARTBEAT_MS): the printer forgets a client silent for 65 s. */
  protected override keepalive(): void {
    if (!this.heard && ++this.silentBeats >= CC2_SILENT_HEARTBEATS) {
      // Not a network fault (MQTT's keepalive is answered): nobody listens on these topics. Stop
      // rather than reconnect for ever; a redeploy tries again.
      this.fail(
        new OctoEverywhereError(
          'OE_MQTT_SUBSCRIBE_REFUSED',
          `The printer never answered on ${this.prefix}…: the serial number (${this.serialNumber}) is probably wrong. Check it in the config node.`,
          { kind: 'permanent' },
        ),
      );
      return;
    }
    // No full status yet: the registration (or its answer) was lost, so register again.
    if (!this.state) this.register();
    else this.request({ type: 'PING' });
  }

  private register(): void {
    this.publish(`${this.prefix}api_register`, { client_id: this.cc2Id, request_id: this.requestId });
  }

  private request(body: Record<string, unknown>): void {
    this.publish(`${this.prefix}${this.cc2Id}/api_request`, body);
  }

  private askFullStatus(): void {
    this.request({ id: this.nextRequest++, method: FULL_STATUS_METHOD, params: {} });
  }

  protected onMessage(topic: string, message: unknown): void {
    const p = this.prefix;
    if (topic.startsWith(p)) this.heard = true;
    if (!isObject(message)) return;
    if (topic === `${p}${this.requestId}/register_response`) {
      this.askFullStatus();
      return;
    }
    if (topic === `${p}${this.cc2Id}/api_response`) {
      if (message.method === FULL_STATUS_METHOD && isObject(message.result)) {
        const { error_code: _ignored, ...full } = message.result;
        this.state = deepMerge({}, full);
        this.report();
      }
      return;
    }
    if (topic === `${p}api_status` && message.method === STATUS_METHOD && isObject(message.result)) {
      const id = typeof message.status_id === 'number' ? message.status_id : typeof message.id === 'number' ? message.id : undefined;
      const gap = id !== undefined && this.lastStatusId !== undefined && id !== this.lastStatusId + 1;
      if (id !== undefined) this.lastStatusId = id;
      if (!this.state) return; // the full status is on its way
      deepMerge(this.state, message.result);
      if (gap) this.askFullStatus();
      this.report();
    }
  }

  private report(): void {
    if (!this.state) return;
    const { job, print } = cc2Status(this.state);
    this.sink?.status(job, print);
  }
}

export function cc2Status(s: Record<string, unknown>): { job: ReturnType<typeof parseJobStatus>; print: PrintKey | null } {
  const machine = isObject(s.machine_status) ? s.machine_status : {};
  const ps = isObject(s.print_status) ? s.print_status : {};
  const exceptions = Array.isArray(machine.exception_status) ? machine.exception_status : [];
  const sub = typeof machine.sub_status === 'number' ? machine.sub_status : 0;
  const state = exceptions.length > 0 ? 'error' : machine.status === 2 ? (SUB_STATES[sub] ?? 'printing') : machine.status === 1 ? 'idle' : 'unknown';
  const fileName = typeof ps.filename === 'string' && ps.filename !== '' ? ps.filename : null;
  const active = state !== 'idle' && fileName !== null;
  const part = (name: string): Record<string, unknown> => (isObject(s[name]) ? s[name] : {});
  const led = part('led');
  const uuid = typeof ps.uuid === 'string' && ps.uuid !== '' ? ps.uuid : undefined;
  const job = parseJobStatus({
    JobStatus: {
      State: state,
      Error: state === 'error' ? `Printer exception ${exceptions.join(', ')}` : null,
      Lights: typeof led.status === 'number' ? [{ Name: 'chamber_light', On: led.status === 1 }] : [],
      CurrentPrint: {
        ...(active
          ? {
              Progress: ps.progress,
              DurationSec: ps.print_duration,
              TimeLeftSec: ps.remaining_time_sec,
              FileName: fileName,
              CurrentLayer: ps.current_layer,
              TotalLayers: ps.total_layer,
            }
          : {}),
        Temps: {
          BedActual: part('heater_bed').temperature,
          BedTarget: part('heater_bed').target,
          HotendActual: part('extruder').temperature,
          HotendTarget: part('extruder').target,
          ChamberActual: part('ztemperature_sensor').temperature,
          ChamberTarget: part('ztemperature_sensor').target,
        },
      },
    },
    Features: CC2_FEATURES,
  });
  return { job, print: active ? (uuid ? { id: uuid, fileName } : { fileName }) : null };
}
