// The run's audit log (`getRunState().decisions`): every resolution attempt, expiry, cancel and grant,
// bounded in entries and in bytes so that no traffic can grow the queries or the continue-as-new state
// without end. Sandbox-safe. What is dropped is counted; the workflow history keeps every update anyway.
import type { AuditEntry } from '../contracts';

/** Refused attempts kept; older refusals are dropped first. */
export const MAX_REFUSALS_IN_AUDIT = 500;
/** Largest audit log kept (JSON characters); the oldest refusals go first, then the oldest entries. */
export const MAX_AUDIT_CHARS = 256 * 1024;
/** Longest free-text `message` of an entry (e.g. why a grant was not remembered). */
export const MAX_AUDIT_MESSAGE_CHARS = 2000;

function sizeOf(entry: AuditEntry): number {
  return JSON.stringify(entry).length;
}

export class AuditLog {
  readonly entries: AuditEntry[];
  /** Entries dropped to stay within the bounds, over the whole run (across continue-as-new). */
  dropped: number;
  #chars = 0;
  #refusals = 0;

  constructor(entries: readonly AuditEntry[] = [], dropped = 0) {
    this.entries = [];
    this.dropped = dropped;
    for (const entry of entries) this.record(entry);
  }

  record(entry: AuditEntry): void {
    const bounded =
      entry.message !== undefined && entry.message.length > MAX_AUDIT_MESSAGE_CHARS
        ? { ...entry, message: `${entry.message.slice(0, MAX_AUDIT_MESSAGE_CHARS)}…` }
        : entry;
    this.entries.push(bounded);
    this.#chars += sizeOf(bounded);
    if (bounded.outcome === 'refused') this.#refusals += 1;
    this.#trim();
  }

  /** Oldest refusals first (they are the traffic); then, only if still too large, the oldest entries. */
  #trim(): void {
    while (this.#refusals > MAX_REFUSALS_IN_AUDIT || (this.#chars > MAX_AUDIT_CHARS && this.entries.length > 1)) {
      const index = this.#refusals > 0 ? this.entries.findIndex((e) => e.outcome === 'refused') : 0;
      const [removed] = this.entries.splice(index, 1);
      if (!removed) return;
      this.#chars -= sizeOf(removed);
      if (removed.outcome === 'refused') this.#refusals -= 1;
      this.dropped += 1;
    }
  }
}
