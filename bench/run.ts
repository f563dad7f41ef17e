// `npm run bench`: every benchmark, each in a fresh process, then one table and bench/results.json.
// `npm run bench -- relay mjpeg` runs only the ones named. Never part of `npm test`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { forkTs, Peer } from './lib/proc';
import type { Figure, Section } from './lib/report';
import { ROUNDS, ROUND_MS, WARMUP_MS } from './lib/stats';

const BENCHES = ['relay', 'printer-request', 'webcam-snapshot', 'mjpeg', 'webhook', 'farm', 'live'];

function show(v: Figure | undefined): string {
  if (v === null || v === undefined) return '–';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** A section as Markdown (readable in a terminal too; docs/benchmarks.md takes it as is). */
export function markdown(s: Section, depth = 3): string {
  const keys = [...new Set(s.rows.flatMap((r) => Object.keys(r.figures)))];
  const lines = [`${'#'.repeat(depth)} ${s.title}`];
  if (s.rows.length) lines.push('', `| | ${keys.join(' | ')} |`, `|---|${keys.map(() => '---:').join('|')}|`);
  for (const r of s.rows) lines.push(`| ${r.peer}${r.note ? ` — ${r.note}` : ''} | ${keys.map((k) => show(r.figures[k])).join(' | ')} |`);
  const ratios = Object.entries(s.ratios);
  if (ratios.length) lines.push('', ...ratios.map(([k, v]) => `- ${k}: **${v === null ? 'not available yet' : `${show(v)}×`}**`));
  if (s.goals.length) lines.push('', ...s.goals.map((g) => `- ${g.met === null ? '– not judged' : g.met ? '✅ met' : '❌ missed'}: ${g.text} — ${g.detail}`));
  if (s.notes.length) lines.push('', ...s.notes.map((n) => `> ${n}`));
  for (const part of s.parts ?? []) lines.push('', markdown(part, depth + 1));
  return lines.join('\n');
}

async function runOne(bench: string): Promise<Section> {
  const peer = new Peer(forkTs('worker.ts'));
  try {
    return await peer.call<Section>('run', { bench });
  } catch (err) {
    return {
      id: bench,
      title: bench,
      rows: [],
      ratios: {},
      goals: [],
      notes: [`failed: ${(err as Error).message.split('\n')[0]}`],
    };
  } finally {
    await peer.close();
  }
}

/** The newest modification time of the files under `dir` (0 when there is none). */
function newest(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return latest;
}

/** Our nodes and client are measured as users run them, from dist/: built first when src/ changed since. */
function ensureBuilt(): void {
  const root = path.join(__dirname, '..');
  if (newest(path.join(root, 'src')) <= newest(path.join(root, 'dist'))) return;
  process.stderr.write('bench: src/ is newer than dist/, building …\n');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit' });
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !BENCHES.includes(w));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.join(', ')}`);
  const list = wanted.length ? wanted : BENCHES;
  ensureBuilt();
  const started = performance.now();
  const sections: Array<Section & { date?: string; load?: { before: string; after: string } }> = [];
  for (const bench of list) {
    const t0 = performance.now();
    process.stderr.write(`bench: ${bench} …\n`);
    // The machine may be shared: the load before and after each section says how far to trust it.
    const loadBefore = loadAverage();
    const section = await runOne(bench);
    const load = { before: loadBefore, after: loadAverage() };
    sections.push({ ...section, load });
    console.log(
      `${markdown(section)}\n\n_(${((performance.now() - t0) / 1000).toFixed(0)} s; load average 1/5/15 min: ${load.before} before, ${load.after} after)_\n`,
    );
  }
  const nodeRed = (JSON.parse(fs.readFileSync(require.resolve('node-red/package.json'), 'utf8')) as { version: string }).version;
  const cpus = os.cpus();
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpuModel: cpus[0]?.model ?? 'unknown',
      cpuCount: cpus.length,
      platform: `${os.platform()} ${os.release()}`,
      memoryGB: Math.round(os.totalmem() / 2 ** 30),
    },
    node: process.version,
    nodeRed,
    method: { rounds: ROUNDS, roundMs: ROUND_MS, warmupMs: WARMUP_MS, statistic: 'median of rounds' },
    durationSec: Math.round((performance.now() - started) / 1000),
    sections,
  };
  const file = path.join(__dirname, 'results.json');
  if (wanted.length && fs.existsSync(file)) {
    // A partial run replaces its own sections and keeps the others of the last run, marked by date.
    const previous = JSON.parse(fs.readFileSync(file, 'utf8')) as { date?: string; sections?: Array<Section & { date?: string }> };
    const kept = (previous.sections ?? []).filter((s) => !list.includes(s.id)).map((s) => ({ ...s, date: s.date ?? previous.date }));
    results.sections = [...kept, ...sections].sort((a, b) => BENCHES.indexOf(a.id) - BENCHES.indexOf(b.id));
  }
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    `Machine: ${results.machine.cpuModel} × ${results.machine.cpuCount}, Node ${results.node}, Node-RED ${nodeRed}; ` +
      `${results.durationSec} s in all. Results: ${path.relative(process.cwd(), file)}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
