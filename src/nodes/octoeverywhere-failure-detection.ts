// Node `octoeverywhere-failure-detection`: scores any JPEG (msg.payload) with OctoEverywhere's Gadget
// AI Failure Detection API. Output 1: the score of each frame sent; output 2: `gadget-warning` and
// `gadget-pause-suggested` events on the rising edge of the flags. The behaviour is in the controller.
import { OctoEverywhereError } from '../client';
import { clockFor } from './shared/clock';
import { fail, asOctoEverywhereError } from './shared/failure';
import { type DetectionRecord, type DetectionView, FailureDetectionController } from './shared/failure-detection-controller';
import { migrate } from './shared/migrations';
import { status } from './shared/status';
import type { Done, GadgetApiNode, Node, NodeAPI, NodeDef, NodeMessage, NodeStatus, Send } from './shared/types';

const TYPE = 'octoeverywhere-failure-detection';
const OWN = `node-red-contrib-octoeverywhere/${TYPE}:`;

interface FailureDetectionDef extends NodeDef {
  /** The `octoeverywhere-gadget-api` config node. */
  gadgetApi?: string;
}

export = function register(RED: NodeAPI): void {
  // Each node's print context and pacing, by node id, for this runtime: kept across a redeploy (Node-RED
  // deletes a node's own context on every close unless a context store is configured), dropped when
  // the node is removed. In memory only: a restart starts a new context.
  const kept = new Map<string, DetectionRecord>();
  function FailureDetection(this: Node, saved: FailureDetectionDef): void {
    RED.nodes.createNode(this, saved);
    const def = migrate(TYPE, saved);
    const node = this;
    const config = def.gadgetApi ? (RED.nodes.getNode(def.gadgetApi) as GadgetApiNode | null) : null;
    let controller: FailureDetectionController;
    try {
      if (!config || typeof config.gadgetApi !== 'function') throw new OctoEverywhereError('OE_NO_GADGET_API', RED._('errors.no-config'));
      controller = new FailureDetectionController({
        account: config.gadgetApi(),
        memory: {
          load: () => Promise.resolve(kept.get(node.id)),
          save: (record) => {
            kept.set(node.id, record);
            return Promise.resolve();
          },
        },
        clock: clockFor(RED),
        t: (key, vars) => RED._(key, vars),
        hooks: {
          deliver: (frame, result, events) => {
            frame.send([result, events.length > 0 ? events : null]);
            frame.done();
          },
          fail: (frame, error, view) => fail(node, error, frame.done, statusOf(RED, view)),
          status: (view) => node.status(statusOf(RED, view)),
        },
      });
    } catch (err) {
      // Without a usable config node every message ends with the same error.
      const error = asOctoEverywhereError(err);
      node.status(status.error(error.code));
      node.on('input', (_msg: NodeMessage, _send: Send, done: Done) => fail(node, error, done));
      return;
    }
    // Registered with the config node that owns the client and the budget, until this node closes.
    config.register(node);
    controller.start();
    node.on('input', (msg: NodeMessage, send: Send, done: Done) => controller.input({ msg: msg, send, done }));
    node.on('close', (removed: boolean, done: () => void) => {
      controller.close();
      config.deregister(node);
      if (removed) kept.delete(node.id);
      done();
    });
  }

  RED.nodes.registerType(TYPE, FailureDetection);
};

/** Quality, when the next call may go, and this month's calls, at a glance. */
function statusOf(RED: NodeAPI, view: DetectionView): NodeStatus {
  const calls = RED._(`${OWN}status.calls`, { used: view.used, limit: view.limit });
  switch (view.state) {
    case 'ready':
      return status.ready(RED._(`${OWN}status.ready`, { calls }));
    case 'waiting':
      return status.waiting(RED._(`${OWN}status.waiting`, { next: view.nextInSec, calls }));
    case 'scored': {
      const q = view.result.printQuality;
      const text = RED._(`${OWN}status.scored`, { quality: q, next: view.nextInSec, calls });
      // The print's quality, not the node's health: a poor print is the printer's alarm.
      if (view.result.pauseSuggested || q <= 3) return status.alert('fail', text);
      return view.result.warningSuggested || q <= 5 ? status.alert('warn', text) : status.working(text);
    }
    default:
      return status.error(RED._(`${OWN}status.error`, { code: view.code, calls }));
  }
}
