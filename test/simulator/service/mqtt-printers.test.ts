// Bambu Lab and Elegoo CC2 printers behind the MQTT proxy, driven by the print simulation (docs/octoeverywhere.md §9.1).
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { type CompletionKeys, createClock, type ManagedClock, type Simulator, startSimulator } from '../../../src/simulator/index';
import type { SimulatedPrinter } from '../../../src/simulator/printers';
import { CC2_CLIENT_TIMEOUT_MS, CC2_METHOD, CC2_STATUS_METHOD } from '../../../src/simulator/printers';
import { bearer, request } from './helpers';
import { authOf, mqttConnect, nextJson, proxyUrl } from './mqtt-helpers';

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => value as Json;

/** Consecutive duplicates removed. */
const runs = <T>(values: T[]): T[] => values.filter((v, i) => i === 0 || v !== values[i - 1]);

describe('simulator printers behind the MQTT proxy', () => {
  let clock: ManagedClock;
  let sim: Simulator;
  const clients: MqttClient[] = [];

  beforeEach(async () => {
    clock = createClock({ mode: 'manual' });
    sim = await startSimulator({
      clock,
      printers: [
        { kind: 'bambu', name: 'P1S' },
        { kind: 'elegoo-cc2', name: 'Centauri Carbon 2' },
      ],
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await sim.close();
    clock.dispose();
  });

  const connectTo = async (index: number): Promise<MqttClient> => {
    const conn: CompletionKeys = sim.createAppConnection(index);
    const c = await mqttConnect(proxyUrl(conn), authOf(conn));
    clients.push(c);
    return c;
  };

  /** Advances the clock a second at a time until the printer reaches `state`. */
  const runUntil = async (printer: SimulatedPrinter, state: string, maxSec = 3600): Promise<void> => {
    for (let i = 0; i < maxSec && printer.state !== state; i++) await clock.advance(1000);
    assert.equal(printer.state, state);
  };

  describe('Bambu Lab', () => {
    let bambu: SimulatedPrinter;
    let report: string;
    let requestTopic: string;
    let c: MqttClient;
    const pushall = JSON.stringify({ pushing: { sequence_id: '0', command: 'pushall', version: 1, push_target: 1 } });

    beforeEach(async () => {
      bambu = sim.printers[0] as SimulatedPrinter;
      assert.match(bambu.serialNumber ?? '', /^01P00A\d{9}$/);
      report = `device/${bambu.serialNumber}/report`;
      requestTopic = `device/${bambu.serialNumber}/request`;
      c = await connectTo(0);
      await c.subscribeAsync(report);
    });

    /** A pushall round trip: every report sent before it has arrived once its answer has. */
    const fullReport = async (): Promise<Json> => {
      const full = nextJson(c, report, (m) => obj(m.print).msg === 0);
      await c.publishAsync(requestTopic, pushall);
      return obj((await full).print);
    };
    const collectPartials = (): Json[] => {
      const partials: Json[] = [];
      c.on('message', (topic, payload) => {
        if (topic !== report) return;
        const print = obj(JSON.parse(payload.toString()).print ?? {});
        if (print.command === 'push_status' && print.msg === 1) partials.push(print);
      });
      return partials;
    };
    const command = async (cmd: string): Promise<Json> => {
      const ack = nextJson(c, report, (m) => obj(m.print ?? {}).command === cmd);
      await c.publishAsync(requestTopic, JSON.stringify({ print: { sequence_id: '7', command: cmd } }));
      return obj((await ack).print);
    };

    it('pushes a print from start to finish as partial push_status reports, states in order', async () => {
      const partials = collectPartials();
      bambu.startPrint('cube.gcode', { durationSec: 120, totalLayers: 10 });
      await runUntil(bambu, 'complete');
      const full = await fullReport();
      assert.deepEqual(runs(partials.filter((p) => 'gcode_state' in p).map((p) => p.gcode_state)), ['PREPARE', 'RUNNING', 'FINISH']);
      const first = partials[0];
      assert.equal(first.subtask_name, 'cube');
      assert.equal(first.gcode_file, 'cube.gcode');
      assert.equal(first.total_layer_num, 10);
      assert.equal(first.stg_cur, 2, 'heating the bed first');
      const progressOnly = partials.find((p) => 'mc_percent' in p && !('subtask_name' in p));
      assert.ok(progressOnly, 'later reports carry only what changed');
      assert.deepEqual(
        runs(partials.filter((p) => 'mc_remaining_time' in p).map((p) => p.mc_remaining_time)).slice(0, 3),
        [2, 1, 0],
        'remaining time in minutes',
      );
      assert.equal(Math.max(...partials.filter((p) => 'layer_num' in p).map((p) => Number(p.layer_num))), 10);
      assert.deepEqual([full.gcode_state, full.mc_percent, full.print_error], ['FINISH', 100, 0]);
    });

    it('answers pushall with every field, and get_version with the modules and serial', async () => {
      const full = await fullReport();
      for (const field of [
        'gcode_state',
        'mc_percent',
        'mc_remaining_time',
        'layer_num',
        'total_layer_num',
        'bed_temper',
        'bed_target_temper',
        'nozzle_temper',
        'nozzle_target_temper',
        'chamber_temper',
        'subtask_name',
        'gcode_file',
        'print_error',
        'stg_cur',
        'lights_report',
        'ams',
        'vt_tray',
        'project_id',
        'task_id',
        'hms',
      ])
        assert.ok(field in full, field);
      assert.equal(full.gcode_state, 'IDLE');
      assert.deepEqual(full.lights_report, [{ node: 'chamber_light', mode: 'off' }]);
      const version = nextJson(c, report, (m) => 'info' in m);
      await c.publishAsync(requestTopic, JSON.stringify({ info: { sequence_id: '0', command: 'get_version' } }));
      const modules = obj((await version).info).module as Json[];
      assert.equal(modules[0].sn, bambu.serialNumber);
      assert.equal(modules[0].sw_ver, '01.08.00.00');
    });

    it('pauses, resumes and stops the simulated print from the request topic', async () => {
      assert.equal((await command('pause')).result, 'fail', 'nothing to pause');
      bambu.startPrint('cube.gcode', { durationSec: 600 });
      await runUntil(bambu, 'printing');
      const partials = collectPartials();
      assert.equal((await command('pause')).result, 'success');
      assert.equal(bambu.state, 'paused');
      assert.equal((await command('resume')).result, 'success');
      assert.equal(bambu.state, 'resuming');
      await runUntil(bambu, 'printing');
      assert.equal((await command('stop')).result, 'success');
      assert.equal(bambu.state, 'cancelled');
      const full = await fullReport();
      assert.deepEqual(runs(partials.filter((p) => 'gcode_state' in p).map((p) => p.gcode_state)), ['PAUSE', 'RUNNING', 'FAILED']);
      assert.deepEqual([full.gcode_state, full.print_error], ['FAILED', 0], 'a user stop: FAILED without print_error');
    });

    it('reports an injected fault as FAILED with a print_error', async () => {
      bambu.startPrint('cube.gcode', { durationSec: 600 });
      bambu.injectError('Nozzle clog');
      const full = await fullReport();
      assert.equal(full.gcode_state, 'FAILED');
      assert.notEqual(full.print_error, 0);
    });
  });

  describe('Elegoo CC2', () => {
    let cc2: SimulatedPrinter;
    let sn: string;
    let c: MqttClient;

    beforeEach(async () => {
      cc2 = sim.printers[1] as SimulatedPrinter;
      sn = cc2.serialNumber ?? '';
      assert.ok(sn.length > 0);
      c = await connectTo(1);
    });

    const register = async (clientId: string): Promise<Json> => {
      const topic = `elegoo/${sn}/req-${clientId}/register_response`;
      await c.subscribeAsync([topic, `elegoo/${sn}/${clientId}/api_response`]);
      const answer = nextJson(c, topic);
      await c.publishAsync(`elegoo/${sn}/api_register`, JSON.stringify({ client_id: clientId, request_id: `req-${clientId}` }));
      return answer;
    };
    const ask = async (clientId: string, body: Json): Promise<Json> => {
      const answer = nextJson(c, `elegoo/${sn}/${clientId}/api_response`);
      await c.publishAsync(`elegoo/${sn}/${clientId}/api_request`, JSON.stringify(body));
      return answer;
    };

    it('registers a client, then answers 1001 (attributes with sn), 1002 (full status) and PING', async () => {
      assert.equal((await register('nr1')).client_id, 'nr1');
      const attributes = await ask('nr1', { id: 1, method: CC2_METHOD.Attributes, params: {} });
      assert.deepEqual([attributes.id, attributes.method, obj(attributes.result).sn], [1, 1001, sn]);
      const status = obj((await ask('nr1', { id: 2, method: CC2_METHOD.Status, params: {} })).result);
      for (const key of ['machine_status', 'print_status', 'extruder', 'heater_bed', 'ztemperature_sensor', 'led']) assert.ok(key in status, key);
      assert.deepEqual(obj(status.machine_status).status, 1, 'idle');
      assert.deepEqual(await ask('nr1', { type: 'PING' }), { type: 'PONG' });
    });

    it('does not answer a client that has not registered, or whose heartbeat lapsed', async () => {
      await register('nr1');
      await c.subscribeAsync(`elegoo/${sn}/stranger/api_response`);
      const strangerAnswers: string[] = [];
      c.on('message', (topic) => {
        if (topic === `elegoo/${sn}/stranger/api_response`) strangerAnswers.push(topic);
      });
      await c.publishAsync(`elegoo/${sn}/stranger/api_request`, JSON.stringify({ id: 1, method: CC2_METHOD.Status }));
      // Handled in order on one connection: by the time nr1's PONG arrives, any answer to the stranger would have.
      assert.deepEqual(await ask('nr1', { type: 'PING' }), { type: 'PONG' });
      assert.deepEqual(strangerAnswers, []);

      await clock.advance(CC2_CLIENT_TIMEOUT_MS);
      await register('nr2');
      const lapsed: string[] = [];
      c.on('message', (topic) => {
        if (topic === `elegoo/${sn}/nr1/api_response`) lapsed.push(topic);
      });
      await c.publishAsync(`elegoo/${sn}/nr1/api_request`, JSON.stringify({ type: 'PING' }));
      assert.deepEqual(await ask('nr2', { type: 'PING' }), { type: 'PONG' });
      assert.deepEqual(lapsed, [], 'nr1 did not ping for 65 s');
    });

    it('pushes partial api_status updates through a print', async () => {
      await register('nr1');
      const statusTopic = `elegoo/${sn}/api_status`;
      await c.subscribeAsync(statusTopic);
      const pushes: Json[] = [];
      c.on('message', (topic, payload) => {
        if (topic === statusTopic) pushes.push(JSON.parse(payload.toString()) as Json);
      });
      cc2.startPrint('cube.gcode', { durationSec: 60, totalLayers: 5 });
      await runUntil(cc2, 'complete');
      // The print outlasts the 65 s heartbeat window, so register again; its answer is the barrier.
      await register('nr1');
      assert.ok(pushes.every((p) => p.method === CC2_STATUS_METHOD));
      const ids = pushes.map((p) => Number(p.status_id));
      assert.deepEqual(
        ids,
        ids.map((_, i) => ids[0] + i),
        'status_id counts up without gaps',
      );
      const subStatus = runs(pushes.map((p) => obj(obj(p.result).machine_status ?? {}).sub_status).filter((s) => s !== undefined));
      assert.deepEqual(subStatus, [1405, 1045, 2075, 2077]);
      const progressPush = pushes.find((p) => 'print_status' in obj(p.result) && !('led' in obj(p.result)));
      assert.ok(progressPush, 'pushes carry only what changed');
      const first = obj(obj(pushes[0].result).print_status);
      assert.deepEqual([first.filename, first.total_layer], ['cube.gcode', 5]);
    });

    it('serves the command API status too', async () => {
      const conn = sim.createAppConnection(1);
      const reply = await request(`${conn.url}/octoeverywhere-command-api/status`, { headers: { authorization: bearer(conn.authBearerToken) } });
      const result = obj(reply.json().Result);
      assert.equal(obj(result.JobStatus).State, 'idle');
      assert.equal(result.PlatformVersion, 'Centauri Carbon 2-01.03.02.51-V1.0', "the plugin's <machine_model>-<ota_version>-<hardware_version>");
    });
  });
});
