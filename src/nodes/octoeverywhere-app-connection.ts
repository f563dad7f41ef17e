// Config node: one App Connection (or Shared Connection). It owns the one client that every node
// using this printer shares, and releases it when the flow stops.
import { OctoEverywhereClient, OctoEverywhereError } from '../client';
import { migrate } from './shared/migrations';
import { registerPortalRoutes } from './shared/portal-routes';
import type { AppConnectionDef, AppConnectionNode, NodeAPI } from './shared/types';

const TYPE = 'octoeverywhere-app-connection';

export = function register(RED: NodeAPI): void {
  function AppConnectionConfig(this: AppConnectionNode & Record<string, unknown>, saved: AppConnectionDef): void {
    RED.nodes.createNode(this, saved);
    const def = migrate(TYPE, saved);
    const node = this;
    let client: OctoEverywhereClient | undefined;
    let configError: OctoEverywhereError | undefined;

    node.name = def.name;
    Object.assign(node, { printerName: def.printerName || '', appId: def.appId || 'devtest' });

    try {
      const creds = node.credentials ?? {};
      client = new OctoEverywhereClient({
        url: creds.url ?? '',
        authBasicHttpUser: creds.authBasicHttpUser,
        authBasicHttpPassword: creds.authBasicHttpPassword,
        authBearerToken: creds.authBearerToken,
        appApiToken: creds.appApiToken,
        octoPrintApiKey: creds.octoPrintApiKey,
        authType: def.authType === 'basic' ? 'basic' : 'bearer',
        serviceUrl: def.serviceUrl || undefined,
        appId: def.appId || undefined,
        localUrl: def.localUrl || undefined,
        timeoutMs: numberSetting(RED, 'octoeverywhereRequestTimeout'),
      });
    } catch (err) {
      configError = err instanceof OctoEverywhereError ? err : new OctoEverywhereError('OE_CONFIG_INVALID', RED._('errors.invalid-config'));
      node.warn(RED._('errors.not-usable', { code: configError.code, message: configError.message }));
    }

    node.client = (): OctoEverywhereClient => {
      if (configError) throw configError;
      if (!client) throw new OctoEverywhereError('OE_CLOSED', RED._('errors.closed'));
      return client;
    };
    node.hasAppApi = (): boolean => client?.connection.hasAppApi ?? false;

    node.on('close', (_removed: boolean, done: () => void) => {
      const closing = client?.close();
      client = undefined;
      // close() never rejects; done() must run whatever happens.
      void Promise.resolve(closing).finally(done);
    });
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

/** A positive number from settings.js, or undefined to keep the client's default. */
function numberSetting(RED: NodeAPI, name: string): number | undefined {
  const value: unknown = (RED.settings as unknown as Record<string, unknown>)[name];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
