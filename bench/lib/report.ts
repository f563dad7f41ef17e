// What a benchmark hands back: rows of figures per party, the ratios between them, and each goal
// with whether it was met. null always means "not measured" (never a made-up figure).
export type Figure = number | null;

export interface Row {
  peer: string;
  figures: Record<string, Figure>;
  /** Why a row has no figures, or what to know about them. */
  note?: string;
}

export interface Goal {
  text: string;
  /** null: could not be judged (a party not available yet). */
  met: boolean | null;
  detail: string;
}

export interface Section {
  id: string;
  title: string;
  rows: Row[];
  ratios: Record<string, Figure>;
  goals: Goal[];
  notes: string[];
  /** Sub-tables of a benchmark that measures several things (printed after its own table, if any). */
  parts?: Section[];
}

export function ratio(a: Figure | undefined, b: Figure | undefined): Figure {
  return typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : null;
}

/** A goal judged on a figure that may be absent. */
export function goal(text: string, value: Figure, ok: (v: number) => boolean, show: (v: number) => string): Goal {
  if (value === null || !Number.isFinite(value)) return { text, met: null, detail: 'not measured' };
  return { text, met: ok(value), detail: show(value) };
}

export const fmt = (v: number, digits = 2): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits));

/**
 * A goal that is a bound on one figure: met or missed, and by how much (the figure against the bound,
 * in % of the bound), e.g. `1.62× vs ≥ 2×: missed by 19 %`.
 */
export function bound(text: string, value: Figure, limit: number, kind: 'at least' | 'at most', show: (v: number) => string): Goal {
  if (value === null || !Number.isFinite(value)) return { text, met: null, detail: 'not measured' };
  const met = kind === 'at least' ? value >= limit : value <= limit;
  const by = Math.abs((value - limit) / limit) * 100;
  const sign = kind === 'at least' ? '≥' : '≤';
  return { text, met, detail: `${show(value)} vs ${sign} ${show(limit)}: ${met ? `met, ${fmt(by, 0)} % to spare` : `missed by ${fmt(by, 0)} %`}` };
}
