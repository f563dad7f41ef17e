// The status poll node's status for a snapshot: what the printer is doing, at a glance, in the one
// status vocabulary (shared/status.ts), with the catalog's words.
import { GadgetState, isGadgetWarning, type PrinterSnapshot } from '../../client';
import { COMMON } from './adapter';
import { status } from './status';
import type { NodeAPI, NodeStatus } from './types';

const OWN = 'node-red-contrib-octoeverywhere/octoeverywhere-status-poll:';

/** The node status for a snapshot: what the printer is doing, at a glance. */
export function statusOf(RED: NodeAPI, s: PrinterSnapshot, appApi: boolean): NodeStatus {
  if (!s.online) return status.error(RED._(`${COMMON}status.offline`));
  if (s.gadget?.state === GadgetState.PausedDueToFailure) return status.alert('fail', RED._(`${OWN}status.gadget-paused`));
  if (s.printing && isGadgetWarning(s.gadget)) return status.alert('fail', RED._(`${OWN}status.gadget-warning`));
  const noGadget = (text: string): string => (appApi ? text : RED._(`${OWN}status.no-gadget`, { text }));
  switch (s.state) {
    case 'paused':
      return status.waiting(noGadget(RED._(`${COMMON}status.paused`)));
    case 'warmingup':
    case 'resuming':
    case 'printing': {
      const progress = Math.floor(s.progress ?? 0);
      const text =
        s.state === 'printing'
          ? RED._(`${COMMON}status.printing`, { progress, left: formatDuration(RED, s.timeLeftSec) })
          : RED._(`${OWN}status.heating`, { progress });
      return status.working(noGadget(text));
    }
    case 'complete':
      return status.ready(RED._(`${COMMON}status.complete`));
    case 'cancelled':
      return status.idle(RED._(`${OWN}status.cancelled`));
    case 'error':
      return status.error(RED._(`${OWN}status.printer-error`));
    default:
      return status.ready(RED._(`${COMMON}status.idle`));
  }
}

/** `1 h 12 m`, `12 m`, `40 s`; `?` while the printer does not know. */
function formatDuration(RED: NodeAPI, seconds: number | null): string {
  if (seconds === null) return '?';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (h > 0) return RED._(`${OWN}duration.hours`, { h, m });
  if (m > 0) return RED._(`${OWN}duration.minutes`, { m });
  return RED._(`${OWN}duration.seconds`, { s: Math.max(0, Math.round(seconds)) });
}
