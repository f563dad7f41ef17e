// octoeverywhere-printer-command in the real Node-RED runtime, against the simulator's three printer
// kinds (Moonraker: Features 63, OctoPrint: 32, Bambu: 33): each action changes the simulated
// printer, refusals arrive at Catch nodes with their code, bad arguments never leave the machine.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { NodeInitializer, NodeMessage } from 'node-red';
import { coreNode, helper, nodeModule } from '../helpers/nodes';
import { secretsIn } from '../helpers/secrets';
import { appConnectionCredentials } from '../helpers/simulator';
import { createClock, startSimulator, type ManagedClock, type Simulator } from '../../src/simulator';
import type { SimulatedPrinter } from '../../src/simulator/printers';
import type { AppConnectionCredentials, AppConnectionNode, Node } from '../../src/nodes/shared/types';
import { ACTIONS, payloadArguments } from '../../src/nodes/shared/printer-actions';
import type { Translate } from '../../src/nodes/shared/settings';

const configModule = nodeModule('octoeverywhere-app-connection') as NodeInitializer;
const commandModule = nodeModule('octoeverywhere-printer-command') as NodeInitializer;
// Node-RED's own Catch node, so failures are seen exactly as a flow sees them (msg.error.code).

const catchModule = coreNode('common/25-catch.js') as unknown as NodeInitializer;
const NODES_DIR = path.resolve(__dirname, '../../nodes');
const catalog = JSON.parse(fs.readFileSync(path.join(NODES_DIR, 'locales/en-US/octoeverywhere-printer-command.json'), 'utf8')) as {
  errors: Record<string, string>;
} & Record<string, Record<string, string>>;
const editorHtml = fs.readFileSync(path.join(NODES_DIR, 'octoeverywhere-printer-command.html'), 'utf8');

const MOONRAKER = 0;
const OCTOPRINT = 1;
const BAMBU = 2;
/** From print start, past warming up, well inside the default two-hour print. */
const INTO_PRINT_MS = 120_000;

type Msg = NodeMessage & { action?: unknown; error?: { code?: string; message?: string } };
interface StatusCall {
  fill?: string;
  shape?: string;
  text?: string;
}

interface Harness {
  printer: SimulatedPrinter;
  command: Node;
  outputs: Msg[];
  errors: Msg[];
  /** Paths the node's client asked for: empty means nothing was sent. */
  sent: string[];
  /** The body of each of those requests, as the client was asked to send it. */
  bodies: unknown[];
  statuses: StatusCall[];
  /** Sends msg into the node and resolves with the one message it ends in (output or Catch). */
  run(msg: Record<string, unknown>): Promise<Msg>;
}

describe('node: octoeverywhere-printer-command', () => {
  let clock: ManagedClock;
  let sim: Simulator;

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({ clock });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
    clock.dispose();
  });

  /** Bearer and App API token only, so that `bearer` (a wrong token) is the one credential sent. */
  function credentials(printerIndex: number, bearer?: string): AppConnectionCredentials {
    const { url, authBearerToken, appApiToken } = appConnectionCredentials(sim, printerIndex);
    return { url, authBearerToken: bearer ?? authBearerToken, appApiToken };
  }

  async function load(printerIndex: number, props: Record<string, unknown> = {}, opts: { bearer?: string; connection?: string } = {}): Promise<Harness> {
    const flow = [
      { id: 'f1', type: 'tab', label: 'test' },
      { id: 'c1', type: 'octoeverywhere-app-connection', name: 'printer', serviceUrl: sim.serviceUrl },
      { id: 'n1', z: 'f1', type: 'octoeverywhere-printer-command', connection: opts.connection ?? 'c1', wires: [['out']], ...props },
      { id: 'out', z: 'f1', type: 'helper' },
      { id: 'catcher', z: 'f1', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    await helper.load([configModule, commandModule, catchModule], flow, { c1: credentials(printerIndex, opts.bearer) });
    const command = helper.getNode('n1') as Node;
    const outputs: Msg[] = [];
    const errors: Msg[] = [];
    const waiting = new Map<string, (m: Msg) => void>();
    const settle = (m: Msg): void => {
      const resolve = waiting.get(m._msgid ?? '');
      waiting.delete(m._msgid ?? '');
      resolve?.(m);
    };
    helper.getNode('out').on('input', (m: Msg) => {
      outputs.push(m);
      settle(m);
    });
    helper.getNode('caught').on('input', (m: Msg) => {
      errors.push(m);
      settle(m);
    });
    const sent: string[] = [];
    const bodies: unknown[] = [];
    const connection = (helper.getNode('c1') as AppConnectionNode | null)?.client().connection;
    if (connection) {
      const request = connection.request.bind(connection);
      connection.request = (req) => {
        sent.push(req.path);
        bodies.push(req.body);
        return request(req);
      };
    }
    const statuses: StatusCall[] = [];
    // The helper emits call:<method> for each spied call on a node.
    (command as unknown as { on(event: 'call:status', fn: (call: { args: [StatusCall] }) => void): void }).on('call:status', (call) =>
      statuses.push(call.args[0]),
    );
    let counter = 0;
    return {
      printer: sim.printers[printerIndex] as SimulatedPrinter,
      command,
      outputs,
      errors,
      sent,
      bodies,
      statuses,
      run(msg) {
        const id = `m${++counter}`;
        const ended = new Promise<Msg>((resolve) => waiting.set(id, resolve));
        command.receive({ _msgid: id, ...msg } as NodeMessage);
        return ended;
      },
    };
  }

  async function printing(h: Harness): Promise<void> {
    assert.ok(h.printer.startPrint('benchy.gcode'));
    await clock.advance(INTO_PRINT_MS);
    assert.equal(h.printer.state, 'printing');
  }

  function assertError(m: Msg, code: string, messageKey?: string): void {
    assert.equal(m.error?.code, code, `expected ${code}, got ${m.error?.code}: ${m.error?.message}`);
    if (messageKey) assert.match(m.error?.message ?? '', new RegExp(`${messageKey.replace('.', '\\.')}$`));
  }

  describe('every action on a Moonraker printer (Features 63)', () => {
    it('status: the Result with Features, msg.action echoed, sending then ok', async () => {
      const h = await load(MOONRAKER, { action: 'status' });
      const m = await h.run({ payload: 1_700_000_000_000 });
      assert.equal((m.payload as { Features: number }).Features, 63);
      assert.equal(m.action, 'status');
      assert.deepEqual(
        h.statuses.map((s) => [s.fill, s.shape, s.text]),
        [
          ['blue', 'dot', 'status.sending'],
          ['green', 'dot', 'status.ok'],
        ],
      );
    });

    it('ping answers Pong', async () => {
      const h = await load(MOONRAKER, { action: 'ping' });
      assert.deepEqual((await h.run({})).payload, { Message: 'Pong' });
    });

    it('pause with the editor Smart Pause options: paused, hotend and bed off', async () => {
      const h = await load(MOONRAKER, {
        action: 'pause',
        smartPause: true,
        disableHotend: true,
        disableBed: true,
        zLiftMm: '2',
        retractFilamentMm: '1.5',
        showSmartPausePopup: false,
      });
      await printing(h);
      const m = await h.run({});
      assert.deepEqual(m.payload, {});
      assert.equal(m.action, 'pause');
      assert.equal(h.printer.state, 'paused');
      assert.equal(h.printer.simulation.heaters.hotend.target, 0);
      assert.equal(h.printer.simulation.heaters.bed.target, 0);
    });

    it('pause: msg.payload overrides the editor (bed stays on)', async () => {
      const h = await load(MOONRAKER, { action: 'pause', disableBed: true });
      await printing(h);
      const bed = h.printer.simulation.heaters.bed.target;
      await h.run({ payload: { disableBed: false, zLiftMm: 5 } });
      assert.equal(h.printer.state, 'paused');
      assert.equal(h.printer.simulation.heaters.bed.target, bed);
    });

    it('resume a paused print, then cancel it', async () => {
      const h = await load(MOONRAKER, { action: 'resume' });
      await printing(h);
      h.printer.pause();
      await h.run({});
      assert.equal(h.printer.state, 'resuming');
      const m = await h.run({ action: 'cancel' });
      assert.equal(m.action, 'cancel');
      assert.equal(h.printer.state, 'cancelled');
    });

    it('home', async () => {
      const h = await load(MOONRAKER, { action: 'home' });
      await h.run({});
      assert.equal(h.printer.simulation.position.homed, true);
    });

    it('set-light from the editor, and off again from msg.payload', async () => {
      const h = await load(MOONRAKER, { action: 'set-light', lightName: 'chamber', lightOn: true });
      const light = () => h.printer.simulation.lights.find((l) => l.Name === 'chamber')?.On;
      await h.run({});
      assert.equal(light(), true);
      await h.run({ payload: { on: false } });
      assert.equal(light(), false);
    });

    it("OctoEverywhere's own argument names work too, in any case: {Name, On}, {SmartPause, ZLiftMm}", async () => {
      const h = await load(MOONRAKER, { action: 'set-light' });
      await h.run({ payload: { Name: 'chamber', On: true } });
      assert.equal(h.printer.simulation.lights.find((l) => l.Name === 'chamber')?.On, true);
      await printing(h);
      await h.run({ action: 'pause', payload: { SmartPause: true, DISABLEBED: false, zliftmm: 2 } });
      assert.equal(h.printer.state, 'paused');
      assert.deepEqual(h.bodies.at(-1), { SmartPause: true, DisableBed: false, ZLiftMm: 2 });
    });

    it('set-temp: only the temperatures given change; null leaves an editor value unset', async () => {
      const h = await load(MOONRAKER, { action: 'set-temp', bedC: '60', toolC: '', chamberC: '40' });
      const heaters = h.printer.simulation.heaters;
      await h.run({ payload: { toolC: 215, chamberC: null } });
      assert.deepEqual([heaters.bed.target, heaters.hotend.target, heaters.chamber.target], [60, 215, 0]);
    });

    it('move-axis from msg.action and msg.payload alone (the editor fields belong to its own action)', async () => {
      const h = await load(MOONRAKER, { action: 'set-temp', bedC: '70' });
      await h.run({ action: 'move-axis', payload: { axis: 'z', distanceMm: 5 } });
      assert.equal(h.printer.simulation.position.z, 5);
      assert.equal(h.printer.simulation.heaters.bed.target, 0, 'set-temp was not sent');
      assert.deepEqual(h.sent, ['/octoeverywhere-command-api/move-axis']);
    });

    it('extrude', async () => {
      const h = await load(MOONRAKER, { action: 'extrude', extruder: '0', extrudeDistanceMm: '5' });
      assert.deepEqual((await h.run({})).payload, {});
      assert.deepEqual(h.sent, ['/octoeverywhere-command-api/extrude']);
    });

    it('start a print from a file', async () => {
      const h = await load(MOONRAKER, { action: 'start', path: 'gcode/benchy.gcode' });
      const m = await h.run({});
      assert.equal(h.printer.state, 'warmingup');
      assert.equal(h.printer.simulation.job?.fileName, 'benchy.gcode');
      assert.equal((m.payload as { VirtualPath?: string }).VirtualPath, 'gcode/benchy.gcode');
    });

    it('list-files, and delete-file removes the file', async () => {
      const h = await load(MOONRAKER, { action: 'list-files', root: 'gcode' });
      const names = () => h.run({}).then((m) => ((m.payload as { Files: Array<{ Name: string }> }).Files ?? []).map((f) => f.Name));
      assert.ok((await names()).includes('calibration-cube.gcode'));
      await h.run({ action: 'delete-file', payload: { path: 'gcode/calibration-cube.gcode' } });
      assert.equal(h.printer.files.get('gcode', 'calibration-cube.gcode'), undefined);
      assert.ok(!(await names()).includes('calibration-cube.gcode'));
    });
  });

  describe('OctoPrint (Features 32) and Bambu (Features 33)', () => {
    it('OctoPrint: start, pause, resume and cancel (back to idle)', async () => {
      const h = await load(OCTOPRINT, { action: 'start', path: 'gcode/benchy.gcode' });
      await h.run({});
      await clock.advance(INTO_PRINT_MS);
      assert.equal(h.printer.state, 'printing');
      await h.run({ action: 'pause' });
      assert.equal(h.printer.state, 'paused');
      await h.run({ action: 'resume' });
      assert.equal(h.printer.state, 'resuming');
      await h.run({ action: 'cancel' });
      assert.equal(h.printer.state, 'idle');
      assert.equal(h.errors.length, 0);
    });

    const supportedNowhere: Record<string, Record<string, unknown> | undefined> = {
      'set-light': { name: 'x', on: true },
      home: undefined,
      'move-axis': { axis: 'X', distanceMm: 1 },
      extrude: { extruder: 0, distanceMm: 1 },
      'set-temp': { bedC: 50 },
    };
    for (const [action, payload] of Object.entries(supportedNowhere)) {
      it(`OctoPrint: ${action} is OE_788 "not supported on this printer"`, async () => {
        const h = await load(OCTOPRINT, { action });
        const m = await h.run({ payload });
        assertError(m, 'OE_788', 'errors.not-supported');
        assert.equal(m.action, action);
        assert.deepEqual(h.statuses.at(-1), { fill: 'red', shape: 'ring', text: 'OE_788' });
      });
    }

    it("Bambu: start takes the .3mf options in OctoEverywhere's names (Plate, AmsMapping, Timelapse …)", async () => {
      const h = await load(BAMBU, { action: 'start' });
      const payload = {
        Path: 'gcode/benchy.gcode',
        Plate: 2,
        UseAms: true,
        AmsMapping: [0, -1, 2],
        FlowCali: false,
        Timelapse: true,
        BedLeveling: true,
        VibrationCali: false,
        LayerInspect: true,
      };
      await h.run({ payload });
      assert.deepEqual(h.bodies.at(-1), payload);
      assertError(await h.run({ payload: { path: 'gcode/benchy.gcode', amsMapping: [0, 1.5] } }), 'OE_INVALID_ARGUMENT');
      assertError(await h.run({ payload: { path: 'gcode/benchy.gcode', amsMapping: 'all' } }), 'OE_INVALID_ARGUMENT');
    });

    it('Bambu: set-light and start work, move-axis is OE_788', async () => {
      const h = await load(BAMBU, { action: 'set-light', lightName: 'chamber_light', lightOn: true });
      await h.run({});
      assert.equal(h.printer.simulation.lights[0].On, true);
      await h.run({ action: 'start', payload: { path: 'gcode/benchy.gcode', useAms: false, plate: 1 } });
      assert.equal(h.printer.state, 'warmingup');
      assertError(await h.run({ action: 'move-axis', payload: { axis: 'X', distanceMm: 1 } }), 'OE_788', 'errors.not-supported');
    });
  });

  describe('refusals and failures reach Catch with their code', () => {
    it('pause on an idle printer is OE_786 "the printer is not printing"', async () => {
      const h = await load(MOONRAKER, { action: 'pause' });
      const m = await h.run({});
      assertError(m, 'OE_786', 'errors.state-pause');
      assert.match(catalog.errors['state-pause'], /the printer is not printing/);
      assert.equal(h.printer.state, 'idle');
      assert.equal(h.outputs.length, 0);
      assert.deepEqual(h.statuses.at(-1), { fill: 'red', shape: 'ring', text: 'OE_786' });
    });

    it('resume when not paused and cancel when idle say so in their own words', async () => {
      const h = await load(MOONRAKER, { action: 'resume' });
      assertError(await h.run({}), 'OE_786', 'errors.state-resume');
      assert.match(catalog.errors['state-resume'], /the printer is not paused/);
      assertError(await h.run({ action: 'cancel' }), 'OE_786', 'errors.state-cancel');
      await printing(h);
      assertError(await h.run({ action: 'home' }), 'OE_786', 'errors.state-busy');
    });

    it('OE_785 when the plugin cannot reach the printer host', async () => {
      const h = await load(MOONRAKER, { action: 'home' });
      h.printer.setHostConnected(false);
      assertError(await h.run({}), 'OE_785');
      assert.equal(h.printer.simulation.position.homed, false);
    });

    it('OE_601 when the printer is offline', async () => {
      const h = await load(MOONRAKER, { action: 'status' });
      h.printer.online = false;
      assertError(await h.run({}), 'OE_601');
    });

    it('OE_606 with wrong credentials, and the error holds no secret', async () => {
      const h = await load(MOONRAKER, { action: 'status' }, { bearer: 'wrong-bearer-token-value' });
      const m = await h.run({});
      assertError(m, 'OE_606');
      assert.deepEqual(secretsIn(JSON.stringify(m.error)), []);
    });
  });

  describe('arguments are checked before anything is sent', () => {
    const bad: Array<[string, unknown, string?]> = [
      ['pause', { zLiftMm: 51 }],
      ['pause', { retractFilamentMm: -1 }],
      ['pause', { smartPause: 'yes' }],
      ['set-light', { name: 'chamber', on: 'maybe' }],
      ['set-light', { on: true }],
      ['set-light', { name: 7, on: true }],
      ['set-temp', { bedC: 76 }],
      ['set-temp', { toolC: 261 }],
      ['set-temp', { chamberC: -1 }],
      ['set-temp', { bedC: 'hot' }],
      ['set-temp', { toolC: 200, toolNumber: 1.5 }],
      ['set-temp', {}],
      ['move-axis', { axis: 'W', distanceMm: 1 }],
      ['move-axis', { axis: 3, distanceMm: 1 }],
      ['move-axis', { axis: 'X', distanceMm: 1001 }],
      ['move-axis', { axis: 'X' }],
      ['extrude', { extruder: 1.5, distanceMm: 5 }],
      ['extrude', { extruder: 0, distanceMm: 'far' }],
      ['extrude', { extruder: 0 }],
      ['start', {}],
      ['start', { path: 42 }],
      ['start', { path: 'gcode/benchy.gcode', plate: 0 }],
      ['start', { path: 'gcode/benchy.gcode', useAms: 'sometimes' }],
      ['list-files', { root: 'etc' }],
      ['delete-file', {}],
      ['delete-file', { path: 'gcode/../config/printer.cfg' }, 'OE_INVALID_PATH'],
    ];
    for (const [action, payload, code] of bad) {
      it(`${action} ${JSON.stringify(payload)} → ${code ?? 'OE_INVALID_ARGUMENT'}, nothing sent`, async () => {
        const h = await load(MOONRAKER, { action: 'status' });
        const m = await h.run({ action, payload });
        assertError(m, code ?? 'OE_INVALID_ARGUMENT');
        assert.equal(m.action, action);
        assert.deepEqual(h.sent, []);
        assert.equal(h.printer.state, 'idle');
      });
    }

    it('a payload key the action does not take is refused, naming the keys it takes; nothing sent', async () => {
      const h = await load(MOONRAKER, { action: 'set-light', lightName: 'chamber' });
      // JSON.parse makes "__proto__" an own key, as a payload from an http in or MQTT node would have it.
      for (const payload of [
        { name: 'chamber', on: true, brightness: 50 },
        { nme: 'chamber', on: true },
        JSON.parse('{"__proto__": {"on": false}, "on": true}'),
      ]) {
        const m = await h.run({ payload });
        assertError(m, 'OE_INVALID_ARGUMENT', 'errors.unknown-arguments');
      }
      // A typo in an optional argument would otherwise pause without the lift the user asked for.
      assertError(await h.run({ action: 'pause', payload: { zLift: 5 } }), 'OE_INVALID_ARGUMENT', 'errors.unknown-arguments');
      assert.match(catalog.errors['unknown-arguments'], /__keys__[^]*__args__/);
      assert.deepEqual(h.sent, []);
    });

    it('the refusal names the keys it did not take and every key the action takes, in the catalog words', () => {
      const text: Translate = (key, vars = {}) =>
        String(key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], catalog)).replace(/__(\w+)__/g, (_m, v: string) => String(vars[v]));
      const refusal = (name: string, payload: unknown): string => {
        try {
          payloadArguments(name, ACTIONS[name], payload, text);
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'OE_INVALID_ARGUMENT');
          return (err as Error).message;
        }
        assert.fail(`${name} took ${JSON.stringify(payload)}`);
      };
      assert.equal(
        refusal('set-light', { Name: 'chamber', On: true, brightness: 50 }),
        "set-light does not take brightness in msg.payload; it takes name, on (OctoEverywhere's spelling, e.g. SmartPause, works too). Nothing was sent.",
      );
      assert.match(
        refusal('pause', { zLift: 5, SmartPause: true }),
        /^pause does not take zLift in msg\.payload; it takes smartPause, disableHotend, disableBed, zLiftMm, retractFilamentMm, suppressNotification, showSmartPausePopup /,
      );
      assert.match(refusal('home', { JobStatus: {} }), /JobStatus/);
      assert.deepEqual(payloadArguments('set-light', ACTIONS['set-light'], { NAME: 'chamber', oN: false }, text), { name: 'chamber', on: false });
    });

    it('an object payload to an action that takes no arguments is refused (an event or status message wired straight in); nothing sent', async () => {
      const h = await load(MOONRAKER, { action: 'home' });
      for (const action of ['home', 'resume', 'cancel', 'status']) {
        assertError(await h.run({ action, payload: { JobStatus: { State: 'idle' } } }), 'OE_INVALID_ARGUMENT', 'errors.no-arguments');
      }
      assert.deepEqual(h.sent, []);
    });

    it('the same argument twice in two spellings is refused; nothing sent', async () => {
      const h = await load(MOONRAKER, { action: 'set-light', lightName: 'chamber' });
      assertError(await h.run({ payload: { on: true, On: false } }), 'OE_INVALID_ARGUMENT', 'errors.duplicate-argument');
      assert.deepEqual(h.sent, []);
    });

    it('an unknown action is OE_INVALID_ARGUMENT naming the allowed actions; nothing sent', async () => {
      const h = await load(MOONRAKER, { action: 'status' });
      for (const action of ['explode', 42, 'files/list']) assertError(await h.run({ action }), 'OE_INVALID_ARGUMENT', 'errors.unknown-action');
      assert.match(catalog.errors['unknown-action'], /__actions__/);
      assert.deepEqual(h.sent, []);
    });
  });

  describe('robustness', () => {
    it('without a config node every message fails with OE_NO_CONNECTION', async () => {
      const h = await load(MOONRAKER, { action: 'status' }, { connection: 'missing' });
      assertError(await h.run({}), 'OE_NO_CONNECTION');
    });

    it('loses no message: every one ends in exactly one output or one error', async () => {
      const h = await load(MOONRAKER, { action: 'status' });
      const inputs: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 10; i++) {
        inputs.push({ payload: i });
        inputs.push({ action: 'pause' });
        inputs.push({ action: 'set-temp', payload: { bedC: 999 } });
        inputs.push({ action: 'nope' });
        inputs.push({ action: 'set-light', payload: { name: 'chamber', on: i % 2 === 0 } });
      }
      const ended = await Promise.all(inputs.map((m) => h.run(m)));
      assert.equal(ended.length, 50);
      assert.equal(h.outputs.length, 20);
      assert.equal(h.errors.length, 30);
      assert.equal(new Set([...h.outputs, ...h.errors].map((m) => m._msgid)).size, 50);
      assert.deepEqual(h.sent.filter((p) => p.endsWith('/pause')).length, 10);
    });

    it('ignores a payload that is not an object (an inject timestamp, a button string)', async () => {
      const h = await load(MOONRAKER, { action: 'home' });
      for (const payload of ['text', Buffer.from('x'), [1, 2], null, true, 1_700_000_000_000]) {
        assert.deepEqual((await h.run({ payload })).payload, {});
      }
      assert.equal(h.errors.length, 0);
    });

    it('abandons a command in flight when the flow stops, without an error', async () => {
      const h = await load(MOONRAKER, { action: 'status' });
      // The relay holds the request until its 602 timeout on the (manual) simulated clock.
      h.printer.pluginTimeout = true;
      h.command.receive({ _msgid: 'late' } as NodeMessage);
      while (h.sent.length === 0) await new Promise((resolve) => setImmediate(resolve));
      // The helper's spy on node.error, kept: unload() restores the original method.
      const errorSpy = (h.command as unknown as { error: { callCount: number } }).error;
      await helper.unload();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(h.outputs.length + h.errors.length, 0);
      assert.equal(errorSpy.callCount, 0, 'no error is reported for a flow that is gone');
    });
  });

  describe('admin route GET /octoeverywhere/features/:connectionId', () => {
    it("returns each printer kind's Features and the actions they allow, and no secret", async () => {
      const expected: Array<[number, number, string[]]> = [
        [
          MOONRAKER,
          63,
          ['status', 'ping', 'pause', 'resume', 'cancel', 'home', 'set-light', 'set-temp', 'move-axis', 'extrude', 'start', 'list-files', 'delete-file'],
        ],
        [OCTOPRINT, 32, ['status', 'ping', 'pause', 'resume', 'cancel', 'start', 'list-files', 'delete-file']],
        [BAMBU, 33, ['status', 'ping', 'pause', 'resume', 'cancel', 'set-light', 'start', 'list-files', 'delete-file']],
      ];
      for (const [index, features, actions] of expected) {
        await load(index);
        const res = await helper.request().get('/octoeverywhere/features/c1').expect(200);
        assert.deepEqual(res.body, { features, actions });
        assert.deepEqual(secretsIn(res.text), []);
        await helper.unload();
      }
    });

    it('404 with a clear message when the connection is not deployed', async () => {
      await load(MOONRAKER);
      const res = await helper.request().get('/octoeverywhere/features/nope').expect(404);
      assert.deepEqual(res.body, { code: 'OE_NOT_DEPLOYED', message: 'node-red-contrib-octoeverywhere/octoeverywhere-app-connection:errors.not-deployed' });
      await helper.request().get('/octoeverywhere/features/n1').expect(404);
    });

    it('answers a failure as {code, message} with no secret', async () => {
      await load(MOONRAKER, {}, { bearer: 'wrong-bearer-token-value' });
      const res = await helper.request().get('/octoeverywhere/features/c1').expect(502);
      assert.equal(res.body.code, 'OE_606');
      assert.equal(typeof res.body.message, 'string');
      assert.deepEqual(Object.keys(res.body as object).sort(), ['code', 'message']);
      assert.deepEqual(secretsIn(res.text), []);
    });
  });

  describe('editor', () => {
    it('offers the same actions as the runtime, each with a label in the catalog', async () => {
      await load(MOONRAKER);
      const res = await helper.request().get('/octoeverywhere/features/c1').expect(200);
      const listed = /var ACTIONS = (\[[^\]]*\]);/.exec(editorHtml)?.[1];
      assert.ok(listed, 'the editor lists its actions');
      assert.deepEqual(JSON.parse(listed.replace(/'/g, '"')), res.body.actions, 'Moonraker (all features) allows every action');
      for (const action of res.body.actions as string[]) assert.ok(catalog.action[action], `label for ${action}`);
    });

    it('uses only catalog keys that exist', () => {
      const keys = [...editorHtml.matchAll(/data-i18n="(?:\[\w+\])?([\w.-]+)"|_\('([\w-]+\.[\w-]+)'/g)].map((m) => m[1] ?? m[2]);
      assert.ok(keys.length > 30);
      for (const key of keys) {
        const [group, name] = key.split('.');
        assert.equal(typeof catalog[group]?.[name], 'string', `catalog key ${key}`);
      }
    });
  });
});
