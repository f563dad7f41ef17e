// Random identifiers and secrets in the shapes production uses (docs/octoeverywhere.md §1, §6).
import { randomBytes } from 'node:crypto';

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const MIXED_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters drawn uniformly from `alphabet` (rejection sampling keeps it unbiased). */
function randomFrom(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** The label of an App Connection host: `app-` + 32 lowercase alphanumerics. */
export const appHostLabel = (): string => `app-${randomFrom(LOWER_ALNUM, 32)}`;
/** The label of a Shared Connection host. */
export const sharedHostLabel = (): string => `shared-${randomFrom(LOWER_ALNUM, 24)}`;
/** A 60-char Printer ID, as the plugin generates it. */
export const printerId = (): string => randomFrom(UPPER_ALNUM, 60);
/** Opaque ids and secrets (connection ids, tokens, passwords). */
export const token = (length: number): string => randomFrom(MIXED_ALNUM, length);
