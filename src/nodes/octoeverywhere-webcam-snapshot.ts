// Node: the printer's webcam through the App Connection — one JPEG per message (snapshot mode), or the
// MJPEG stream sent on as JPEG messages at most N per second (stream mode). The webcam is chosen by
// index or name; a 609 ("viewed too often") starts a cool-down shared by every webcam node of the
// printer (its config node owns it), so nothing hammers the service while it refuses. The behaviour
// is in shared/webcam-controller.ts.
import { ADMIN_ROUTES, configured, deployedRoute, onInput, useConnection } from './shared/adapter';
import { clockFor } from './shared/clock';
import { nonNegativeSetting, positiveSetting, type Translate } from './shared/settings';
import { LIST_TIMEOUT_MS, WebcamController, type WebcamMessage, webcamSettings } from './shared/webcam-controller';
import type { Node, NodeAPI, NodeDef } from './shared/types';
import { asOctoEverywhereError } from './shared/failure';
import { migrate } from './shared/migrations';

const TYPE = 'octoeverywhere-webcam-snapshot';
/** After a 609, how long webcam requests to that printer are not even tried (settings `octoeverywhereWebcamCooldown`, ms). */
const DEFAULT_COOLDOWN_MS = 60_000;

interface WebcamSnapshotDef extends NodeDef {
  connection?: string;
  /** Index or name; empty for the printer's default webcam. */
  webcam?: string;
  mode?: 'snapshot' | 'stream';
  maxFps?: number | string;
  maxFrames?: number | string;
}

export = function register(RED: NodeAPI): void {
  const t: Translate = (key, vars) => RED._(key, vars);

  function WebcamSnapshot(this: Node, def: WebcamSnapshotDef): void {
    RED.nodes.createNode(this, def);
    def = migrate(TYPE, def); // saved configs in the current shape (shared/migrations.ts)
    const node = this;
    const connection = useConnection(RED, node, def.connection);
    const settings = configured(node, () => webcamSettings(def, t));
    const controller =
      connection && !(settings instanceof Error)
        ? new WebcamController({
            settings,
            webcams: connection.webcams(),
            hasAppApi: connection.hasAppApi(),
            clock: clockFor(RED),
            coolDownMs: nonNegativeSetting(RED, 'octoeverywhereWebcamCooldown') ?? DEFAULT_COOLDOWN_MS,
            stallMs: positiveSetting(RED, 'octoeverywhereStreamStallTimeout'),
            t,
            show: (status) => node.status(status),
          })
        : undefined;

    onInput<WebcamMessage>(RED, node, connection, async (msg, send, ctx) => {
      if (!controller) {
        // Stopping nothing is fine; anything else fails with the settings' error (without a
        // connection onInput has ended the message already).
        if (msg.stop === true) return;
        throw asOctoEverywhereError(settings);
      }
      await controller.input(msg, send, ctx);
    });
    node.on('close', () => controller?.close());
  }

  RED.nodes.registerType(TYPE, WebcamSnapshot);

  // The editor's webcam picker. The config node may not be deployed yet: then there is nothing to ask.
  // Write permission: it asks the printer through the relay on the owner's connection, which a read-only user must not trigger.
  RED.httpAdmin.get(
    `${ADMIN_ROUTES}/webcams/:connectionId`,
    RED.auth.needsPermission(`${TYPE}.write`),
    deployedRoute(RED, async ({ connection, client }, signal) => {
      const list = await client.commands.webcamList({ signal, timeoutMs: LIST_TIMEOUT_MS });
      // The picker's look-up serves the nodes too.
      connection.webcams().remember(list);
      return { defaultIndex: list.defaultIndex, webcams: list.webcams.map((w) => ({ index: w.index, name: w.name, enabled: w.enabled })) };
    }),
  );
};
