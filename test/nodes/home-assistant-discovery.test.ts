// The Home Assistant discovery payloads on their own (no broker, no Node-RED): ids that survive a
// rename, required keys per component, groups, templates that read keys the state document has, and
// the state document for offline and printing snapshots.
import assert from 'node:assert/strict';
import { offlineJobStatus, type PrinterSnapshot } from '../../src/client';
import {
  type DiscoveryOptions,
  discoveryConfigs,
  GROUPS,
  type Group,
  printerId,
  stateDocument,
  topicId,
  TRIGGER_EVENTS,
} from '../../src/nodes/shared/home-assistant/discovery';

const SHAPE = {
  lights: ['Chamber Light'],
  chamber: true,
  gadget: true,
  model: 'Klipper (Moonraker)',
  swVersion: '0.12.0',
  configurationUrl: 'https://octoeverywhere.com/x',
};

function options(over: Partial<DiscoveryOptions> = {}): DiscoveryOptions {
  return {
    prefix: 'homeassistant',
    id: printerId('c1'),
    deviceName: 'Voron',
    groups: new Set<Group>(GROUPS),
    shape: SHAPE,
    broker: { topic: 'octoeverywhere/bridge', online: 'online', offline: 'offline' },
    names: {},
    origin: { name: 'test', sw_version: '0', support_url: 'https://example.com' },
    ...over,
  };
}

function printing(): PrinterSnapshot {
  return {
    ...offlineJobStatus(),
    state: 'printing',
    printing: true,
    printId: 'p1',
    fileName: 'cube.gcode',
    progress: 42.345,
    timeLeftSec: 600,
    currentLayer: 3,
    totalLayers: 100,
    temperatures: { bed: { actual: 60, target: 60 }, hotend: { actual: 215, target: 215 }, chamber: { actual: 30, target: 0 } },
    lights: [{ name: 'Chamber Light', on: true }],
    online: true,
    printerName: 'Voron',
    gadget: { state: 3, stateName: 'active', status: 'Looking good', statusColor: 'g', rating: 9 },
    limits: null,
    polledAt: 0,
  };
}

describe('home assistant discovery payloads', () => {
  it('makes topic-safe ids: no /, +, # or spaces, never empty', () => {
    assert.equal(topicId('My Printer/#+1'), 'my_printer_1');
    assert.equal(topicId(' /// '), 'printer');
    assert.equal(printerId('a1b2.c3'), 'octoeverywhere_a1b2_c3');
  });

  it('every entity has its required keys, a unique id and the device; a trigger per derived event', () => {
    const configs = discoveryConfigs(options());
    const ids = new Set<string>();
    for (const c of configs) {
      assert.match(c.topic, /^homeassistant\/[a-z_]+\/octoeverywhere_c1\/[a-z0-9_]+\/config$/);
      const p = c.payload;
      assert.deepEqual((p.device as { identifiers: string[] }).identifiers, ['octoeverywhere_c1']);
      if (c.component === 'device_automation') {
        for (const key of ['automation_type', 'topic', 'type', 'subtype', 'payload']) assert.ok(p[key], `${c.topic} ${key}`);
        continue;
      }
      assert.ok(!ids.has(String(p.unique_id)));
      ids.add(String(p.unique_id));
      assert.ok(String(p.unique_id).startsWith('octoeverywhere_c1_'));
      assert.equal(p.availability_mode, 'all');
      const required: Record<string, string[]> = {
        sensor: ['state_topic'],
        binary_sensor: ['state_topic', 'payload_on', 'payload_off'],
        button: ['command_topic', 'payload_press'],
        switch: ['command_topic', 'state_topic'],
        image: ['image_topic'],
      };
      for (const key of required[c.component]) assert.ok(p[key], `${c.topic} ${key}`);
    }
    const triggers = configs.filter((c) => c.component === 'device_automation');
    assert.deepEqual(
      triggers.map((c) => c.payload.payload),
      [...TRIGGER_EVENTS],
    );
    assert.equal(
      new Set(triggers.map((c) => `${String(c.payload.type)}/${String(c.payload.subtype)}`)).size,
      triggers.length,
      'type+subtype unique per device',
    );
    assert.ok(configs.some((c) => c.topic === 'homeassistant/switch/octoeverywhere_c1/light_chamber_light/config'));
  });

  it("every template reads a key of the state document, and the light switch reads its light's state", () => {
    const doc = stateDocument(printing(), SHAPE, Date.UTC(2026, 11, 1, 12, 0, 10));
    for (const c of discoveryConfigs(options())) {
      for (const template of [c.payload.value_template, c.payload.json_attributes_template]) {
        if (typeof template !== 'string' || c.payload.state_topic?.toString().endsWith('/command/result')) continue;
        if (c.component === 'device_automation') continue;
        const path = /value_json\.([a-z_]+)(?:\.([a-z_]+))?/.exec(template);
        assert.ok(path && path[1] in doc, `${c.topic}: ${template}`);
        if (path[2]) assert.equal((doc[path[1]] as Record<string, string>)[path[2]], 'ON');
      }
    }
  });

  it('groups turn entities off; Gadget needs an App Connection; no chamber, no chamber sensors', () => {
    const only = discoveryConfigs(options({ groups: new Set<Group>(['temperatures']), shape: { ...SHAPE, chamber: false } }));
    assert.deepEqual(
      only.map((c) => c.key),
      ['bed', 'bed_target', 'hotend', 'hotend_target'],
    );
    assert.ok(!discoveryConfigs(options({ shape: { ...SHAPE, gadget: false } })).some((c) => c.component === 'sensor' && c.key.startsWith('gadget')));
  });

  it('a rename changes the names, never the topics or unique ids; without a broker Will only the node topics count', () => {
    const before = discoveryConfigs(options());
    const after = discoveryConfigs(options({ deviceName: 'Workshop' }));
    assert.deepEqual(
      after.map((c) => [c.topic, c.payload.unique_id]),
      before.map((c) => [c.topic, c.payload.unique_id]),
    );
    assert.ok(after.every((c) => (c.payload.device as { name: string }).name === 'Workshop'));
    const noWill = discoveryConfigs(options({ broker: undefined })).find((c) => c.key === 'progress');
    assert.deepEqual(noWill?.payload.availability, [
      { topic: 'octoeverywhere/octoeverywhere_c1/availability', payload_available: 'online', payload_not_available: 'offline' },
    ]);
  });

  it('the state document: values rounded, finish time to the minute, offline says offline', () => {
    const now = Date.UTC(2026, 11, 1, 12, 0, 10);
    const doc = stateDocument(printing(), SHAPE, now);
    assert.equal(doc.progress, 42.3);
    assert.equal(doc.finish_time, '2026-12-01T12:10:00.000Z');
    assert.equal(doc.gadget_status, 'Looking good');
    assert.deepEqual(doc.lights, { chamber_light: 'ON' });
    // A few seconds later the same print is not a change.
    assert.equal(stateDocument(printing(), SHAPE, now + 5000).finish_time, doc.finish_time);
    const offline = stateDocument({ ...printing(), online: false }, SHAPE, now);
    assert.equal(offline.state, 'offline');
    assert.equal(offline.printing, false);
    assert.equal(offline.finish_time, null);
  });
});
