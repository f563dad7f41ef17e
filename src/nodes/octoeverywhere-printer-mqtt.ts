// Node `octoeverywhere-printer-mqtt`: raw MQTT through the App Connection's MQTT proxy (Bambu Lab,
// Elegoo CC2). It subscribes to its `topics` and sends every message received on output 1; an input
// message is published to msg.topic. Output 2 says connected / disconnected / error, as the printer
// socket node does. The session is this node's own (client/live/printer-mqtt.ts): reconnects,
// re-subscribes, and stops with one error on the codes that need the user.
import { InvalidArgumentError, type MqttQos, type OctoEverywhereError, PrinterMqttClient, type PrinterMqttState } from '../client';
import { filterProblem } from '../client/live/printer-mqtt';
import { clockFor } from './shared/clock';
import { configured, onInput, useConnection } from './shared/adapter';
import { asOctoEverywhereError, errorStatus } from './shared/failure';
import { migrate } from './shared/migrations';
import { actionOf, DATATYPES, decodePayload, type MqttDatatype, publishOf, topicsOf } from './shared/mqtt-message';
import type { Translate } from './shared/settings';
import { status } from './shared/status';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './shared/types';

const TYPE = 'octoeverywhere-printer-mqtt';

interface PrinterMqttDef extends NodeDef {
  connection?: string;
  /** Subscription filters, one per line (or a list, from an imported flow). */
  topics?: string | string[];
  qos?: number | string;
  datatype?: MqttDatatype;
  /** The retain flag of a publish whose message has no msg.retain. */
  retain?: boolean;
}

interface Settings {
  topics: string[];
  qos: MqttQos;
}

export = function register(RED: NodeAPI): void {
  const t: Translate = (key, vars) => RED._(key, vars);

  function PrinterMqttNode(this: Node, def: PrinterMqttDef): void {
    RED.nodes.createNode(this, def);
    def = migrate(TYPE, def); // saved configs in the current shape (shared/migrations.ts)
    const node = this;
    const connection = useConnection(RED, node, def.connection);
    const datatype: MqttDatatype = DATATYPES.includes(def.datatype as MqttDatatype) ? (def.datatype as MqttDatatype) : 'auto-detect';
    const retain = def.retain === true;
    const settings = configured<Settings>(node, () => ({ topics: filtersOf(def.topics, t), qos: Number(def.qos) === 1 ? 1 : 0 }));
    let mqtt: PrinterMqttClient | undefined;
    if (connection && !(settings instanceof Error)) {
      try {
        const client = connection.client().connection;
        mqtt = new PrinterMqttClient({ connection: client, topics: settings.topics, qos: settings.qos, clock: clockFor(RED), clientName: 'node-red' });
      } catch (err) {
        errorStatus(node, asOctoEverywhereError(err));
      }
    }

    const event = (topic: 'connected' | 'disconnected' | 'error', payload: Record<string, unknown>): void => node.send([null, { topic, payload }]);
    const reported = (err: OctoEverywhereError): void => {
      // Catch nodes get it with its code; output 2 says it too (code and our own message, never a secret).
      node.error(err, { topic: 'error', payload: { code: err.code, message: err.message } });
      event('error', { code: err.code, message: err.message });
    };

    if (mqtt) {
      const session = mqtt;
      let wasConnected = false;
      session.on('message', (m) => {
        let payload: unknown;
        try {
          payload = decodePayload(m.payload, datatype, t);
        } catch (err) {
          node.error(err, { topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain });
          return;
        }
        node.send([{ topic: m.topic, payload, qos: m.qos, retain: m.retain }, null]);
      });
      session.on('refused', (err) => {
        errorStatus(node, err);
        reported(err);
      });
      session.on('state', (state: PrinterMqttState) => {
        if (state.status === 'connected') {
          wasConnected = true;
          node.status(status.working(t('status.connected')));
          event('connected', { topics: session.subscriptions });
          return;
        }
        const error = state.error;
        if (wasConnected) {
          wasConnected = false;
          event('disconnected', error ? { code: error.code, message: error.message } : {});
        }
        if (state.status === 'connecting') {
          node.status(status.waiting(error ? t('status.retrying', { code: error.code }) : t('status.connecting')));
        } else if (error) {
          errorStatus(node, error);
          reported(error);
        }
      });
      session.start();
      node.on('close', (_removed: boolean, done: () => void) => {
        // The flow is going: its own stop is not a "disconnected" for it.
        session.removeAllListeners();
        void session.stop().finally(done);
      });
    }

    onInput(RED, node, connection, async (msg) => {
      if (settings instanceof Error) throw settings;
      if (!mqtt) throw new InvalidArgumentError(t('errors.not-usable'), 'OE_CONFIG_INVALID');
      const m = msg as NodeMessage & { qos?: unknown; retain?: unknown; action?: unknown };
      if (m.action !== undefined) {
        // As core's mqtt in: subscribe / unsubscribe at run time (e.g. once the serial number is known).
        const action = actionOf(m.action, m.topic, t);
        if (action.action === 'subscribe') await mqtt.subscribe(action.topics);
        else await mqtt.unsubscribe(action.topics);
        return;
      }
      const out = publishOf(m, { qos: settings.qos, retain }, t);
      await mqtt.publish(out.topic, out.payload, { qos: out.qos, retain: out.retain });
    });
  }

  RED.nodes.registerType(TYPE, PrinterMqttNode);
};

/** The node's filters, each a valid MQTT 3.1.1 filter; a bad one is a configuration error. */
function filtersOf(value: unknown, t: Translate): string[] {
  const topics = topicsOf(value);
  for (const topic of topics) {
    if (filterProblem(topic)) throw new InvalidArgumentError(t('errors.invalid-filter', { topic }), 'OE_MQTT_INVALID_TOPIC');
  }
  return topics;
}
