// Node `octoeverywhere-status-poll`: watches a printer by polling (for Node-RED installs that cannot
// receive webhooks). Output 1 is the normalised status snapshot, output 2 the print events derived
// from it, in the webhook node's vocabulary. The polling itself is shared per connection: its config
// node owns the one poller (shared/poller.ts) this node subscribes to.
import { DEFAULT_BED_COOLDOWN_C, type LiveState, type OctoEverywhereError, type PrinterEvent, type PrinterSnapshot, sameSnapshot } from '../client';
import { COMMON, onInput, useConnection } from './shared/adapter';
import { clockFor } from './shared/clock';
import { DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS } from './shared/poller';
import { positive } from './shared/settings';
import { statusOf } from './shared/print-status';
import { memoryStore, StatusMemory } from './shared/status-memory';
import { status } from './shared/status';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from './shared/types';
import { migrate } from './shared/migrations';
import { followPrinter } from './shared/status-follower';

const TYPE = 'octoeverywhere-status-poll';
const OWN = `node-red-contrib-octoeverywhere/${TYPE}:`;

interface StatusPollDef extends NodeDef {
  connection?: string;
  /** Seconds between polls. */
  interval?: number | string;
  /** 'change' (default): output 1 only when the snapshot changed; 'always': on every poll. */
  output?: 'change' | 'always';
  bedCooldownC?: number | string;
  /**
   * How the node follows the printer: `poll`; `live` (the printer's push socket, polling while it is
   * down); `auto` (live where the platform has a push channel, else poll; the default for new nodes).
   * Flows saved before `mode` existed are migrated to `poll` (resources/migrations.js, version 2).
   */
  mode?: 'poll' | 'live' | 'auto';
  /**
   * Live: the readings (temperatures, progress, time left) as the printer pushes them (`push`, the
   * default, also for flows saved before it existed) or refreshed once per interval (`interval`: the
   * state still pushed, for print farms; client/live/moonraker.ts MOONRAKER_STATE_OBJECTS).
   */
  readings?: 'push' | 'interval';
}

export = function register(RED: NodeAPI): void {
  function StatusPoll(this: Node, def: StatusPollDef): void {
    RED.nodes.createNode(this, def);
    def = migrate(TYPE, def); // saved configs in the current shape (shared/migrations.ts)
    const node = this;
    const connection = useConnection(RED, node, def.connection);
    const intervalMs = Math.max(MIN_INTERVAL_MS, positive(def.interval, DEFAULT_INTERVAL_MS / 1000) * 1000);
    const bedCooldownC = positive(def.bedCooldownC, DEFAULT_BED_COOLDOWN_C);
    const onChangeOnly = def.output !== 'always';
    let lastSent: PrinterSnapshot | undefined;
    /** Input messages waiting for a poll: they carry that poll's snapshot, so it is not sent twice. */
    let waiting = 0;
    let stopReported = false;
    let outage: string | undefined;

    if (!connection) {
      onInput(RED, node, connection, () => Promise.resolve());
      return;
    }
    const appApi = connection.hasAppApi();
    const poller = connection.poller();

    /** What the node shows now: a live printer's snapshots mostly leave it as it is (the same % and time left). */
    let shownKey: string | undefined;
    const show = (shown: NodeStatus): void => {
      const key = typeof shown === 'string' ? shown : `${String(shown.fill)}|${String(shown.shape)}|${String(shown.text)}`;
      if (key === shownKey) return;
      shownKey = key;
      node.status(shown);
    };

    // Without a persistent context store a redeployed node starts from a baseline (the state found
    // then is not an event); with one it continues from the printer's saved memory, whoever saved it
    // (shared/status-memory.ts), and snapshots wait until that memory is loaded.
    let saveFailed = false;
    const saved = new StatusMemory(memoryStore(RED, node, connection.printerKey), clockFor(RED), (err: unknown) => {
      if (!saveFailed) node.warn(RED._(`${OWN}log.memory-not-saved`, { message: err instanceof Error ? err.message : String(err) }));
      saveFailed = true;
    });
    if (saved.persistent) {
      // The next owner of the printer reads what this node saved last: close waits for it.
      node.on('close', (_removed: boolean, done: () => void) => void saved.flushed().finally(done));
    }

    const onSnapshot = (snapshot: PrinterSnapshot, derived: PrinterEvent[]): void => {
      let statusMsg: NodeMessage | null = null;
      if (waiting === 0 && (!onChangeOnly || !lastSent || !sameSnapshot(lastSent, snapshot))) {
        statusMsg = { topic: 'status', payload: snapshot };
        lastSent = snapshot;
      }
      const events = derived.map((event): NodeMessage => ({ topic: event.event, payload: event }));
      if (statusMsg || events.length > 0) node.send([statusMsg, events]);
      if (snapshot.online) {
        if (outage) node.log(RED._(`${OWN}log.recovered`));
        outage = undefined;
        show(statusOf(RED, snapshot, appApi));
      }
    };

    let liveError: string | undefined;
    let unsupportedSaid = false;
    const onLiveState = (state: LiveState): void => {
      if (state.status === 'connected') {
        liveError = undefined;
        return;
      }
      if (state.status === 'unsupported') {
        // Said once per deployment of this node: it polls from now on, which is not an error.
        if (!unsupportedSaid) node.log(RED._(`${OWN}log.live-unsupported`, { code: state.code, reason: state.reason }));
        unsupportedSaid = true;
        return;
      }
      const error = state.error;
      if (!error || liveError === error.code) return;
      liveError = error.code;
      if (state.status === 'stopped') {
        // No more attempts (a wrong serial number, a revoked connection): the node polls from now on.
        node.warn(RED._(`${OWN}log.live-stopped`, { code: error.code, message: error.message }));
        show(status.error(error.code));
        return;
      }
      // Polling carries on meanwhile; the yellow ring says the socket is being re-made.
      node.warn(RED._(`${OWN}log.live-fallback`, { code: error.code, message: error.message }));
      show(status.waiting(RED._(`${OWN}status.live-reconnecting`, { code: error.code })));
    };

    const onFailed = (error: OctoEverywhereError, outcome: { stopped: boolean; retryInMs?: number }): void => {
      if (outcome.stopped) {
        show(status.error(error.code));
        // One error to Catch nodes per deployment of this node; polling stays stopped until a redeploy.
        if (!stopReported) {
          stopReported = true;
          node.error(error, { topic: 'error', payload: error.toJSON() });
        }
        return;
      }
      const text = error.behaviour === 'offline' ? RED._(`${COMMON}status.offline`) : error.code;
      const seconds = Math.ceil(Math.max(0, outcome.retryInMs ?? 0) / 1000);
      show(status.error(RED._(`${OWN}status.retrying`, { text, seconds })));
      // Temporary trouble is logged once per outage (605's message holds the link to restore the
      // Supporter Perks); it recovers by itself, so it does not go to Catch nodes.
      if (outage !== error.code) node.warn(error.message);
      outage = error.code;
    };

    // The printer followed as shared/status-follower.ts does it for every node that wants its status:
    // the config node's poller, and in live modes its live socket too, the poller running beside it as
    // the fallback with no gap and for Gadget and Info, which no socket carries; one derivation memory
    // for both sources, so a switch between them announces nothing twice.
    const mode = def.mode === 'live' || def.mode === 'auto' ? def.mode : 'poll';
    if (mode !== 'poll') show(status.waiting(RED._(`${OWN}status.live-connecting`)));
    const stop = followPrinter(
      connection,
      { intervalMs, mode, readings: def.readings === 'interval' ? 'interval' : 'push', bedCooldownC, memory: saved.persistent ? saved.load() : undefined },
      { snapshot: onSnapshot, failed: onFailed, liveState: onLiveState, remember: (memory) => saved.save(memory) },
    );
    node.on('close', stop);

    onInput(RED, node, connection, async (msg, send, { signal }) => {
      waiting++;
      let snapshot: PrinterSnapshot;
      try {
        snapshot = await poller.pollNow();
      } finally {
        waiting--;
      }
      if (signal.aborted) return;
      lastSent = snapshot;
      send([{ ...msg, payload: snapshot }, null]);
    });
  }

  RED.nodes.registerType(TYPE, StatusPoll);
};
