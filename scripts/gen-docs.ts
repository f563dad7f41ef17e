// Writes the README's generated tables (events, error codes) from the client's own tables, and its
// benchmark summary from docs/benchmarks-readme-table.md, so the docs and the code cannot disagree.
// `npm run docs` rewrites them; a test fails if they are stale.
import fs from 'node:fs';
import path from 'node:path';
import { COMMAND_CODES, EVENT_DESCRIPTIONS, EVENT_NAMES, EVENT_TYPES, FAILURE_DETECTION_CODES, OWN_EVENT_DESCRIPTIONS, SERVICE_CODES } from '../src/client';

export const README = path.resolve(__dirname, '..', 'README.md');

function eventsTable(): string {
  const rows = Object.entries(EVENT_NAMES).map(([n, name]) => `| ${n} | \`${name}\` | ${EVENT_DESCRIPTIONS[Number(n)] ?? ''} |`);
  const own = Object.entries(OWN_EVENT_DESCRIPTIONS).map(([name, when]) => `| ${EVENT_TYPES[name] ?? '—'} | \`${name}\` | ${when} |`);
  return [
    '| EventType | `msg.topic` / `payload.event` | When |',
    '|---|---|---|',
    ...rows,
    '| any other *n* | `event-<n>` | A type added by OctoEverywhere after this version; passed through. |',
    ...own,
  ].join('\n');
}

function errorsTable(): string {
  const rows = [...Object.entries(SERVICE_CODES), ...Object.entries(COMMAND_CODES)].map(
    ([code, info]) => `| \`OE_${code}\` | ${info.meaning} | ${info.kind} | ${info.advice} |`,
  );
  return ['| `msg.error.code` | Meaning | Kind | What to do |', '|---|---|---|---|', ...rows].join('\n');
}

/** The Gadget Failure Detection API's codes (the failure detection node), with what the node does next. */
function detectionErrorsTable(): string {
  // The budget's cool-down lasts until the next month: for the reader, no more calls.
  const next: Record<string, string> = { stop: 'no more calls', 'cool-down': 'no more calls', retry: 'next interval', refused: 'next frame' };
  const rows = Object.entries(FAILURE_DETECTION_CODES).map(
    ([code, info]) => `| \`${code}\` | ${info.meaning} | ${info.kind} | ${next[info.behaviour]} | ${info.advice} |`,
  );
  return ['| `msg.error.code` | Meaning | Kind | Then | What to do |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** The benchmark summary, kept in docs/benchmarks-readme-table.md beside the page that explains it. */
function benchTable(): string {
  return fs.readFileSync(path.resolve(__dirname, '..', 'docs', 'benchmarks-readme-table.md'), 'utf8').trim();
}

const SECTIONS: Record<string, () => string> = {
  events: eventsTable,
  errors: errorsTable,
  'detection-errors': detectionErrorsTable,
  bench: benchTable,
};

/** The README with every generated section filled in. */
export function renderReadme(text: string): string {
  let out = text;
  for (const [name, render] of Object.entries(SECTIONS)) {
    const re = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!re.test(out)) throw new Error(`README.md has no <!-- ${name}:start --> … <!-- ${name}:end --> section`);
    out = out.replace(re, (_m, start: string, end: string) => `${start}\n${render()}\n${end}`);
  }
  return out;
}

if (require.main === module) {
  fs.writeFileSync(README, renderReadme(fs.readFileSync(README, 'utf8')));
}
