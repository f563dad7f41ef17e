// printer-request: any of the printer's own API calls through the App Connection (or the LAN URL while
// it answers), like the core http request node but with the base URL and auth header supplied. The
// message's checks are in shared/printer-request-message.ts.
import { type ClockTimer, transfer } from '../client';
import { configured, onInput, useConnection } from './shared/adapter';
import { clockFor, Timers } from './shared/clock';
import { decode, methodOf, requestOf, type RequestMessage, type ReturnType, secondsToMs } from './shared/printer-request-message';
import { stringSetting, type Translate } from './shared/settings';
import { status } from './shared/status';
import type { Node, NodeAPI, NodeDef } from './shared/types';
import { migrate } from './shared/migrations';

const TYPE = 'octoeverywhere-printer-request';
/** The in-flight count on the status is refreshed at most this often; starting and ending show at once. */
const STATUS_REFRESH_MS = 250;

interface PrinterRequestDef extends NodeDef {
  connection?: string;
  /** One of METHODS, or 'use' for msg.method. */
  method?: string;
  path?: string;
  ret?: ReturnType;
  /** Seconds; empty for the connection's default (settings `octoeverywhereRequestTimeout`, else 30 s). */
  timeout?: string | number;
}

export = function register(RED: NodeAPI): void {
  function PrinterRequestNode(this: Node, def: PrinterRequestDef): void {
    RED.nodes.createNode(this, def);
    def = migrate(TYPE, def); // saved configs in the current shape (shared/migrations.ts)
    const node = this;
    const connection = useConnection(RED, node, def.connection);
    const t: Translate = (key, vars) => RED._(key, vars);
    // A method the node cannot use is a configuration error: red ring at deploy, every message fails with it.
    const fixedMethod = def.method === 'use' ? undefined : configured(node, () => methodOf(def.method ?? 'GET', t, t('errors.what-method')));
    const ret: ReturnType = def.ret === 'txt' || def.ret === 'bin' ? def.ret : 'obj';
    const timeoutMs = secondsToMs(def.timeout);
    const fileRoot = stringSetting(RED, 'octoeverywhereFileRoot');
    let inFlight = 0;
    /** The count the status shows (0: cleared). */
    let shown = 0;
    const timers = new Timers(clockFor(RED));
    let refresh: ClockTimer | undefined;
    node.on('close', () => timers.cancelAll());

    const show = (): void => {
      shown = inFlight;
      node.status(status.busy(RED._('status.sending', { count: inFlight })));
    };
    // A status per message costs more than the request at high rates: busy and idle show at once,
    // the count in between at most every STATUS_REFRESH_MS.
    const showInFlight = (): void => {
      if (inFlight === 0) {
        timers.cancel(refresh);
        refresh = undefined;
        shown = 0;
        node.status(status.idle());
      } else if (shown === 0) {
        show();
      } else {
        refresh ??= timers.after(STATUS_REFRESH_MS, () => {
          refresh = undefined;
          if (inFlight > 0 && inFlight !== shown) show();
        });
      }
    };

    onInput<RequestMessage>(RED, node, connection, async (msg, send, { client, signal }) => {
      if (fixedMethod instanceof Error) throw fixedMethod;
      const req = requestOf(msg, { method: fixedMethod, path: def.path, timeoutMs, fileRoot }, signal, t);
      inFlight += 1;
      showInFlight();
      try {
        const res = await transfer(client.connection, req);
        msg.payload = decode(res.body, ret, req.method === 'HEAD', () => node.warn(RED._('errors.not-json')));
        msg.statusCode = res.statusCode;
        msg.headers = res.headers;
        msg.responseUrl = res.url;
        msg.via = res.via;
        send(msg);
      } finally {
        inFlight -= 1;
        showInFlight();
      }
    });
  }

  RED.nodes.registerType(TYPE, PrinterRequestNode);
};
