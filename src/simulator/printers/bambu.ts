// A Bambu Lab printer has no web API of its own; the OctoEverywhere companion on the LAN serves
// only the command API and, opt-in, a local web API that answers any GET (docs/octoeverywhere.md §6). Its live state
// comes from the printer's MQTT broker (docs/octoeverywhere.md §9.1): `device/<SN>/report` pushes of `print`
// `push_status` (only the changed fields, as P1/A1 do; everything on `pushall`), commands on
// `device/<SN>/request`.
import type { JobState, SimTimer } from '../contract';
import type { PrinterContext } from './context';
import { sendJson } from './http';
import { parsePayload, PushingBroker } from './mqtt-broker';
import type { NativeApi } from './native';

/** `isOnline` tells whether the companion is connected to OctoEverywhere. */
export function createBambuApi(ctx: PrinterContext, isOnline: () => boolean): NativeApi {
  return {
    handle(req, res) {
      if (req.method !== 'GET') {
        sendJson(res, 405, { error: 'Method not allowed' });
        return;
      }
      sendJson(res, 200, {
        PluginId: ctx.printerId,
        IsConnectedToOctoEverywhere: isOnline(),
        IsConnectedToPrinter: ctx.hostConnected,
        IsAccountLinked: true,
      });
    },
    close() {
      // nothing of its own to stop
    },
  };
}

/** How long the plugin takes to reconnect after the printer dropped its MQTT connection (real ms). */
export const BAMBU_RECONNECT_MS = 5_000;
/** A P1 pushes about once a second while printing (real ms). */
export const BAMBU_PUSH_INTERVAL_MS = 1_000;
/** A `print_error` the simulation reports for an injected fault (not one of the codes the plugin ignores). */
export const BAMBU_FAULT_CODE = 50348044;

/** gcode_state and stg_cur for a job state (plugin mapping: RUNNING + stg_cur 2/7 or PREPARE = warming up). */
function stage(ctx: PrinterContext): { gcode_state: string; stg_cur: number } {
  const { sim } = ctx;
  const { bed } = sim.heaters;
  const heatingStage = bed.actual < bed.target - 1 ? 2 : 7;
  const table: Record<JobState, { gcode_state: string; stg_cur: number }> = {
    idle: { gcode_state: 'IDLE', stg_cur: 255 },
    warmingup: { gcode_state: 'PREPARE', stg_cur: heatingStage },
    printing: { gcode_state: 'RUNNING', stg_cur: 0 },
    resuming: { gcode_state: 'RUNNING', stg_cur: 7 },
    paused: { gcode_state: 'PAUSE', stg_cur: 16 },
    complete: { gcode_state: 'FINISH', stg_cur: 255 },
    // A user stop: the plugin maps FAILED without print_error to cancelled.
    cancelled: { gcode_state: 'FAILED', stg_cur: 255 },
    error: { gcode_state: 'FAILED', stg_cur: 255 },
  };
  return table[sim.state];
}

type Report = Record<string, unknown>;

/** The `print` object of a full `push_status`, from the print simulation. */
export function bambuPrintReport(ctx: PrinterContext): Report {
  const { sim } = ctx;
  const job = sim.job;
  const { bed, hotend, chamber } = sim.heaters;
  const showJob = job !== undefined && sim.state !== 'idle';
  const timeLeft = sim.timeLeftSec;
  const round1 = (n: number): number => Math.round(n * 10) / 10;
  return {
    ...stage(ctx),
    mc_percent: showJob ? Math.floor(sim.progress) : 0,
    mc_remaining_time: showJob && timeLeft >= 0 ? Math.ceil(timeLeft / 60) : 0,
    layer_num: showJob ? sim.currentLayer : 0,
    total_layer_num: showJob ? job.totalLayers : 0,
    bed_temper: round1(bed.actual),
    bed_target_temper: bed.target,
    nozzle_temper: round1(hotend.actual),
    nozzle_target_temper: hotend.target,
    chamber_temper: round1(chamber.actual),
    subtask_name: showJob ? job.fileName.replace(/\.[^.]*$/, '') : '',
    gcode_file: showJob ? job.fileName : '',
    print_error: sim.state === 'error' ? BAMBU_FAULT_CODE : 0,
    lights_report: sim.lights.map((l) => ({ node: l.Name, mode: l.On ? 'on' : 'off' })),
    project_id: showJob ? '0' : '',
    task_id: showJob ? job.printId : '',
  };
}

/** The parts only a full report carries (the AMS does not change in the simulation). */
const STATIC_FULL: Report = {
  ams: {
    ams: [
      {
        id: '0',
        humidity: '4',
        temp: '24.5',
        tray: [
          { id: '0', tray_type: 'PLA', tray_color: 'FF8000FF', remain: 80 },
          { id: '1', tray_type: 'PETG', tray_color: '202020FF', remain: 35 },
        ],
      },
    ],
    ams_exist_bits: '1',
    tray_now: '0',
  },
  vt_tray: { id: '254', tray_type: '', tray_color: '00000000' },
  hms: [],
};

let serialCounter = 0;
/** A stable fake Bambu serial number: 01P00A000000001, 01P00A000000002, … in start order. */
export function nextBambuSerial(): string {
  return `01P00A${String(++serialCounter).padStart(9, '0')}`;
}

export class BambuBroker extends PushingBroker {
  private readonly reportTopic: string;
  private readonly requestTopic: string;
  private sent: Report;
  private sequence = 0;
  private reconnect: SimTimer | undefined;

  constructor(ctx: PrinterContext, serialNumber: string) {
    super(ctx, serialNumber, BAMBU_PUSH_INTERVAL_MS);
    this.reportTopic = `device/${serialNumber}/report`;
    this.requestTopic = `device/${serialNumber}/request`;
    this.sent = bambuPrintReport(ctx);
  }

  override close(): void {
    super.close();
    this.ctx.clock.clearTimer(this.reconnect);
    this.reconnect = undefined;
  }

  protected accepts(filter: string): boolean {
    const levels = filter.split('/');
    // the OctoEverywhere plugin's source: a SUBSCRIBE naming another serial makes the printer silently drop the connection. Through
    // the proxy's one upstream that ends every client's session (docs/octoeverywhere.md §9.1, inferred); the plugin
    // reconnects after BAMBU_RECONNECT_MS.
    if (levels[0] === 'device' && levels.length > 1 && levels[1] !== this.serialNumber && levels[1] !== '+' && levels[1] !== '#') {
      this.dropLink();
      this.reconnect = this.ctx.clock.setTimeout(() => {
        this.reconnect = undefined;
        this.restoreLink();
      }, this.ctx.realMs(BAMBU_RECONNECT_MS));
      return false;
    }
    // Partial pushes carry what changed since the subscription began; the rest needs pushall.
    if (!this.subscribed(this.reportTopic)) this.sent = bambuPrintReport(this.ctx);
    this.pacer.start();
    return true;
  }

  protected handle(topic: string, payload: Buffer): void {
    if (topic !== this.requestTopic) return;
    const message = parsePayload(payload);
    if (!message) return;
    const body = (key: string): Record<string, unknown> | undefined => {
      const value = message[key];
      return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
    };
    const pushing = body('pushing');
    const info = body('info');
    const print = body('print');
    const system = body('system');
    if (pushing?.command === 'pushall') this.pushFull();
    else if (info?.command === 'get_version') this.report({ info: { command: 'get_version', sequence_id: seqId(info.sequence_id), module: this.modules() } });
    else if (print && typeof print.command === 'string') this.printCommand(print.command, seqId(print.sequence_id));
    else if (system?.command === 'ledctrl' && typeof system.led_node === 'string') {
      const ok = this.ctx.sim.setLight(system.led_node, system.led_mode === 'on');
      this.report({ system: { command: 'ledctrl', sequence_id: seqId(system.sequence_id), result: ok ? 'success' : 'fail' } });
    }
  }

  private printCommand(command: string, sequenceId: string): void {
    const { sim } = this.ctx;
    const verbs: Record<string, () => boolean> = { pause: () => sim.pause(), resume: () => sim.resume(), stop: () => sim.cancel() };
    const verb = verbs[command];
    if (!verb) return;
    const ok = verb();
    // The printer answers a command on the report topic; the state change follows as a push.
    this.report({ print: { command, sequence_id: sequenceId, result: ok ? 'success' : 'fail', reason: ok ? '' : 'invalid state' } });
  }

  private modules(): unknown[] {
    const { platform, name } = this.ctx;
    return [
      { name: 'ota', product_name: name, sw_ver: platform.platformVersion, hw_ver: 'OTA', sn: this.serialNumber },
      { name: 'mc', product_name: name, sw_ver: '00.00.28.55', hw_ver: 'MC07', sn: `00M${this.serialNumber.slice(3)}` },
    ];
  }

  private pushFull(): void {
    this.sent = bambuPrintReport(this.ctx);
    this.report({ print: { command: 'push_status', sequence_id: String(this.sequence++), msg: 0, ...this.sent, ...STATIC_FULL } });
  }

  /** Pushes what changed; false once nobody listens. */
  protected pushChanges(): boolean {
    if (!this.linkUp || !this.subscribed(this.reportTopic)) return false;
    const now = bambuPrintReport(this.ctx);
    const changed: Report = {};
    for (const [key, value] of Object.entries(now)) {
      if (JSON.stringify(this.sent[key]) !== JSON.stringify(value)) changed[key] = value;
    }
    this.sent = now;
    if (Object.keys(changed).length > 0) this.report({ print: { command: 'push_status', sequence_id: String(this.sequence++), msg: 1, ...changed } });
    return true;
  }

  private report(message: Report): void {
    this.deliver(this.reportTopic, JSON.stringify(message));
  }
}

/** A request's sequence_id as the printer echoes it: its text, or '0' when absent or not a scalar. */
function seqId(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '0';
}
