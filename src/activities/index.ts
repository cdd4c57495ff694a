import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { createGrantActivities } from './grants';
import { askUserQuestionTool } from './tools/ask-user-question';
import type {
  CallModelRequest,
  ExecuteToolRequest,
  GrantActivities,
  HitlActivities,
  ModelTurn,
  ToolResult,
} from '../contracts';
import { loadActivitiesConfigFromEnv, type ActivitiesConfig } from './config';
import { createModelDispatcher } from './model';
import { ToolRegistry, type ToolContext } from './tools/registry';
import { SANDBOX_TOOLS } from './tools/sandbox-files';

export * from './config';
export * from './model';
export * from './tools/registry';
export * from './tools/idempotency';
export * from './tools/sandbox-path';
export * from './tools/sandbox-files';

/** How often `callModel` heartbeats while it waits for the endpoint (the SDK throttles the sends). */
const ACTIVITY_HEARTBEAT_MS = 1000;

/** A registry with the demo tools: list_files, read_file, write_file, append_file, delete_file, noop, sleep. */
export function createDefaultToolRegistry(): ToolRegistry {
  const registry = new ToolRegistry();
  for (const tool of SANDBOX_TOOLS) registry.register(tool);
  registry.register(askUserQuestionTool);
  return registry;
}

/**
 * The activities the worker registers. `callModel` dispatches on `request.model.provider`;
 * `executeTool` runs one tool call through the registry and returns its result (a bad call is an
 * error result, never a failed activity; only transient errors and cancellation are thrown).
 */
export function createActivities(
  config: ActivitiesConfig = loadActivitiesConfigFromEnv(),
  registry: ToolRegistry = createDefaultToolRegistry(),
): HitlActivities {
  const callModelFn = createModelDispatcher(config, registry);

  return {
    async callModel(request: CallModelRequest): Promise<ModelTurn> {
      const activity = currentActivityContext();
      if (activity === undefined) return callModelFn(request);
      return whileHeartbeating(activity, () => callModelFn(request, { signal: activity.cancellationSignal }));
    },

    async executeTool(request: ExecuteToolRequest): Promise<ToolResult> {
      const activity = currentActivityContext();
      const ctx: ToolContext = {
        idempotencyKey: request.idempotencyKey,
        runId: request.runId,
        toolCallId: request.toolCallId,
        sandboxDir: config.sandboxDir,
        ...(activity !== undefined
          ? { heartbeat: () => activity.heartbeat(), signal: activity.cancellationSignal }
          : {}),
      };
      if (activity === undefined) return registry.execute(request.name, request.arguments, ctx);
      return whileHeartbeating(activity, () => registry.execute(request.name, request.arguments, ctx));
    },
  };
}

/**
 * Heartbeats every second while `fn` runs: the workflow sets a heartbeat timeout, so when this worker
 * dies mid-call the attempt times out in seconds and is retried elsewhere (with the same idempotency key).
 * The first heartbeat comes after one interval, not at once: the timeout already counts from the start,
 * and a call that ends within a second (most tools) then costs no heartbeat round trip at all.
 */
async function whileHeartbeating<T>(activity: Context, fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => activity.heartbeat(), ACTIVITY_HEARTBEAT_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** The Temporal activity context, or undefined when called outside an activity (plain unit tests). */
function currentActivityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export * from './grants';

/**
 * Everything a worker registers: model and tool activities plus the grant activities, which reach the
 * users' grant workflows through `client` on `taskQueue`.
 */
export function createWorkerActivities(
  client: Client,
  taskQueue: string,
  config: ActivitiesConfig = loadActivitiesConfigFromEnv(),
  registry: ToolRegistry = createDefaultToolRegistry(),
): HitlActivities & GrantActivities {
  return { ...createActivities(config, registry), ...createGrantActivities(client, taskQueue) };
}
