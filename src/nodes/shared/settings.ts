// The one reader of numbers and strings from settings.js and from the editor's fields (which may
// arrive as strings from older flows): every node parses its options here, so "positive", "empty
// means default" and "out of range" mean the same everywhere.
import { InvalidArgumentError } from '../../client';
import type { NodeAPI } from './types';

/** The range messages live in the config node's catalog, shared by every node. */
const COMMON_CATALOG = 'node-red-contrib-octoeverywhere/octoeverywhere-app-connection:';

/** The node's message catalog (RED._). */
export type Translate = (key: string, vars?: Record<string, string | number>) => string;

/** A number, or a string that holds one (trimmed); anything else is undefined. Empty is undefined. */
export function numberOf(value: unknown): number | undefined {
  const n = typeof value === 'string' ? (value.trim() === '' ? undefined : Number(value.trim())) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function setting(RED: NodeAPI, name: string): unknown {
  return (RED.settings as unknown as Record<string, unknown>)[name];
}

/** A positive number from settings.js, or undefined to keep the default. */
export function positiveSetting(RED: NodeAPI, name: string): number | undefined {
  const value = setting(RED, name);
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** A number ≥ 0 from settings.js (0 turns the thing off), or undefined to keep the default. */
export function nonNegativeSetting(RED: NodeAPI, name: string): number | undefined {
  const value = setting(RED, name);
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** A non-empty string from settings.js, else undefined. */
export function stringSetting(RED: NodeAPI, name: string): string | undefined {
  const value = setting(RED, name);
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** A positive number from the editor, else the default. */
export function positive(value: unknown, fallback: number): number {
  const n = numberOf(value);
  return n !== undefined && n > 0 ? n : fallback;
}

/** A whole number ≥ `min` from the editor, else the default. */
export function wholeNumber(value: unknown, fallback: number, min: number): number {
  const n = numberOf(value);
  return n !== undefined && Number.isInteger(n) && n >= min ? n : fallback;
}

export interface RangeRule {
  /** How the message names the value ("Max fps", "msg.timeout"). */
  what: string;
  min: number;
  max: number;
  integer?: boolean;
  /** Default OE_INVALID_CONFIG (an editor field); messages use their own (OE_INVALID_TIMEOUT …). */
  code?: string;
}

/**
 * A number within a range, undefined when empty; anything else is an InvalidArgumentError with the
 * catalog's `errors.number-range` / `errors.whole-number-range` text (in the common catalog).
 */
export function optionalNumber(value: unknown, rule: RangeRule, t: Translate): number | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
  const n = numberOf(value);
  if (n === undefined || n < rule.min || n > rule.max || (rule.integer === true && !Number.isInteger(n))) throw rangeError(rule, t);
  return n;
}

/** Like optionalNumber, but empty is out of range too. */
export function requiredNumber(value: unknown, rule: RangeRule, t: Translate): number {
  const n = optionalNumber(value, rule, t);
  if (n === undefined) throw rangeError(rule, t);
  return n;
}

function rangeError(rule: RangeRule, t: Translate): InvalidArgumentError {
  const key = rule.integer ? 'errors.whole-number-range' : 'errors.number-range';
  return new InvalidArgumentError(t(`${COMMON_CATALOG}${key}`, { what: rule.what, min: rule.min, max: rule.max }), rule.code ?? 'OE_INVALID_CONFIG');
}
