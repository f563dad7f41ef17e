// A Bambu Lab printer has no web API of its own; the OctoEverywhere companion on the LAN serves
// only the command API and, opt-in, a local web API that answers any GET (facts §6).
import type { PrinterContext } from './context';
import { sendJson } from './http';
import type { NativeApi } from './native';

/** `isOnline` tells whether the companion is connected to OctoEverywhere. */
export function createBambuApi(ctx: PrinterContext, isOnline: () => boolean): NativeApi {
  return {
    handle(req, res) {
      if (req.method !== 'GET') {
        sendJson(res, 405, { error: 'Method not allowed' });
        return;
      }
      sendJson(res, 200, {
        PluginId: ctx.printerId,
        IsConnectedToOctoEverywhere: isOnline(),
        IsConnectedToPrinter: ctx.hostConnected,
        IsAccountLinked: true,
      });
    },
    close() {
      // nothing of its own to stop
    },
  };
}
