// The OctoEverywhere client: everything needed to use an App Connection or Shared Connection, with no
// Node-RED dependency. The node adapters under src/nodes/ and any other program can use it alike.
import { AppApi } from './app-api';
import { CommandApi } from './command-api';
import { AppConnection, type AppConnectionOptions } from './connection';

export * from './errors';
export * from './connection';
export * from './app-api';
export * from './command-api';
export * from './mjpeg';
export * from './portal';
export * from './events';
export * from './status';
export * from './derive';
export * from './gadget-rules';
export * from './clock';
export * from './deadline';
export * from './local-plugin';
export * from './limits';
export * from './transfer';
export * from './webhook-intake';
export * from './failure-detection';
export * from './live';
export { baseUrlString, connectionHostKind, isLoopbackHost, loopbackAwareLookup, parseBaseUrl, parseLocalUrl, type ConnectionHostKind } from './urls';
export { checkPrinterPath, checkHeaders, PrinterTarget } from './validate';
export * from './backoff';
export * from './values';
// Moved out of connection.ts, still exported as they were (see /tmp/notes/house-client.md for the public API).
export { EncodedBody, encodeBody, parseJson } from './body-codec';
export { networkError } from './network-errors';
export { LOCAL_RETRY_AFTER_MS, RouteChooser, type LocalProbe } from './route-chooser';

/** One connection with its two API families: `client.app` (App APIs) and `client.commands` (plugin command API). */
export class OctoEverywhereClient {
  readonly connection: AppConnection;
  readonly app: AppApi;
  readonly commands: CommandApi;

  constructor(options: AppConnectionOptions) {
    this.connection = new AppConnection(options);
    this.app = new AppApi(this.connection);
    this.commands = new CommandApi(this.connection);
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
