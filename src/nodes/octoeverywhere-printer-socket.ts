// printer-socket: a raw WebSocket to a path on the printer (Moonraker's /websocket JSON-RPC, OctoPrint's
// /sockjs/websocket …) through the App Connection, or its LAN URL while that answers. Frames in and out
// as they are; the socket's connects, drops and errors on a second output. The behaviour is in
// shared/printer-socket-controller.ts.
import { OctoEverywhereError } from '../client';
import { COMMON, configured, useConnection } from './shared/adapter';
import { clockFor } from './shared/clock';
import { asOctoEverywhereError, errorStatus, traceUnexpected } from './shared/failure';
import { migrate } from './shared/migrations';
import { type PrinterSocketDefFields, PrinterSocketController, printerSocketSettings } from './shared/printer-socket-controller';
import type { Translate } from './shared/settings';
import type { Done, Node, NodeAPI, NodeDef, NodeMessageInFlow, Send } from './shared/types';

const TYPE = 'octoeverywhere-printer-socket';

interface PrinterSocketDef extends NodeDef, PrinterSocketDefFields {
  connection?: string;
}

export = function register(RED: NodeAPI): void {
  const t: Translate = (key, vars) => RED._(key, vars);

  function PrinterSocketNode(this: Node, def: PrinterSocketDef): void {
    RED.nodes.createNode(this, def);
    def = migrate(TYPE, def); // saved configs in the current shape (shared/migrations.ts)
    const node = this;
    const connection = useConnection(RED, node, def.connection);
    const settings = configured(node, () => printerSocketSettings(def, t));
    /** The node's socket controller, or why there is none: then every message fails with it. */
    let socket: PrinterSocketController | OctoEverywhereError;
    if (!connection) socket = new OctoEverywhereError('OE_NO_CONNECTION', RED._(`${COMMON}errors.no-connection`));
    else if (settings instanceof OctoEverywhereError) socket = settings;
    else {
      try {
        const controller = new PrinterSocketController({
          settings,
          connection: connection.client().connection,
          clock: clockFor(RED),
          t,
          show: (s) => node.status(s),
          send: (outputs) => node.send(outputs),
          raise: (error, msg) => node.error(error, msg),
        });
        controller.start();
        socket = controller;
      } catch (err) {
        socket = asOctoEverywhereError(err);
        errorStatus(node, socket);
      }
    }
    const ready = socket;

    node.on('input', (msg: NodeMessageInFlow, _send: Send, done: Done) => {
      if (ready instanceof OctoEverywhereError) {
        // Without a connection useConnection's status already says so; a configuration error keeps its red ring.
        done(ready);
        return;
      }
      try {
        ready.input(msg);
        done();
      } catch (err) {
        traceUnexpected(node, err);
        done(asOctoEverywhereError(err));
      }
    });
    node.on('close', () => {
      if (ready instanceof PrinterSocketController) ready.close();
    });
  }

  RED.nodes.registerType(TYPE, PrinterSocketNode);
};
