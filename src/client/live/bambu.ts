// Bambu Lab through the MQTT proxy (docs/octoeverywhere.md §9.1): subscribe exactly `device/<SN>/report`, ask for
// everything with pushall, merge the partial `print` reports (P1/A1 send only what changed) and map
// them as the plugin's own status does.
import { isObject } from '../values';
import { OctoEverywhereError } from '../errors';
import { parseJobStatus } from '../status';
import { deepMerge, MqttSession } from './mqtt-session';
import type { PrintKey, SessionContext } from './session';

/** The command API's Features of a Bambu printer (docs/octoeverywhere.md §7). */
const BAMBU_FEATURES = 33;
/** `print_error` values the plugin ignores: not errors. */
const IGNORED_ERRORS: ReadonlySet<number> = new Set([0, 83918896, 50364434, 83935249]);

export class BambuSession extends MqttSession {
  private print: Record<string, unknown> | undefined;
  /** Subscribed, and no report yet. */
  private awaitingReport = false;

  constructor(ctx: SessionContext, serialNumber: string) {
    super(ctx, serialNumber);
  }

  protected onConnect(): void {
    this.awaitingReport = true;
    this.subscribe([`device/${this.serialNumber}/report`], () => this.pushall());
  }

  /**
   * A printer drops its MQTT connection when a subscription names another serial number, and through
   * the proxy's shared upstream that ends every client's session (docs/octoeverywhere.md §9.1). A session that ends
   * after subscribing and before any report, twice in a row (once may be a network drop), is taken for
   * that: one error, no retry that would knock every other client of the printer off again and again.
   */
  protected override endedError(): OctoEverywhereError | undefined {
    if (!this.awaitingReport) return undefined;
    const drops = (this.ctx.memo.bambuDropsAfterSubscribe ?? 0) + 1;
    this.ctx.memo.bambuDropsAfterSubscribe = drops;
    if (drops < 2) return undefined;
    return new OctoEverywhereError(
      'OE_MQTT_SUBSCRIBE_REFUSED',
      `The printer ended the MQTT session right after the subscription to its reports: the serial number (${this.serialNumber}) is probably wrong. Check it in the config node.`,
      { kind: 'permanent' },
    );
  }

  private pushall(): void {
    this.publish(`device/${this.serialNumber}/request`, { pushing: { sequence_id: '0', command: 'pushall', version: 1, push_target: 1 } });
  }

  protected onMessage(topic: string, message: unknown): void {
    if (topic !== `device/${this.serialNumber}/report`) return;
    this.awaitingReport = false;
    this.ctx.memo.bambuDropsAfterSubscribe = 0;
    if (!isObject(message) || !isObject(message.print)) return;
    const update = message.print;
    if (update.command !== 'push_status') return;
    // Until the full report has come, a partial one cannot be read as the printer's state.
    if (!this.print) {
      if (typeof update.gcode_state !== 'string') return;
      this.print = {};
    }
    deepMerge(this.print, update);
    const { job, print } = bambuStatus(this.print);
    this.sink?.status(job, print);
  }
}

/** The plugin's mapping (bambucommandhandler.py): FAILED without a print error is a user stop. */
export function bambuStatus(p: Record<string, unknown>): { job: ReturnType<typeof parseJobStatus>; print: PrintKey | null } {
  const gcode = typeof p.gcode_state === 'string' ? p.gcode_state : 'UNKNOWN';
  const errorCode = typeof p.print_error === 'number' ? p.print_error : 0;
  const stage = typeof p.stg_cur === 'number' ? p.stg_cur : -1;
  const totalLayers = typeof p.total_layer_num === 'number' ? p.total_layer_num : 0;
  let state: string;
  if (!IGNORED_ERRORS.has(errorCode)) state = 'error';
  else if (gcode === 'RUNNING' || gcode === 'SLICING') state = stage === 2 || stage === 7 ? 'warmingup' : 'printing';
  else if (gcode === 'PREPARE') state = 'warmingup';
  else if (gcode === 'PAUSE') state = 'paused';
  else if (gcode === 'FINISH') state = totalLayers === 0 ? 'idle' : 'complete';
  else if (gcode === 'FAILED') state = 'cancelled';
  else state = 'idle';
  const fileName = str(p.gcode_file) ?? str(p.subtask_name);
  const active = state !== 'idle' && fileName !== null;
  const minutes = typeof p.mc_remaining_time === 'number' ? p.mc_remaining_time : null;
  const lights = Array.isArray(p.lights_report) ? p.lights_report.filter(isObject) : [];
  const taskId = str(p.task_id);
  const job = parseJobStatus({
    JobStatus: {
      State: state,
      Error: state === 'error' ? `Printer error ${errorCode}` : null,
      Lights: lights.map((l) => ({ Name: l.node, On: l.mode === 'on' })),
      CurrentPrint: {
        ...(active
          ? {
              Progress: p.mc_percent,
              TimeLeftSec: minutes === null ? -1 : minutes * 60,
              FileName: fileName,
              CurrentLayer: p.layer_num,
              TotalLayers: p.total_layer_num,
            }
          : {}),
        Temps: {
          BedActual: p.bed_temper,
          BedTarget: p.bed_target_temper,
          HotendActual: p.nozzle_temper,
          HotendTarget: p.nozzle_target_temper,
          ChamberActual: p.chamber_temper,
          ChamberTarget: null,
        },
      },
    },
    Features: BAMBU_FEATURES,
  });
  return { job, print: active ? (taskId && taskId !== '0' ? { id: taskId, fileName } : { fileName }) : null };
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
