// The configuration file (HITL_CONFIG) of the reliability suite: the scripted agents the scenarios start
// through `POST /runs`. Agents are operator configuration: the suite writes this file into its temp folder
// and gives it to every worker and HTTP API process it starts (which also get HITL_ENABLE_SCRIPTED=1).
// Scenarios that start runs at the Temporal level with inline input (operators) need none of it.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { createDefaultToolRegistry } from '../../../src/activities';
import { loadConfigFile } from '../../../src/agent-config';

/** The file a bypass script would delete in the caller's folder (it is planted there first). */
export const TARGET_FILE = 'x';

/** Approval TTL of the `ASKER` agent: a `tighten.approvalTtlMs` longer than this must be refused. */
export const ASKER_TTL_MS = 3_600_000;

export const AGENTS = {
  /** Asks before deleting `x` (every call asks: default mode); TTL 1 h; anyone may use it. */
  asker: 'rel-asker',
  /** Deletes `x` without asking (its policy allows delete_file); anyone may use it. */
  deleter: 'rel-deleter',
  /** Only answers (no tool call), though it offers delete_file and allows it. */
  talker: 'rel-talker',
  /** May only be used by bob. */
  bobOnly: 'rel-bob-only',
  /** May only be used by callers whose token carries role=staff. */
  staffOnly: 'rel-staff-only',
  /** Appends one line, asking first; only a token with role=approver may resolve (not even the owner). */
  roleApproved: 'rel-role-approved',
  /** The hostile-input scenario's agent: appends one line to odd/agent.txt, asking first; anyone may use it. */
  hostile: 'rel-hostile',
} as const;

/** Where `AGENTS.roleApproved` appends its line (in the owner's folder). */
export const ROLE_APPROVED_FILE = 'role/approved.txt';
/** Where `AGENTS.hostile` appends its line (in the caller's folder). */
export const HOSTILE_AGENT_FILE = 'odd/agent.txt';

const deleteTarget = { tool_calls: [{ id: 'c1', name: 'delete_file', arguments: { path: TARGET_FILE } }] };

/** The configuration, as the YAML file holds it. */
export const SUITE_CONFIG = {
  version: 1,
  toolApproval: { enabled: true, mode: 'default' },
  defaults: { approvalTtl: '24h', onExpiry: 'abort' },
  agents: [
    {
      id: AGENTS.asker,
      name: 'Asks before deleting',
      model: { provider: 'scripted', script: [deleteTarget, { content: 'done' }] },
      tools: ['delete_file'],
      toolApproval: { ask: ['delete_*'] },
      approvalTtl: ASKER_TTL_MS,
      users: ['*'],
    },
    {
      id: AGENTS.deleter,
      name: 'Deletes without asking',
      model: { provider: 'scripted', script: [deleteTarget, { content: 'done' }] },
      tools: ['delete_file'],
      toolApproval: { allow: ['delete_file'] },
      users: ['*'],
    },
    {
      id: AGENTS.talker,
      name: 'Only talks',
      model: { provider: 'scripted', script: [{ content: 'nothing to do' }] },
      tools: ['delete_file'],
      toolApproval: { allow: ['delete_file'] },
      users: ['*'],
    },
    {
      id: AGENTS.bobOnly,
      model: { provider: 'scripted', script: [deleteTarget, { content: 'done' }] },
      tools: ['delete_file'],
      toolApproval: { allow: ['delete_file'] },
      users: ['bob'],
    },
    {
      id: AGENTS.staffOnly,
      model: { provider: 'scripted', script: [deleteTarget, { content: 'done' }] },
      tools: ['delete_file'],
      toolApproval: { allow: ['delete_file'] },
      users: [{ role: 'staff' }],
    },
    {
      id: AGENTS.roleApproved,
      model: {
        provider: 'scripted',
        script: [
          { tool_calls: [{ id: 'c1', name: 'append_file', arguments: { path: ROLE_APPROVED_FILE, content: 'ok\n' } }] },
          { content: 'done' },
        ],
      },
      tools: ['append_file'],
      approvers: [{ role: 'approver' }],
      users: ['*'],
    },
    {
      id: AGENTS.hostile,
      model: {
        provider: 'scripted',
        script: [
          {
            tool_calls: [
              { id: 'call_1', name: 'append_file', arguments: { path: HOSTILE_AGENT_FILE, content: 'odd agent ✓\n' } },
            ],
          },
          { content: 'done' },
        ],
      },
      tools: ['append_file'],
      toolApproval: { ask: ['append_file'] },
      users: ['*'],
    },
  ],
};

/**
 * Writes the suite's configuration file to `file` and validates it with the product's own loader, so a
 * mistake here fails at once with the loader's one-line message instead of a worker that never starts.
 */
export function writeSuiteConfig(file: string): string {
  writeFileSync(file, stringify(SUITE_CONFIG));
  loadConfigFile(file, {
    knownTools: new Set(
      createDefaultToolRegistry()
        .list()
        .map((tool) => tool.name),
    ),
  });
  return file;
}
