// Runs paused with an MCP elicitation, for the tests of the surfaces (client, `hitl`, HTTP API, console).
//
// ┌─ INTEGRATION STEP ─────────────────────────────────────────────────────────────────────────────────────┐
// │ The workflow side of elicitation (generationRun pausing on `requestElicitation`, the MCP activity        │
// │ polling `getElicitationResponse`) is written in parallel. Until it lands, `pauseWithElicitation` starts  │
// │ the test-only stand-in (test/workflows/elicitation-stand-in.ts), registered as `generationRun` on a task │
// │ queue of its own, and `elicitationOutcome` reads the answer from the stand-in's result.                  │
// │ At integration: make `startElicitationHarness` the normal harness (with an MCP server that elicits what  │
// │ it is told), make `pauseWithElicitation` start a real run whose MCP tool call elicits `options`, and      │
// │ make `elicitationOutcome` read what the MCP server received (e.g. from the tool result). The tests that  │
// │ use these helpers should then pass unchanged; see the report of the h1-surfaces branch for the list.     │
// └──────────────────────────────────────────────────────────────────────────────────────────────────────────┘
import { randomUUID } from 'node:crypto';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { HitlClient } from '../../src/client';
import {
  GENERATION_RUN_WORKFLOW,
  HitlConversationId,
  HitlStatus,
  HitlUserId,
  type ElicitationAnswer,
  type ElicitationRequestedSchema,
  type InlineRunInput,
  type McpElicitationPayload,
  type PendingAction,
} from '../../src/contracts';
import { createWorker, FAILURE_CONVERTER_PATH } from '../../src/worker';
import { getTestEnv } from '../hooks';
import type { ElicitationStandInOptions, ElicitationStandInResult } from '../workflows/elicitation-stand-in';

export interface ElicitationHarness {
  env: TestWorkflowEnvironment;
  /** A client of the task queue the paused runs are on (give it to `buildApi`, or to the CLI). */
  client: HitlClient;
  stop(): Promise<void>;
}

/** What the MCP server asks. */
export interface ElicitationOptions {
  /** Owner of the run. */
  userId: string;
  /** Who may answer (default: the owner). */
  approvers?: string[];
  server?: string;
  /** The MCP tool call that asks (`<tool>_mcp_<server>`). */
  tool?: string;
  message?: string;
  requestedSchema?: ElicitationRequestedSchema;
  mode?: 'form' | 'url';
  url?: string;
  ttlMs?: number;
}

let standInBundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** STAND-IN (see the box above): a worker running the elicitation stand-in on a task queue of its own. */
export async function startElicitationHarness(): Promise<ElicitationHarness> {
  const env = await getTestEnv();
  const taskQueue = `test-elicitation-${randomUUID()}`;
  const noop = () => undefined;
  standInBundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows/elicitation-stand-in-bundle'),
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error },
  });
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: {},
    workflowBundle: await standInBundle,
  });
  const running = worker.run();
  return {
    env,
    client: new HitlClient(env.client, taskQueue),
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

/**
 * STAND-IN (see the box above): a run of `options.userId` paused with an `mcp_elicitation` action, as if the
 * MCP server `options.server` had sent `elicitation/create` during the tool call `options.tool`.
 */
export async function pauseWithElicitation(
  h: ElicitationHarness,
  options: ElicitationOptions,
): Promise<{ runId: string; pending: PendingAction }> {
  const server = options.server ?? 'crm';
  const payload: McpElicitationPayload = {
    type: 'mcp_elicitation',
    tool_call_id: 'call_1',
    name: options.tool ?? `create_contact_mcp_${server}`,
    server,
    message: options.message ?? 'Who should I add?',
    requestedSchema: options.requestedSchema ?? { type: 'object', properties: {} },
    ...(options.mode !== undefined ? { mode: options.mode } : {}),
    ...(options.url !== undefined ? { url: options.url } : {}),
  };
  const input: InlineRunInput = {
    userId: options.userId,
    conversationId: `conversation-${randomUUID()}`,
    messages: [{ role: 'user', content: 'Add Ada to the CRM' }],
    model: { provider: 'scripted', script: [] },
    tools: [payload.name],
    ...(options.approvers !== undefined ? { approvers: options.approvers } : {}),
  };
  const standIn: ElicitationStandInOptions = {
    payload,
    ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
  };
  const runId = `run-${randomUUID()}`;
  await h.client.client.workflow.start(GENERATION_RUN_WORKFLOW, {
    workflowId: runId,
    taskQueue: h.client.taskQueue,
    args: [input, standIn],
    typedSearchAttributes: [
      { key: HitlStatus, value: 'running' },
      { key: HitlUserId, value: input.userId },
      { key: HitlConversationId, value: input.conversationId },
    ],
  });
  const wait = await h.client.waitForPendingAction(runId, { timeoutMs: 60_000 });
  if (!wait.pendingAction) throw new Error(`run ${runId} did not pause (status ${wait.status})`);
  return { runId, pending: wait.pendingAction };
}

/** STAND-IN (see the box above): what the MCP server was answered, and by whom (null: the action expired). */
export async function elicitationOutcome(
  h: ElicitationHarness,
  runId: string,
): Promise<{ elicitation: ElicitationAnswer; decidedBy: string | null }> {
  const result = (await h.client.client.workflow.getHandle(runId).result()) as ElicitationStandInResult;
  return { elicitation: result.elicitation, decidedBy: result.decidedBy };
}

/** A form with a field of every kind MCP allows (what the surface tests ask for). */
export const CONTACT_FORM: ElicitationRequestedSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', title: 'Full name', description: 'As it should appear on the invoice', minLength: 2 },
    email: { type: 'string', title: 'Email', format: 'email' },
    birthday: { type: 'string', title: 'Birthday', format: 'date' },
    seats: { type: 'integer', title: 'Seats', minimum: 1, maximum: 50, default: 5 },
    budget: { type: 'number', title: 'Budget (EUR)', minimum: 0 },
    newsletter: { type: 'boolean', title: 'Send the newsletter', default: true },
    plan: { type: 'string', title: 'Plan', enum: ['free', 'pro', 'team'], enumNames: ['Free', 'Pro', 'Team'] },
    region: {
      type: 'string',
      title: 'Region',
      oneOf: [
        { const: 'eu', title: 'Europe' },
        { const: 'us', title: 'United States' },
      ],
      default: 'eu',
    },
    topics: {
      type: 'array',
      title: 'Topics',
      items: { type: 'string', enum: ['billing', 'product', 'security'] },
      minItems: 1,
      maxItems: 2,
    },
  },
  required: ['name', 'email', 'plan'],
};
