// Home Assistant MQTT discovery for one printer, free of Node-RED and of MQTT: the topics, the
// retained discovery configs of every entity and device trigger, and the one retained state document
// the entities read. Pure functions, so the payloads can be checked without a broker
// (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery).
import type { PrinterSnapshot } from '../../../client';
import { livePlatformOf } from '../../../client';

/** The entity groups a node can publish (its `group…` checkboxes). */
export const GROUPS = ['status', 'temperatures', 'gadget', 'controls', 'webcam', 'events'] as const;
export type Group = (typeof GROUPS)[number];

/**
 * The events a status derivation produces (client/derive.ts): 1–10, 14 and 15. Filament change, user
 * interaction, notification limit and test come only by webhook, so no trigger is offered for them.
 */
export const TRIGGER_EVENTS = [
  'print-started',
  'print-complete',
  'print-failed',
  'print-paused',
  'print-resumed',
  'print-progress',
  'gadget-warning',
  'gadget-paused-print',
  'error',
  'first-layer-complete',
  'third-layer-complete',
  'bed-cooldown-complete',
] as const;

/** The buttons: the printer command actions Home Assistant may run (nothing that moves or starts). */
export const BUTTON_ACTIONS = ['pause', 'resume', 'cancel'] as const;

/** The values of the state sensor (JobState, plus `offline` while the printer is unreachable). */
export const STATE_OPTIONS = ['idle', 'warmingup', 'printing', 'paused', 'resuming', 'complete', 'cancelled', 'error', 'unknown', 'offline'];

/** What the broker says when the Node-RED connection is up or gone: its birth and will messages. */
export interface BrokerPresence {
  topic: string;
  online: string;
  offline: string;
}

/** What of the printer shapes its entity list: known from its first answer. */
export interface PrinterShape {
  /** Light names as the printer reports them. */
  lights: string[];
  chamber: boolean;
  /** An App Connection (Gadget needs the App API). */
  gadget: boolean;
  model: string;
  swVersion: string | null;
  configurationUrl: string;
}

export interface DiscoveryOptions {
  prefix: string;
  /** The stable id of the printer (from the App Connection config node): topics and unique ids. */
  id: string;
  deviceName: string;
  groups: ReadonlySet<Group>;
  shape: PrinterShape;
  broker?: BrokerPresence;
  /** Entity and trigger names (the catalog's), by key; a missing one falls back to the key. */
  names: Readonly<Record<string, string>>;
  origin: { name: string; sw_version: string; support_url: string };
}

export type Json = Record<string, unknown>;

export interface DiscoveryConfig {
  /** `<prefix>/<component>/<id>/<key>/config` */
  topic: string;
  component: string;
  key: string;
  payload: Json;
}

/** MQTT topic levels: letters, digits, `_` and `-` only (no `/`, `+`, `#` or spaces). */
export function topicId(value: string): string {
  const cleaned = value
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return cleaned === '' ? 'printer' : cleaned;
}

/** The node id and object ids Home Assistant keys entities by. */
export function printerId(connectionNodeId: string): string {
  return `octoeverywhere_${topicId(connectionNodeId)}`;
}

/** The printer's own topics, under `octoeverywhere/<id>/`. */
export function topicsOf(id: string): {
  base: string;
  state: string;
  /** `online` while the node runs and the printer answers, else `offline`. */
  availability: string;
  /** `online` while the node runs. */
  node: string;
  command: string;
  /** `light/<key>/set`, a `+` for the subscription. */
  lightSet: (key: string) => string;
  commandResult: string;
  event: string;
  webcam: string;
} {
  const base = `octoeverywhere/${id}`;
  return {
    base,
    state: `${base}/state`,
    availability: `${base}/availability`,
    node: `${base}/node`,
    command: `${base}/command`,
    lightSet: (key) => `${base}/light/${key}/set`,
    commandResult: `${base}/command/result`,
    event: `${base}/event`,
    webcam: `${base}/webcam`,
  };
}

/** A light's key in topics, unique ids and the state document (`chamber_light`). */
export function lightKey(name: string): string {
  return topicId(name);
}

/** The retained discovery config of every entity and device trigger the options ask for. */
export function discoveryConfigs(o: DiscoveryOptions): DiscoveryConfig[] {
  const topics = topicsOf(o.id);
  const device: Json = {
    identifiers: [o.id],
    name: o.deviceName,
    manufacturer: 'OctoEverywhere',
    model: o.shape.model,
    ...(o.shape.swVersion ? { sw_version: o.shape.swVersion } : {}),
    configuration_url: o.shape.configurationUrl,
  };
  const presence = o.broker ? [{ topic: o.broker.topic, payload_available: o.broker.online, payload_not_available: o.broker.offline }] : [];
  const availability = (topic: string): Json => ({
    availability: [{ topic, payload_available: 'online', payload_not_available: 'offline' }, ...presence],
    availability_mode: 'all',
  });
  const name = (key: string): string => o.names[key] ?? key;
  const out: DiscoveryConfig[] = [];
  const add = (component: string, key: string, config: Json, availableWith = topics.availability): void => {
    out.push({
      topic: `${o.prefix}/${component}/${o.id}/${key}/config`,
      component,
      key,
      payload: { name: name(key), unique_id: `${o.id}_${key}`, ...config, ...availability(availableWith), device, origin: o.origin },
    });
  };
  const value = (field: string): Json => ({ state_topic: topics.state, value_template: `{{ value_json.${field} }}` });
  const sensor = (key: string, extra: Json = {}): void => add('sensor', key, { ...value(key), ...extra });
  const flag = (key: string, deviceClass: string, extra: Json = {}, availableWith?: string): void =>
    add(
      'binary_sensor',
      key,
      {
        state_topic: topics.state,
        value_template: `{{ 'ON' if value_json.${key} else 'OFF' }}`,
        payload_on: 'ON',
        payload_off: 'OFF',
        device_class: deviceClass,
        ...extra,
      },
      availableWith,
    );

  if (o.groups.has('status')) {
    sensor('state', { device_class: 'enum', options: STATE_OPTIONS, icon: 'mdi:printer-3d' });
    sensor('progress', { unit_of_measurement: '%', state_class: 'measurement', suggested_display_precision: 0, icon: 'mdi:progress-clock' });
    sensor('time_left', { device_class: 'duration', unit_of_measurement: 's' });
    sensor('finish_time', { device_class: 'timestamp' });
    sensor('file', { icon: 'mdi:file-outline' });
    sensor('current_layer', { icon: 'mdi:layers-outline' });
    sensor('total_layers', { icon: 'mdi:layers-triple-outline' });
    // The online sensor stays available while the printer is not: that it is offline is its news.
    flag('online', 'connectivity', {}, topics.node);
    flag('printing', 'running');
    flag('error', 'problem', { json_attributes_topic: topics.state, json_attributes_template: '{{ {"message": value_json.error_text} | tojson }}' });
    add(
      'sensor',
      'last_command',
      {
        state_topic: topics.commandResult,
        value_template: '{{ value_json.code }}',
        json_attributes_topic: topics.commandResult,
        entity_category: 'diagnostic',
        icon: 'mdi:console',
      },
      topics.node,
    );
  }
  if (o.groups.has('temperatures')) {
    const temperature = { device_class: 'temperature', unit_of_measurement: '°C', state_class: 'measurement' };
    const heaters = ['bed', 'hotend', ...(o.shape.chamber ? ['chamber'] : [])];
    for (const heater of heaters) {
      sensor(heater, temperature);
      sensor(`${heater}_target`, temperature);
    }
  }
  if (o.groups.has('gadget') && o.shape.gadget) {
    sensor('gadget_status', { icon: 'mdi:robot-outline' });
    sensor('gadget_rating', { state_class: 'measurement', icon: 'mdi:star-outline' });
  }
  if (o.groups.has('controls')) {
    for (const action of BUTTON_ACTIONS) add('button', action, { command_topic: topics.command, payload_press: action, icon: BUTTON_ICONS[action] });
    for (const light of o.shape.lights) {
      const key = lightKey(light);
      add('switch', `light_${key}`, {
        // A light's name is the printer's own (`chamber`): shown as it is.
        name: `${name('light')} ${light}`,
        command_topic: topics.lightSet(key),
        state_topic: topics.state,
        value_template: `{{ value_json.lights.${key} }}`,
        payload_on: 'ON',
        payload_off: 'OFF',
        icon: 'mdi:lightbulb',
      });
    }
  }
  if (o.groups.has('webcam')) add('image', 'webcam', { image_topic: topics.webcam, content_type: 'image/jpeg' });
  if (o.groups.has('events')) {
    for (const event of TRIGGER_EVENTS) {
      const key = event.replace(/-/g, '_');
      out.push({
        topic: `${o.prefix}/device_automation/${o.id}/${key}/config`,
        component: 'device_automation',
        key,
        payload: {
          automation_type: 'trigger',
          topic: topics.event,
          type: key,
          subtype: name(`event.${event}`),
          payload: event,
          value_template: '{{ value_json.event }}',
          device,
          origin: o.origin,
        },
      });
    }
  }
  return out;
}

const BUTTON_ICONS: Record<(typeof BUTTON_ACTIONS)[number], string> = { pause: 'mdi:pause', resume: 'mdi:play', cancel: 'mdi:stop' };

/** The state document: one retained JSON message that every entity reads its value from. */
export function stateDocument(s: PrinterSnapshot, shape: PrinterShape | undefined, now: number): Json {
  const t = s.temperatures;
  const lights: Record<string, string> = {};
  for (const light of shape?.lights ?? []) {
    const found = s.lights.find((l) => l.name === light);
    lights[lightKey(light)] = found ? (found.on ? 'ON' : 'OFF') : 'None';
  }
  // Rounded to the minute: a finish time that moves by seconds each poll is not a change.
  const finish = s.online && s.printing && s.timeLeftSec !== null ? new Date(Math.round((now + s.timeLeftSec * 1000) / 60_000) * 60_000).toISOString() : null;
  return {
    state: s.online ? s.state : 'offline',
    online: s.online,
    printing: s.online && s.printing,
    error: s.online && s.state === 'error',
    error_text: s.online ? s.error : null,
    progress: s.progress === null ? null : Math.round(s.progress * 10) / 10,
    time_left: s.timeLeftSec,
    finish_time: finish,
    file: s.fileName,
    current_layer: s.currentLayer,
    total_layers: s.totalLayers,
    bed: t.bed.actual,
    bed_target: t.bed.target,
    hotend: t.hotend.actual,
    hotend_target: t.hotend.target,
    chamber: t.chamber?.actual ?? null,
    chamber_target: t.chamber?.target ?? null,
    gadget_status: s.gadget ? s.gadget.status || s.gadget.stateName : null,
    gadget_rating: s.gadget?.rating ?? null,
    lights,
  };
}

const MODELS = { moonraker: 'Klipper (Moonraker)', octoprint: 'OctoPrint', bambu: 'Bambu Lab', 'elegoo-cc2': 'Elegoo Centauri Carbon 2' } as const;

/** The platform as Home Assistant's device model, from the command API status (as the live feed tells it). */
export function modelOf(status: { features: number; platformVersion: string | null }): string {
  const verdict = livePlatformOf(status);
  if (verdict.platform) return MODELS[verdict.platform];
  return verdict.why === 'mqtt-unknown' ? 'Bambu Lab / Elegoo' : 'Printer';
}
