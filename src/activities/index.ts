import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { createGrantActivities } from './grants';
import { askUserQuestionTool } from './tools/ask-user-question';
import type {
  AppendTranscriptRequest,
  CallModelRequest,
  CallModelResult,
  CheckToolArgumentsRequest,
  CheckToolArgumentsResult,
  CloseTranscriptRequest,
  ExecuteToolRequest,
  GrantActivities,
  HitlActivities,
  ModelTurn,
  ResolveAgentRequest,
  RunConfig,
  StoredModelTurn,
  StoredToolResult,
  ToolResult,
} from '../contracts';
import { parseMcpToolName } from '../contracts';
import { executeMcpTool, invalidMcpArguments, McpManager, runElicitationHandler } from './mcp';
import type { ContentStore } from '../content-store';
import { appendEntries, callModelFromStore, readArguments, storeBinaryContent, storeToolResult } from '../transcript';
import { sharedContentStore } from '../content-store';
import { configSourceFromEnv, type AgentConfigSource } from '../agent-config';
import { resolveAgentActivity } from './resolve-agent';
import { loadActivitiesConfigFromEnv, type ActivitiesConfig } from './config';
import { createModelDispatcher } from './model';
import { ToolRegistry, type ToolContext } from './tools/registry';
import { SANDBOX_TOOLS } from './tools/sandbox-files';
import { userSandboxDir } from './tools/sandbox-path';

export * from './config';
export { closeSharedContentStore, sharedContentStore, startRetentionSweeper } from '../content-store';
export * from './model';
export * from './tools/registry';
export * from './tools/idempotency';
export * from './tools/sandbox-path';
export * from './tools/sandbox-files';
export * from './tools/specs';
export * from './mcp';

/** MCP managers created by `createActivities` in this process, closed by `closeMcpConnections`. */
const openMcpManagers = new Set<McpManager>();

/** Closes every MCP connection of this process (stdio servers stop): call it when the worker has shut down. */
export async function closeMcpConnections(): Promise<void> {
  const managers = [...openMcpManagers];
  openMcpManagers.clear();
  await Promise.allSettled(managers.map((manager) => manager.close()));
}

type ToolCallArguments = ExecuteToolRequest['arguments'];

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
  // The configuration file is read when first needed, so a worker that runs only inline runs needs none.
  let agents: AgentConfigSource | undefined = config.agents;
  const agentConfig = (): AgentConfigSource =>
    (agents ??= configSourceFromEnv({ knownTools: new Set(registry.list().map((tool) => tool.name)) }));
  const callModelFn = createModelDispatcher(config, registry, agentConfig);
  const store = (): ContentStore => config.contentStore ?? sharedContentStore();
  // One MCP connection per server for the whole process (this worker's activities), opened on first use.
  let ownMcp: McpManager | undefined;
  const mcp = (): McpManager => {
    if (config.mcp) return config.mcp;
    if (!ownMcp) {
      ownMcp = new McpManager(() => agentConfig().current().config.mcpServers ?? {});
      openMcpManagers.add(ownMcp);
    }
    return ownMcp;
  };
  /** The MCP server and tool behind `name`, when it is `<tool>_mcp_<server>` of a configured server. */
  const mcpTool = (name: string) => {
    const ref = parseMcpToolName(name);
    return ref !== undefined && mcp().config(ref.server) !== undefined ? ref : undefined;
  };

  return {
    async callModel(request: CallModelRequest): Promise<CallModelResult> {
      const activity = currentActivityContext();
      const signal = activity?.cancellationSignal;
      const { transcript } = request;
      // A final answer ends the run (a retried call returns the same stored answer), so with `closeIfFinal`
      // its content is closed here rather than by an activity of its own: in the commit that stores the answer.
      const closeIfFinal =
        transcript !== undefined && request.closeIfFinal === true
          ? { runIds: [transcript.key, transcript.stagingKey], closedAt: new Date() }
          : undefined;
      const call = (): Promise<{ turn: ModelTurn | StoredModelTurn; closed: boolean }> =>
        transcript === undefined
          ? callModelFn(request, { signal }).then((turn) => ({ turn, closed: false }))
          : callModelFromStore(store(), transcript, (messages) => callModelFn({ ...request, messages }, { signal }), {
              ...(closeIfFinal !== undefined ? { closeIfFinal } : {}),
              ...forkKeyOf(activity),
            });
      const { turn, closed } = await (activity === undefined ? call() : whileHeartbeating(activity, call));
      if (closed) return { ...turn, closed: true };
      if (closeIfFinal === undefined || (turn.tool_calls?.length ?? 0) > 0) return turn;
      // An answer stored by an earlier attempt: close now. Closing never fails the call: the run then closes
      // it itself.
      try {
        const forked = 'transcriptKey' in turn ? turn.transcriptKey : undefined;
        await store().markClosed([...closeIfFinal.runIds, ...(forked ? [forked] : [])], closeIfFinal.closedAt);
        return { ...turn, closed: true };
      } catch (error) {
        activity?.log.warn('could not close the transcript with the final answer', { error: String(error) });
        return turn;
      }
    },

    async appendTranscript(request: AppendTranscriptRequest): Promise<{ length: number; transcriptKey?: string }> {
      return appendEntries(store(), request.transcript, forkKeyOf(currentActivityContext()));
    },

    async closeTranscript(request: CloseTranscriptRequest): Promise<void> {
      await store().markClosed(request.keys, new Date());
    },

    async resolveAgentConfig(request: ResolveAgentRequest): Promise<RunConfig> {
      return resolveAgentActivity(agentConfig(), registry, config.enableScripted, request, mcp());
    },

    async checkToolArguments(request: CheckToolArgumentsRequest): Promise<CheckToolArgumentsResult> {
      const invalid: Record<string, string> = {};
      for (const call of request.calls) {
        const args =
          request.transcriptKey !== undefined && call.argumentsRef !== undefined
            ? await readArguments(store(), request.transcriptKey, call.argumentsRef)
            : call.arguments;
        const problem = invalidMcpArguments(call.name, call.inputSchema, args);
        if (problem !== undefined) invalid[call.toolCallId] = problem;
      }
      return { invalid };
    },

    async executeTool(request: ExecuteToolRequest): Promise<ToolResult | StoredToolResult> {
      // A request without a user (scheduled by an older workflow) must not fall back to the shared root.
      const userId: unknown = request.userId;
      if (typeof userId !== 'string' || userId === '') {
        return { status: 'error', content: 'Tool call refused: it names no user, and tools run only in a user folder' };
      }
      const activity = currentActivityContext();
      const ctx: ToolContext = {
        idempotencyKey: request.idempotencyKey,
        runId: request.runId,
        toolCallId: request.toolCallId,
        userId,
        conversationId: typeof request.conversationId === 'string' ? request.conversationId : '',
        sandboxDir: userSandboxDir(config.sandboxDir, userId),
        ...(activity !== undefined
          ? { heartbeat: () => activity.heartbeat(), signal: activity.cancellationSignal }
          : {}),
      };
      const key = request.transcriptKey;
      const run = async (): Promise<ToolResult | StoredToolResult> => {
        const args =
          key !== undefined && request.argumentsRef !== undefined
            ? await readArguments(store(), key, request.argumentsRef)
            : request.arguments;
        const ref = registry.has(request.name) ? undefined : mcpTool(request.name);
        const result =
          ref !== undefined
            ? await executeMcpTool(mcp(), request.name, ref, args as ToolCallArguments, ctx, {
                fullResult: key !== undefined,
                // Images, audio and blobs go to the content store under references of their own.
                ...(key !== undefined ? { keepBinary: (block) => storeBinaryContent(store(), key, block) } : {}),
                // Runs recorded before elicitation cannot pause for it: the server's request is cancelled.
                ...(request.elicitation === true && activity !== undefined
                  ? { onElicitation: runElicitationHandler(activity, request) }
                  : {}),
              })
            : await registry.execute(request.name, args as ToolCallArguments, ctx, { fullResult: key !== undefined });
        return key === undefined
          ? result
          : storeToolResult(store(), key, { toolCallId: request.toolCallId, name: request.name }, result);
      };
      return activity === undefined ? run() : whileHeartbeating(activity, run);
    },
  };
}

/** How long `callModel` waits for the user's grants before it leaves the read to the run. */
const GRANTS_READ_TIMEOUT_MS = 10_000;

/** `promise`, or a rejection once `ms` have passed. */
async function withinMs<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
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

/**
 * Where a run forks its transcript when the store holds another branch past its cursor: a key of the calling
 * run's own (`<workflowId>/<runId>`; see `appendEntries`). None outside a workflow's activity.
 */
function forkKeyOf(activity: Context | undefined): { forkKey?: string } {
  const execution = activity?.info.workflowExecution;
  return execution === undefined ? {} : { forkKey: `${execution.workflowId}/${execution.runId}` };
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
  const activities = createActivities(config, registry);
  const grants = createGrantActivities(client, taskQueue);
  return {
    ...activities,
    ...grants,
    async callModel(request: CallModelRequest): Promise<CallModelResult> {
      const turn = await activities.callModel(request);
      const called = new Set((turn.tool_calls ?? []).map((call) => call.name));
      if (request.grantsFor === undefined || called.size === 0) return turn;
      // Read after the model answered, as the run's own read would be: a revocation before the decision counts.
      // A failed read is left to the run, which reads again (and asks when it cannot).
      const { grantsFor } = request;
      const activity = currentActivityContext();
      try {
        const read = () => withinMs(GRANTS_READ_TIMEOUT_MS, grants.loadGrants(grantsFor));
        const granted = await (activity === undefined ? read() : whileHeartbeating(activity, read));
        return { ...turn, grants: granted.filter((name) => called.has(name)) };
      } catch (error) {
        activity?.log.warn('could not read grants with the model turn', { error: String(error) });
        return turn;
      }
    },
  };
}
