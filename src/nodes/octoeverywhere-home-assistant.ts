// Node `octoeverywhere-home-assistant`: the printer as a Home Assistant device through MQTT discovery,
// over the user's core `mqtt-broker` config node. It follows the printer as the status poll does (the
// config node's poller and live feed, no wired status node), and runs Home Assistant's buttons and
// switches through the printer command node's actions. The behaviour is in shared/home-assistant/.
import { DEFAULT_BED_COOLDOWN_C } from '../client';
import { COMMON, useConnection } from './shared/adapter';
import { clockFor } from './shared/clock';
import { asOctoEverywhereError } from './shared/failure';
import { HomeAssistantBridge } from './shared/home-assistant/bridge';
import { corePort, isCoreBroker } from './shared/home-assistant/core-broker';
import { GROUPS, type Group, printerId, TRIGGER_EVENTS } from './shared/home-assistant/discovery';
import { migrate } from './shared/migrations';
import { DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS } from './shared/poller';
import { ACTIONS, argumentsFor, inWords, payloadArguments } from './shared/printer-actions';
import { statusOf } from './shared/print-status';
import { nonNegativeSetting, positive, type Translate } from './shared/settings';
import { status } from './shared/status';
import { followPrinter } from './shared/status-follower';
import type { Node, NodeAPI, NodeDef } from './shared/types';
import { WebcamController } from './shared/webcam-controller';

const TYPE = 'octoeverywhere-home-assistant';
const OWN = `node-red-contrib-octoeverywhere/${TYPE}:`;
const COMMAND = 'node-red-contrib-octoeverywhere/octoeverywhere-printer-command:';
/** Webcam pictures at most this often: each is a webcam view, which the service limits (609). */
const MIN_WEBCAM_INTERVAL_S = 10;
const DEFAULT_WEBCAM_INTERVAL_S = 30;
const DEFAULT_WEBCAM_COOLDOWN_MS = 60_000;

type GroupKey = `group${Capitalize<Group>}`;

interface HomeAssistantDef extends NodeDef, Partial<Record<GroupKey, boolean>> {
  connection?: string;
  broker?: string;
  prefix?: string;
  deviceName?: string;
  mode?: 'poll' | 'live' | 'auto';
  /** Live: readings as the printer pushes them (`push`, the default) or once per interval, as the status node's. */
  readings?: 'push' | 'interval';
  interval?: number | string;
  webcamInterval?: number | string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the package's own version for Home Assistant's `origin`
const VERSION = (require('../../package.json') as { version: string }).version;

export = function register(RED: NodeAPI): void {
  const t: Translate = (key, vars) => RED._(key.includes(':') ? key : `${OWN}${key}`, vars);

  function HomeAssistant(this: Node, saved: HomeAssistantDef): void {
    RED.nodes.createNode(this, saved);
    const def = migrate(TYPE, saved);
    const node = this;
    const connection = useConnection(RED, node, def.connection);
    if (!connection) return;
    const brokerNode: unknown = def.broker ? RED.nodes.getNode(def.broker) : null;
    if (!isCoreBroker(brokerNode)) {
      node.status(status.error(t('status.no-broker')));
      node.error(t('errors.no-broker'));
      return;
    }
    const clock = clockFor(RED);
    const groups = new Set<Group>(GROUPS.filter((g) => def[`group${g[0].toUpperCase()}${g.slice(1)}` as GroupKey] !== false));
    const names: Record<string, string> = {};
    for (const key of ENTITY_KEYS) names[key] = t(`entity.${key}`);
    for (const event of TRIGGER_EVENTS) names[`event.${event}`] = t(`event.${event}`);
    const hasAppApi = connection.hasAppApi();
    const poller = connection.poller();
    const webcam = new WebcamController({
      settings: { mode: 'snapshot', webcam: undefined, maxFps: 1, maxFrames: 0 },
      webcams: connection.webcams(),
      hasAppApi,
      clock,
      coolDownMs: nonNegativeSetting(RED, 'octoeverywhereWebcamCooldown') ?? DEFAULT_WEBCAM_COOLDOWN_MS,
      t: (key, vars) => RED._(key.includes(':') ? key : `node-red-contrib-octoeverywhere/octoeverywhere-webcam-snapshot:${key}`, vars),
      show: () => undefined,
    });
    const abort = new AbortController();
    const commandWords: Translate = (key, vars) => RED._(key.includes(':') ? key : `${COMMAND}${key}`, vars);

    let bridge: HomeAssistantBridge | undefined;
    const port = corePort(brokerNode, node.id, (state) => bridge?.connectionChanged(state));
    const show = (): void => {
      if (!bridge) return;
      if (bridge.connection !== 'connected') {
        node.status(bridge.connection === 'connecting' ? status.waiting(t('status.mqtt-connecting')) : status.error(t('status.mqtt-disconnected')));
      } else if (bridge.snapshot) node.status(statusOf(RED, bridge.snapshot, hasAppApi));
    };
    bridge = new HomeAssistantBridge({
      port,
      clock,
      prefix: (def.prefix ?? '').trim() || 'homeassistant',
      id: printerId(connection.id),
      deviceName: (s) => (def.deviceName ?? '').trim() || s.printerName || connection.printerName || t('entity.device'),
      groups,
      gadget: hasAppApi,
      webcamIntervalMs: Math.max(MIN_WEBCAM_INTERVAL_S, positive(def.webcamInterval, DEFAULT_WEBCAM_INTERVAL_S)) * 1000,
      names,
      origin: {
        name: 'node-red-contrib-octoeverywhere',
        sw_version: VERSION,
        support_url: 'https://github.com/node-red-contrib-octoeverywhere/node-red-contrib-octoeverywhere',
      },
      configurationUrl: () => {
        const url = poller.connectionInfo?.userFacingPrinterUrl;
        return url && /^https?:\/\//i.test(url) ? url : connection.client().connection.serviceUrl;
      },
      runCommand: async (name, payload) => {
        const action = ACTIONS[name];
        const args = argumentsFor(action, undefined, payloadArguments(name, action, payload, commandWords));
        try {
          return await action.run(connection.client().commands, args, { signal: abort.signal });
        } catch (err) {
          throw inWords(err, name, action, commandWords);
        }
      },
      snapshotImage: async () => {
        let image: Buffer | undefined;
        await webcam.input(
          { _msgid: '' },
          (msg) => {
            const payload = (Array.isArray(msg) ? undefined : msg)?.payload;
            if (Buffer.isBuffer(payload)) image = payload;
          },
          { client: connection.client(), connection, signal: abort.signal },
        );
        if (!image) throw asOctoEverywhereError(new Error('no picture'));
        return image;
      },
      refresh: () => void poller.pollNow().catch(() => undefined),
      commandFailed: (error, msg) => {
        node.status(status.error(error.code));
        node.error(error, { ...msg, error: error.toJSON() });
      },
      webcamFailed: (error) => node.warn(t('log.webcam-failed', { code: error.code, message: error.message })),
      changed: show,
      t,
    });
    // The broker may be connected already (another node uses it): then it signals nothing new.
    bridge.connectionChanged(port.connected ? 'connected' : 'connecting');
    if (!port.presence()) node.log(t('log.no-will'));
    show();

    let stopReported = false;
    const stop = followPrinter(
      connection,
      {
        intervalMs: Math.max(MIN_INTERVAL_MS, positive(def.interval, DEFAULT_INTERVAL_MS / 1000) * 1000),
        mode: def.mode === 'poll' || def.mode === 'live' ? def.mode : 'auto',
        readings: def.readings === 'interval' ? 'interval' : 'push',
        bedCooldownC: DEFAULT_BED_COOLDOWN_C,
      },
      {
        snapshot: (snapshot, events) => bridge?.update(snapshot, events),
        failed: (error, outcome) => {
          bridge?.unreachable();
          node.status(outcome.stopped ? status.error(error.code) : status.error(RED._(`${COMMON}status.offline`)));
          // As the status poll: one error to Catch nodes per deployment when polling stops for good
          // (603/604/606); temporary trouble recovers by itself and only shows as unavailable.
          if (outcome.stopped && !stopReported) {
            stopReported = true;
            node.error(error, { topic: 'error', payload: error.toJSON() });
          }
        },
      },
    );

    node.on('close', (removed: boolean, done: () => void) => {
      stop();
      abort.abort();
      webcam.close();
      const closing = bridge;
      bridge = undefined;
      // Never rejects: a failed goodbye publish must not become an unhandled rejection in the runtime.
      void (closing?.close(removed) ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => port.close(removed))
        .catch(() => undefined)
        .finally(done);
    });
  }

  RED.nodes.registerType(TYPE, HomeAssistant);
};

/** Every entity name the catalog has (`entity.<key>`). */
const ENTITY_KEYS = [
  'state',
  'progress',
  'time_left',
  'finish_time',
  'file',
  'current_layer',
  'total_layers',
  'online',
  'printing',
  'error',
  'last_command',
  'bed',
  'bed_target',
  'hotend',
  'hotend_target',
  'chamber',
  'chamber_target',
  'gadget_status',
  'gadget_rating',
  'pause',
  'resume',
  'cancel',
  'light',
  'webcam',
];
