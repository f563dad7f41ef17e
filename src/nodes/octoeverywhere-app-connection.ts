// Config node: one App Connection (or Shared Connection). The wiring of PrinterConnection, which
// owns what every node of this printer shares (client, poller, webcam state, webhook registration)
// and releases it when the node closes, after its users' close work.
import { migrate } from './shared/migrations';
import { registerPortalRoutes } from './shared/portal-routes';
import { clockFor } from './shared/clock';
import { PrinterConnection } from './shared/printer-connection';
import { positiveSetting } from './shared/settings';
import type { AppConnectionDef, AppConnectionNode, NodeAPI } from './shared/types';

const TYPE = 'octoeverywhere-app-connection';

export = function register(RED: NodeAPI): void {
  function AppConnectionConfig(this: AppConnectionNode & Record<string, unknown>, saved: AppConnectionDef): void {
    RED.nodes.createNode(this, saved);
    const def = migrate(TYPE, saved);
    const node = this;
    node.name = def.name;
    Object.assign(node, { printerName: def.printerName || '', appId: def.appId || 'devtest', printerKey: def.connectionId?.trim() || node.id });

    const printer = new PrinterConnection({
      def,
      credentials: node.credentials ?? {},
      clock: clockFor(RED),
      timeoutMs: positiveSetting(RED, 'octoeverywhereRequestTimeout'),
      words: {
        invalidConfig: RED._('errors.invalid-config'),
        closed: RED._('errors.closed'),
        noPush: RED._('errors.no-push'),
        needsSerial: RED._('errors.needs-serial'),
        unknownMqtt: (version) => RED._('errors.mqtt-platform-unknown', { version: version || '—' }),
      },
    });
    const configError = printer.configError;
    if (configError) node.warn(RED._('errors.not-usable', { code: configError.code, message: configError.message }));

    node.client = () => printer.client();
    node.hasAppApi = () => printer.hasAppApi;
    node.poller = () => printer.poller();
    node.live = () => printer.live();
    node.webcams = () => printer.webcams();
    node.register = (user) => printer.register(user);
    node.deregister = (user, work) => printer.deregister(user, work);
    node.claimWebhook = (nodeId) => printer.claimWebhook(nodeId);
    node.releaseWebhook = (nodeId) => printer.releaseWebhook(nodeId);

    // close() never rejects; done() must run whatever happens.
    node.on('close', (_removed: boolean, done: () => void) => void printer.close().finally(done));
  }

  registerPortalRoutes(RED);

  RED.nodes.registerType(TYPE, AppConnectionConfig as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    // All password: Node-RED gives a text credential to any editor user, read-only ones too, and the
    // Connection URL and Basic user are private. The dialog of a user who may write reads them from
    // the app-connection/:id/private route. Saved credentials load the same whatever the type.
    credentials: {
      url: { type: 'password' },
      authBasicHttpUser: { type: 'password' },
      authBasicHttpPassword: { type: 'password' },
      authBearerToken: { type: 'password' },
      appApiToken: { type: 'password' },
      octoPrintApiKey: { type: 'password' },
    },
  });
};
