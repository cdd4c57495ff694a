// The table on stdout: one row per figure, ours, the floor (the minimal same-shape Temporal workflow on the
// same server), ours ÷ floor, LangGraph + PostgreSQL (the durable peer), ours ÷ it, LangGraph + SQLite,
// ours ÷ it, and LangGraph's in-memory saver for the price of durability.
import type { Percentiles } from './stats';

export type Cell = { kind: 'latency'; value: Omit<Percentiles, 'n'> } | { kind: 'number'; value: number; digits?: number };

export interface Row {
  section: string;
  metric: string;
  unit: string;
  ours?: Cell;
  /** The platform floor: what Temporal itself costs for the same shape (absent in runs before issue 16). */
  floor?: Cell;
  /** LangGraph + PostgreSQL checkpointer (absent in runs before issue 16's item 4). */
  pg?: Cell;
  /** LangGraph + SQLite checkpointer. */
  theirs?: Cell;
  memory?: Cell;
  /** Median over trials of ours ÷ floor within each trial (of p50 for latencies): printed after the ratio. */
  pairedFloor?: number;
  /** Higher is better (throughput): the ratio column says so. */
  higherIsBetter?: boolean;
}

function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toString();
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(Math.min(digits, 1));
  return value.toFixed(digits);
}

function cellText(cell: Cell | undefined): string {
  if (!cell) return '—';
  if (cell.kind === 'number') return fmt(cell.value, cell.digits ?? 1);
  return `${fmt(cell.value.p50)} / ${fmt(cell.value.p95)} / ${fmt(cell.value.p99)}`;
}

function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
  const r = a / b;
  return r >= 10 ? `${r.toFixed(0)}×` : `${r.toFixed(r >= 1 ? 1 : 2)}×`;
}

function ratioText(ours: Cell | undefined, theirs: Cell | undefined): string {
  if (!ours || !theirs || ours.kind !== theirs.kind) return '—';
  if (ours.kind === 'number' && theirs.kind === 'number') return ratio(ours.value, theirs.value);
  if (ours.kind === 'latency' && theirs.kind === 'latency') {
    return [ratio(ours.value.p50, theirs.value.p50), ratio(ours.value.p95, theirs.value.p95), ratio(ours.value.p99, theirs.value.p99)].join(
      ' / ',
    );
  }
  return '—';
}

export interface TableColumns {
  ours: string;
  floor: string;
  pg: string;
  theirs: string;
  memory: string;
}

/** Rows as a Markdown table (readable on a terminal too). */
export function renderTable(rows: Row[], columns: TableColumns): string {
  const header = [
    '',
    'metric',
    'unit',
    columns.ours,
    columns.floor,
    'ours ÷ floor',
    columns.pg,
    'ours ÷ PG',
    columns.theirs,
    'ours ÷ SQLite',
    columns.memory,
  ];
  const lines: string[][] = [];
  let section = '';
  for (const row of rows) {
    const sectionText = row.section !== section ? row.section : '';
    section = row.section;
    lines.push([
      sectionText,
      row.metric,
      row.unit,
      cellText(row.ours),
      cellText(row.floor),
      ratioText(row.ours, row.floor) + (row.pairedFloor !== undefined ? ` · paired ${row.pairedFloor.toFixed(2)}×` : ''),
      cellText(row.pg),
      ratioText(row.ours, row.pg) + (row.higherIsBetter && row.ours && row.pg ? ' (higher is better)' : ''),
      cellText(row.theirs),
      ratioText(row.ours, row.theirs) + (row.higherIsBetter && row.ours && row.theirs ? ' (higher is better)' : ''),
      cellText(row.memory),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...lines.map(line)].join('\n');
}
