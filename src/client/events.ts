// The print-event vocabulary shared by the webhook and the status poller: the webhook's EventType
// numbers (docs/octoeverywhere.md §5, values never change) and the stable names flows switch on.
import { isObject, toInt, toNumber } from './values';

/** EventType number → event name. The single table of event names. */
export const EVENT_NAMES: Readonly<Record<number, string>> = {
  1: 'print-started',
  2: 'print-complete',
  3: 'print-failed',
  4: 'print-paused',
  5: 'print-resumed',
  6: 'print-progress',
  7: 'gadget-warning',
  8: 'gadget-paused-print',
  9: 'error',
  10: 'first-layer-complete',
  11: 'filament-change-required',
  12: 'user-interaction-required',
  13: 'notification-limit',
  14: 'third-layer-complete',
  15: 'bed-cooldown-complete',
  16: 'test',
};

/** What each event means, for the README and the nodes' help (generated from here). */
export const EVENT_DESCRIPTIONS: Readonly<Record<number, string>> = {
  1: 'A print started.',
  2: 'A print finished successfully.',
  3: 'A print failed or was cancelled.',
  4: 'A print was paused.',
  5: 'A paused print resumed.',
  6: 'Progress: every 10 % (and every hour from the webhook).',
  7: 'Gadget AI sees a possible failure.',
  8: 'Gadget AI paused the print because of a likely failure (Smart Pause).',
  9: 'The printer reported an error.',
  10: 'The first layer is done: a good moment to check adhesion.',
  11: 'The printer needs a filament change.',
  12: 'The printer is waiting for the user.',
  13: 'OctoEverywhere notification limit reached (non-Supporter account).',
  14: 'The third layer is done.',
  15: 'After a print, the bed has cooled down: safe to remove the part or switch the printer off.',
  16: 'A test notification.',
};

export const EVENT_TYPES: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(EVENT_NAMES).map(([n, name]) => [name, Number(n)]));

/** Unknown numbers pass through as `event-<n>`: new event types may be added at any time. */
export function eventName(eventType: number): string {
  return EVENT_NAMES[eventType] ?? `event-${eventType}`;
}

/** One print event, from either source, in our names. Absent fields are left out. */
export interface PrinterEvent {
  eventType: number;
  event: string;
  printerId?: string;
  printerName?: string;
  printId?: string;
  fileName?: string;
  progress?: number;
  durationSec?: number;
  timeRemainingSec?: number;
  zOffsetMm?: number;
  currentLayer?: number;
  totalLayers?: number;
  snapshotUrl?: string;
  quickViewUrl?: string;
  error?: string;
  platformErrorCode?: string;
  /** Where it came from: the webhook delivery, the status poller's derivation, or the live socket's (the same derivation). */
  source: 'webhook' | 'poll' | 'live';
}

const STRING_FIELDS: ReadonlyArray<[string, keyof PrinterEvent]> = [
  ['PrinterId', 'printerId'],
  ['PrinterName', 'printerName'],
  ['PrintId', 'printId'],
  ['FileName', 'fileName'],
  ['SnapshotUrl', 'snapshotUrl'],
  ['QuickViewUrl', 'quickViewUrl'],
  ['Error', 'error'],
  ['PlatformErrorCode', 'platformErrorCode'],
];
const NUMBER_FIELDS: ReadonlyArray<[string, keyof PrinterEvent]> = [
  ['Progress', 'progress'],
  ['DurationSec', 'durationSec'],
  ['TimeRemainingSec', 'timeRemainingSec'],
  ['ZOffsetMM', 'zOffsetMm'],
  ['CurrentLayer', 'currentLayer'],
  ['TotalLayers', 'totalLayers'],
];

/**
 * A webhook delivery body as a PrinterEvent, or undefined when it is not one (no usable EventType).
 * `SecretKey` is never copied: it is a credential.
 */
export function eventFromWebhook(body: unknown): PrinterEvent | undefined {
  if (!isObject(body)) return undefined;
  const eventType = toInt(body.EventType);
  if (eventType === undefined || eventType < 0) return undefined;
  const event: PrinterEvent = { eventType, event: eventName(eventType), source: 'webhook' };
  const target = event as unknown as Record<string, unknown>;
  for (const [wire, ours] of STRING_FIELDS) {
    const v = body[wire];
    if (typeof v === 'string' && v !== '') target[ours] = v;
    else if (typeof v === 'number') target[ours] = String(v);
  }
  for (const [wire, ours] of NUMBER_FIELDS) {
    const n = toNumber(body[wire]);
    if (n !== undefined) target[ours] = n;
  }
  return event;
}

/**
 * Events the package raises itself, with no OctoEverywhere EventType: the failure-detection node's
 * answer to the Gadget Failure Detection API's flags. Its warning reuses the webhook's name
 * (`gadget-warning`, EventType 7) so one automation serves both; a pause *suggestion* has a name of
 * its own, because `gadget-paused-print` means Gadget already paused the print.
 */
export const DETECTION_EVENTS = {
  warning: EVENT_NAMES[7],
  pause: 'gadget-pause-suggested',
} as const;

/** The package's own events, for the README's event table (generated). */
export const OWN_EVENT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [DETECTION_EVENTS.warning]: 'Also from the failure-detection node: the Failure Detection API suggests a warning (once per rising edge).',
  [DETECTION_EVENTS.pause]:
    'The failure-detection node: the Failure Detection API suggests pausing the print (once per rising edge); nothing is paused until a flow does it.',
};

/** A failure-detection event, in the PrinterEvent shape where the fields are shared. */
export interface DetectionEvent {
  event: (typeof DETECTION_EVENTS)[keyof typeof DETECTION_EVENTS];
  /** 7 for gadget-warning (as the webhook's); absent for gadget-pause-suggested, which has no EventType. */
  eventType?: number;
  printId?: string;
  /** 1 failure … 10 perfect (display only). */
  printQuality: number;
  /** 0 perfect … 100 failure (raw). */
  score: number;
  source: 'failure-detection';
}
