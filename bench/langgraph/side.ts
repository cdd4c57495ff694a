// Their side: the same flow in LangGraph JS. A StateGraph model → approve → tools → model, where `approve`
// evaluates the same tool policy and calls interrupt() with the same payload our pending action carries,
// and the run is resumed with new Command({ resume }). The model is our scripted provider and the tool is
// our `noop`, called through the same activity functions (outside Temporal), so only the runtime differs.
// Checkpointers: PostgreSQL (the durable peer a multi-host deployment would use), SQLite (one host), and
// MemorySaver (no durability: the price of it).
import * as fs from 'node:fs';
import {
  Annotation,
  Command,
  END,
  MemorySaver,
  START,
  StateGraph,
  interrupt,
  type BaseCheckpointSaver,
  type LangGraphRunnableConfig,
} from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { Client as PgClient } from 'pg';
import { createActivities, parseActivitiesConfig } from '../../src/activities';
import {
  ALL_DECISIONS,
  type ChatMessage,
  type HumanInterruptPayload,
  type NormalizedInlineRunInput,
  InlineRunInputSchema,
  type ToolCall,
} from '../../src/contracts';
import { evaluateToolPolicy } from '../../src/policy';
import type { Flow, FinishedRun, PausedRun } from '../lib/load';
import { now } from '../lib/stats';
import { benchRunInput, BENCH_USER, TOOL_CALL_ID } from '../temporal/side';

/** What the approver sends back through Command({ resume }): our Resolution, minus the parts LangGraph has no use for. */
interface LangGraphResolution {
  approver: string;
  decisions: { tool_call_id: string; decision: 'approve' | 'reject' }[];
}

const State = Annotation.Root({
  messages: Annotation<ChatMessage[]>({ reducer: (left, right) => left.concat(right), default: () => [] }),
  /** Model calls made so far (our `turn`). */
  turn: Annotation<number>({ reducer: (_left, right) => right, default: () => 0 }),
  /** Tool call ids the approver approved in the last pause. */
  approved: Annotation<string[]>({ reducer: (_left, right) => right, default: () => [] }),
});
type GraphState = typeof State.State;

function lastToolCalls(state: GraphState): ToolCall[] {
  const last = state.messages[state.messages.length - 1];
  return last?.role === 'assistant' ? (last.tool_calls ?? []) : [];
}

function threadIdOf(config: LangGraphRunnableConfig): string {
  return String(config.configurable?.thread_id);
}

export type SaverKind = 'postgres' | 'sqlite' | 'memory';

export const LANGGRAPH_NAMES: Record<SaverKind, string> = {
  postgres: 'LangGraph+Postgres',
  sqlite: 'LangGraph+SQLite',
  memory: 'LangGraph+Memory',
};

/** What a checkpointer's database holds: bytes in use, and bytes per table (largest first). */
export interface DbUsage {
  usedBytes: number;
  byTable: Record<string, number>;
}

export interface LangGraphSide {
  saverKind: SaverKind;
  saver: BaseCheckpointSaver;
  flow: LangGraphFlow;
  /** SQLite file of the checkpointer (undefined for the others). */
  dbFile: string | undefined;
  /** Bytes the checkpointer's database holds (PostgreSQL only; SQLite is read from its file by the caller). */
  dbUsage(): Promise<DbUsage | undefined>;
  close(): Promise<void>;
}

/** The SQLite checkpointer, when @langchain/langgraph-checkpoint-sqlite (native better-sqlite3) is installed. */
export function loadSqliteSaver():
  { ok: true; fromConnString: (file: string) => BaseCheckpointSaver } | { ok: false; reason: string } {
  try {
    // Optional dependency: required lazily so the benchmark (and tsc) work without it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('@langchain/langgraph-checkpoint-sqlite') as {
      SqliteSaver: { fromConnString(file: string): BaseCheckpointSaver };
    };
    return { ok: true, fromConnString: (file) => mod.SqliteSaver.fromConnString(file) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
  }
}

/**
 * Bytes of one PostgreSQL database: pg_database_size, and pg_total_relation_size (heap, TOAST and indexes)
 * of each table of the public schema.
 */
export async function postgresUsage(connectionString: string): Promise<DbUsage> {
  const client = new PgClient({ connectionString });
  await client.connect();
  try {
    const total = await client.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
    const tables = await client.query<{ name: string; bytes: string }>(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC`,
    );
    return {
      usedBytes: Number(total.rows[0]?.bytes ?? Number.NaN),
      byTable: Object.fromEntries(tables.rows.map((row) => [row.name, Number(row.bytes)])),
    };
  } finally {
    await client.end();
  }
}

/**
 * One LangGraph side. `where` is the SQLite file (sqlite) or the connection string of an empty database
 * (postgres: the checkpointer's setup() creates its tables there); unused for memory.
 */
export async function createLangGraphSide(
  kind: SaverKind,
  where: string | undefined,
  sandboxDir: string,
): Promise<LangGraphSide> {
  let saver: BaseCheckpointSaver;
  let close: () => Promise<void> = async () => {};
  let dbUsage: () => Promise<DbUsage | undefined> = async () => undefined;
  if (kind === 'sqlite') {
    const sqlite = loadSqliteSaver();
    if (!sqlite.ok) throw new Error(`SQLite checkpointer unavailable: ${sqlite.reason}`);
    if (!where) throw new Error('the SQLite checkpointer needs a file');
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(where + suffix, { force: true });
    saver = sqlite.fromConnString(where);
    close = async () => (saver as { db?: { close?: () => void } }).db?.close?.();
  } else if (kind === 'postgres') {
    if (!where) throw new Error('the PostgreSQL checkpointer needs a connection string');
    // The library's own constructor: a pg.Pool with its defaults (at most 10 connections).
    const postgres = PostgresSaver.fromConnString(where);
    await postgres.setup();
    saver = postgres;
    close = () => postgres.end();
    dbUsage = () => postgresUsage(where);
  } else {
    saver = new MemorySaver();
  }
  const flow = new LangGraphFlow(saver, sandboxDir, LANGGRAPH_NAMES[kind]);
  return { saverKind: kind, saver, flow, dbFile: kind === 'sqlite' ? where : undefined, dbUsage, close };
}

export class LangGraphFlow implements Flow {
  private readonly input: NormalizedInlineRunInput = InlineRunInputSchema.parse(benchRunInput());
  private readonly toolStarts = new Map<string, number>();
  private readonly prefix = `lg-${Date.now().toString(36)}`;
  readonly graph;

  constructor(
    saver: BaseCheckpointSaver,
    sandboxDir: string,
    readonly name: string,
  ) {
    const activities = createActivities(parseActivitiesConfig({ sandboxDir, enableScripted: true }));
    const input = this.input;
    const toolStarts = this.toolStarts;

    const model = async (state: GraphState, config: LangGraphRunnableConfig): Promise<Partial<GraphState>> => {
      const turn = await activities.callModel({
        runId: threadIdOf(config),
        callIndex: state.turn,
        model: input.model,
        messages: state.messages,
        tools: input.tools,
      });
      const calls = turn.tool_calls ?? [];
      const message: ChatMessage = {
        role: 'assistant',
        ...(turn.content !== undefined ? { content: turn.content } : {}),
        ...(calls.length > 0 ? { tool_calls: calls } : {}),
      };
      return { messages: [message], turn: state.turn + 1 };
    };

    // The policy decides; calls that ask pause the run with the same payload as our pending action.
    const approve = (state: GraphState): Partial<GraphState> => {
      const calls = lastToolCalls(state);
      const asked = calls.filter((call) => evaluateToolPolicy(call.name, input.policy).decision === 'ask');
      const allowed = calls.filter((call) => evaluateToolPolicy(call.name, input.policy).decision === 'allow');
      if (asked.length === 0) return { approved: allowed.map((c) => c.id) };
      const payload: HumanInterruptPayload = {
        type: 'tool_approval',
        action_requests: asked.map((call) => ({ tool_call_id: call.id, name: call.name, arguments: call.arguments })),
        review_configs: asked.map((call) => ({
          tool_call_id: call.id,
          action_name: call.name,
          allowed_decisions: [...ALL_DECISIONS],
        })),
      };
      const resolution = interrupt<HumanInterruptPayload, LangGraphResolution>(payload);
      const approvedIds = resolution.decisions.filter((d) => d.decision === 'approve').map((d) => d.tool_call_id);
      return { approved: [...allowed.map((c) => c.id), ...approvedIds] };
    };

    const tools = async (state: GraphState, config: LangGraphRunnableConfig): Promise<Partial<GraphState>> => {
      const threadId = threadIdOf(config);
      const messages: ChatMessage[] = [];
      for (const call of lastToolCalls(state)) {
        if (!state.approved.includes(call.id)) {
          messages.push({
            role: 'tool',
            tool_call_id: call.id,
            name: call.name,
            status: 'error',
            content: 'Blocked: Rejected by user',
          });
          continue;
        }
        if (call.name === 'noop') toolStarts.set(threadId, now());
        const result = await activities.executeTool({
          runId: threadId,
          userId: input.userId,
          conversationId: input.conversationId,
          toolCallId: call.id,
          name: call.name,
          arguments: call.arguments,
          idempotencyKey: `${threadId}/${state.turn}/${call.id}`,
        });
        messages.push({ role: 'tool', tool_call_id: call.id, name: call.name, ...result });
      }
      return { messages };
    };

    this.graph = new StateGraph(State)
      .addNode('model', model)
      .addNode('approve', approve)
      .addNode('tools', tools)
      .addEdge(START, 'model')
      .addConditionalEdges('model', (state: GraphState) => (lastToolCalls(state).length > 0 ? 'approve' : END), [
        'approve',
        END,
      ])
      .addEdge('approve', 'tools')
      .addEdge('tools', 'model')
      .compile({ checkpointer: saver });
  }

  threadId(index: number): string {
    return `${this.prefix}-${index}`;
  }

  /** invoke() runs until interrupt(); then the pending interrupt is read back from the checkpointer (getState). */
  async begin(index: number): Promise<PausedRun> {
    const threadId = this.threadId(index);
    const config = { configurable: { thread_id: threadId } };
    const tStart = now();
    await this.graph.invoke({ messages: this.input.messages }, config);
    const snapshot = await this.graph.getState(config);
    const pending = snapshot.tasks.flatMap((task) => task.interrupts)[0];
    if (!pending) throw new Error(`${threadId} did not pause`);
    return { key: threadId, handle: pending.id, tStart, tPaused: now() };
  }

  async finish(run: PausedRun): Promise<FinishedRun> {
    const config = { configurable: { thread_id: run.key } };
    const resolution: LangGraphResolution = {
      approver: BENCH_USER,
      decisions: [{ tool_call_id: TOOL_CALL_ID, decision: 'approve' }],
    };
    const tResolve = now();
    const result = await this.graph.invoke(new Command({ resume: resolution }), config);
    const tDone = now();
    const last = result.messages[result.messages.length - 1];
    if (last?.role !== 'assistant' || last.tool_calls?.length || !last.content) {
      throw new Error(`${run.key} did not end with a final answer`);
    }
    const tTool = this.toolStarts.get(run.key);
    this.toolStarts.delete(run.key);
    if (tTool === undefined) throw new Error(`${run.key}: the tool did not run`);
    return { tResolve, tAck: undefined, tTool, tDone };
  }
}
