// The table on stdout: one row per figure, ours, the floor (the minimal same-shape Temporal workflow on the
// same server), ours ÷ floor, the floor with the product's events (what the wire contract's writes cost the
// platform), ours ÷ it, LangGraph + PostgreSQL (the durable peer), ours ÷ it, LangGraph + SQLite, ours ÷ it,
// and LangGraph's in-memory saver for the price of durability. Then issue 16's ratio targets, row by row.
import type { Percentiles } from './stats';

export type Cell = { kind: 'latency'; value: Omit<Percentiles, 'n'> } | { kind: 'number'; value: number; digits?: number };

export interface Row {
  section: string;
  metric: string;
  unit: string;
  ours?: Cell;
  /** The platform floor: what Temporal itself costs for the same shape (absent in runs before issue 16). */
  floor?: Cell;
  /** The floor writing the product's events (absent in runs before 2026-11-27). */
  shaped?: Cell;
  /** LangGraph + PostgreSQL checkpointer (absent in runs before issue 16's item 4). */
  pg?: Cell;
  /** LangGraph + SQLite checkpointer. */
  theirs?: Cell;
  memory?: Cell;
  /** Median over trials of ours ÷ floor within each trial (of p50 for latencies): printed after the ratio. */
  pairedFloor?: number;
  /** As pairedFloor, against the floor with the product's events. */
  pairedShaped?: number;
  /** Issue 16's bound on ours ÷ floor for this row (`max` for costs, `min` for throughput). */
  ratioTarget?: { max?: number; min?: number };
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

const pairedText = (paired: number | undefined): string =>
  paired !== undefined ? ` · paired ${paired.toFixed(2)}×` : '';

export interface TableColumns {
  ours: string;
  floor: string;
  shaped: string;
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
    columns.shaped,
    'ours ÷ shaped floor',
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
      ratioText(row.ours, row.floor) + pairedText(row.pairedFloor),
      cellText(row.shaped),
      ratioText(row.ours, row.shaped) + pairedText(row.pairedShaped),
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

/** The single figure a ratio target reads: the paired median, else the ratio of medians (of p50 for latencies). */
function targetRatio(ours: Cell | undefined, base: Cell | undefined, paired: number | undefined): number | undefined {
  if (paired !== undefined) return paired;
  if (!ours || !base || ours.kind !== base.kind) return undefined;
  const [a, b] =
    ours.kind === 'number' && base.kind === 'number'
      ? [ours.value, base.value]
      : ours.kind === 'latency' && base.kind === 'latency'
        ? [ours.value.p50, base.value.p50]
        : [Number.NaN, Number.NaN];
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : undefined;
}

function verdictText(value: number | undefined, target: { max?: number; min?: number }): string {
  if (value === undefined) return 'NOT MEASURED';
  const pass = (target.max === undefined || value <= target.max) && (target.min === undefined || value >= target.min);
  return `${value.toFixed(2)}× ${pass ? 'PASS' : 'FAIL'}`;
}

/**
 * Issue 16's ratio targets, one line per row that has one: ours ÷ floor (the target as stated) and ours ÷ the
 * floor with the product's events (what is left once the wire contract's own writes are priced in).
 */
export function ratioTargetsText(rows: readonly Row[], columns: Pick<TableColumns, 'floor' | 'shaped'>): string {
  const lines = rows.flatMap((row) => {
    const target = row.ratioTarget;
    if (!target || !row.ours) return [];
    const bound = [target.max !== undefined ? `≤ ${target.max}` : '', target.min !== undefined ? `≥ ${target.min}` : '']
      .filter(Boolean)
      .join(', ');
    const name = `${row.section}: ${row.metric.replace(/ \(p50.*\)$/, '')}`;
    return [
      `  ${`${name} ${bound}`.padEnd(80)} ÷ ${columns.floor}: ${verdictText(targetRatio(row.ours, row.floor, row.pairedFloor), target).padEnd(12)}` +
        ` ÷ ${columns.shaped}: ${verdictText(targetRatio(row.ours, row.shaped, row.pairedShaped), target)}`,
    ];
  });
  if (lines.length === 0) return '';
  return ['targets (issue 16: ours ÷ floor; the median of the trials\' own ratios, of p50 for latencies):', ...lines].join(
    '\n',
  );
}
