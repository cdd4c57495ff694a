// A worker with the real activities on its own task queue, against the shared dev server.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  createWorkerActivities,
  loadActivitiesConfigFromEnv,
  userSandboxDir,
  type McpManager,
} from '../../src/activities';
import type { AgentConfigSource } from '../../src/agent-config';
import { HitlClient } from '../../src/client';
import Database from 'better-sqlite3';
import { SqliteContentStore, sharedContentStore } from '../../src/content-store';
import type { InlineRunInput as RunInput, PendingAction, ToolMessage } from '../../src/contracts';
import { getTestEnv, getWorkflowBundle } from '../hooks';

export const REPLAY_HISTORIES_DIR = join(__dirname, '..', 'replay-histories');

export interface Harness {
  env: TestWorkflowEnvironment;
  client: HitlClient;
  sandboxDir: string;
  stop(): Promise<void>;
}

/** A worker with the real activities; by default against the shared dev server, on a fresh task queue and sandbox. */
export async function startHarness(
  options: {
    env?: TestWorkflowEnvironment;
    taskQueue?: string;
    sandboxDir?: string;
    /** The worker's agents (default: the repo's hitl.config.yaml, read on first use). */
    agents?: AgentConfigSource;
    /** Accept the scripted provider (default: yes, see test/hooks.ts). */
    enableScripted?: boolean;
    /** The worker's MCP clients (default: its own, on the agents' mcpServers; closed by the caller). */
    mcp?: McpManager;
  } = {},
): Promise<Harness> {
  const env = options.env ?? (await getTestEnv());
  const sandboxDir = options.sandboxDir ?? (await mkdtemp(join(tmpdir(), 'hitl-sandbox-')));
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await getWorkflowBundle(),
    activities: createWorkerActivities(env.client, taskQueue, {
      ...loadActivitiesConfigFromEnv(),
      sandboxDir,
      ...(options.agents ? { agents: options.agents } : {}),
      ...(options.enableScripted !== undefined ? { enableScripted: options.enableScripted } : {}),
      ...(options.mcp ? { mcp: options.mcp } : {}),
    }),
  });
  const running = worker.run();
  return {
    env,
    client: new HitlClient(env.client, taskQueue, () => sharedContentStore()),
    sandboxDir,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

/** A scripted run of user u1 in conversation c1 offering the sandbox file tools; HITL on, everything asks. */
export function scriptedInput(
  script: NonNullable<Extract<RunInput['model'], { provider: 'scripted' }>['script']>,
  overrides: Partial<RunInput> = {},
): RunInput {
  return {
    userId: 'u1',
    conversationId: 'c1',
    messages: [{ role: 'user', content: 'Tidy up my files' }],
    model: { provider: 'scripted', script },
    tools: ['append_file', 'write_file', 'read_file', 'delete_file', 'list_files'],
    policy: { enabled: true, mode: 'default', allow: [], deny: [], ask: [] },
    ...overrides,
  };
}

export function call(id: string, name: string, args: Record<string, unknown> = {}) {
  return { id, name, arguments: args };
}

export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  what: string,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function waitForPending(client: HitlClient, runId: string): Promise<PendingAction> {
  return eventually(() => client.getPendingAction(runId), `a pending action on ${runId}`);
}

/** A file in the sandbox folder of `userId` (the tools write there); u1 is the user of `scriptedInput`. */
export async function readSandboxFile(sandboxDir: string, path: string, userId = 'u1'): Promise<string | undefined> {
  return readFile(join(userSandboxDir(sandboxDir, userId), path), 'utf8').catch(() => undefined);
}

/** With RECORD_HISTORIES=1, saves the run's history as a replay fixture (see test/workflow/replay.test.ts). */
export async function maybeRecordHistory(
  harness: Harness,
  runId: string,
  name: string,
  executionRunId?: string,
): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await harness.env.client.workflow.getHandle(runId, executionRunId).fetchHistory();
  await mkdir(REPLAY_HISTORIES_DIR, { recursive: true });
  await writeFile(join(REPLAY_HISTORIES_DIR, `${name}.json`), historyToJSON(history));
}

/** The tool messages of a transcript, in order. */
export function toolMessages(messages: readonly { role: string }[]): ToolMessage[] {
  return messages.filter((m): m is ToolMessage => m.role === 'tool');
}

/** closed_at of each key in the test run's SQLite store (null: open or unknown), read behind the store's back. */
export function contentClosedAt(keys: string[]): (number | null)[] {
  const store = sharedContentStore();
  if (!(store instanceof SqliteContentStore)) throw new Error('the tests run on the SQLite store');
  const db = new Database(store.path, { readonly: true });
  try {
    const select = db.prepare<[string], { closed_at: number | null }>(
      'SELECT closed_at FROM hitl_content_runs WHERE run_id = ?',
    );
    return keys.map((key) => select.get(key)?.closed_at ?? null);
  } finally {
    db.close();
  }
}
