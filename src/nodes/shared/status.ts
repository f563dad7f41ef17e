// The one status vocabulary of every node: each state has one fill and shape, so a glance at the
// canvas means the same thing on every node. Text comes from the catalogs; an error shows its code.
import type { NodeStatus } from './types';

export const status = {
  /** Doing its job: connected, listening, streaming, printing, a request answered. */
  working: (text: string): NodeStatus => ({ fill: 'green', shape: 'dot', text }),
  /** Able and connected, nothing going on (an idle printer, ready for frames). */
  ready: (text: string): NodeStatus => ({ fill: 'green', shape: 'ring', text }),
  /** A request of this node in flight (as core's http request node shows it). */
  busy: (text: string): NodeStatus => ({ fill: 'blue', shape: 'dot', text }),
  /** Waiting on something that passes by itself: connecting, registering, paused, cooling down. */
  waiting: (text: string): NodeStatus => ({ fill: 'yellow', shape: 'ring', text }),
  /**
   * Working, but the printer (or a delivery) wants a look: a Gadget warning, a parser in front of
   * the webhook. `fail` is the printer's own alarm (Gadget paused or suggests a pause).
   */
  alert: (level: 'warn' | 'fail', text: string): NodeStatus => ({ fill: level === 'fail' ? 'red' : 'yellow', shape: 'dot', text }),
  /** Failed or stopped: the short code (or a catalog text that holds it). */
  error: (text: string): NodeStatus => ({ fill: 'red', shape: 'ring', text }),
  /** Nothing running: no status, or a grey ring that says what ended (a stopped stream). */
  idle: (text?: string): NodeStatus => (text === undefined ? {} : { fill: 'grey', shape: 'ring', text }),
} as const;
