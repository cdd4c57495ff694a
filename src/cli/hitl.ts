#!/usr/bin/env node
// The `hitl` command: start demo runs, list and inspect runs, resolve paused ones, manage grants.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, configSourceFromEnv, findAgent, summarizeAgent, type AgentConfigSource } from '../agent-config';
import { createDefaultToolRegistry, toolSpecsOf } from '../activities';
import { connectHitlClient, RunNotFoundError, type HitlClient, type ResolveOutcome } from '../client';
import {
  FINAL_RUN_STATUSES,
  GrantScopeSchema,
  RunStatusSchema,
  type ChatMessage,
  type DecisionInput,
  type PendingAction,
  type Resolution,
  type RunStatus,
  type Tighten,
} from '../contracts';
import { DEMO_NAMES, DEMOS, type DemoName } from './demos';
import { formatGrants, formatMessages, formatPending, formatRuns, formatRunState } from './format';
import { MAX_MESSAGES_PAGE } from '../transcript';

/** A failure with a type name (a refusal type, or our own), printed as one line: `hitl: Type: message`. */
export class CliError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface CliDeps {
  connect: () => Promise<HitlClient>;
  io: CliIo;
  /** Runs the product (`hitl dev`); default: `npm start` in this checkout. */
  runDev?: () => number;
  /** The configuration file's agents; default: from the environment (`HITL_CONFIG`, ./hitl.config.yaml). */
  agents?: () => AgentConfigSource;
}

function defaultAgents(): AgentConfigSource {
  const registry = createDefaultToolRegistry();
  return configSourceFromEnv({ knownTools: new Set(registry.list().map((tool) => tool.name)) });
}

/** Seconds as a positive number of milliseconds, or a usage error naming the option. */
function positiveSeconds(text: string, option: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new CliError('InvalidArguments', `${option} must be a positive number of seconds`);
  }
  return Math.ceil(seconds * 1000);
}

const SCOPES = GrantScopeSchema.options;

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  const source = text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text;
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    throw new CliError('InvalidArguments', `${what} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError('InvalidArguments', `${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

async function requirePending(client: HitlClient, runId: string): Promise<PendingAction> {
  const pending = await client.getPendingAction(runId);
  if (!pending) throw new CliError('NoPendingAction', `run ${runId} is not waiting for a decision`);
  return pending;
}

/** The paused calls a command decides: those named with --call, else every call of the action. */
function targetCalls(pending: PendingAction, calls: string[] | undefined): string[] {
  if (pending.payload.type !== 'tool_approval') {
    throw new CliError('DecisionNotPermitted', 'this action is a question: use "hitl answer"');
  }
  return calls ?? pending.payload.review_configs.map((c) => c.tool_call_id);
}

function defaultRunDev(): number {
  const root = join(__dirname, '..', '..');
  return spawnSync('npm', ['start'], { cwd: root, stdio: 'inherit' }).status ?? 1;
}

export function buildProgram(deps: CliDeps): Command {
  const { io } = deps;
  const program = new Command('hitl')
    .description('Durable human-in-the-loop tool approval on Temporal')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  const print = (value: unknown, json: boolean | undefined, text: () => string) =>
    io.out(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
  const approverOption = () =>
    new Option('--as <approver>', 'your approver identity (HITL_APPROVER)').default(
      process.env.HITL_APPROVER ?? process.env.USER ?? 'u1',
    );
  const keyOption = () => new Option('--key <idempotencyKey>', 'idempotency key: a retry returns the first answer');

  async function resolveWith(runId: string, resolution: Resolution, key: string | undefined): Promise<void> {
    const client = await deps.connect();
    const outcome: ResolveOutcome = await client.resolve(runId, resolution, key ? { idempotencyKey: key } : {});
    if (!outcome.ok) throw new CliError(outcome.refusal.type, outcome.refusal.message);
    io.out(`resolved ${outcome.result.actionId} as ${outcome.result.decidedBy}; the run continues\n`);
  }

  async function decide(
    runId: string,
    opts: { call?: string[]; as: string; key?: string },
    make: (toolCallId: string) => DecisionInput,
  ): Promise<void> {
    const client = await deps.connect();
    const pending = await requirePending(client, runId);
    const decisions = targetCalls(pending, opts.call).map(make);
    await resolveWith(runId, { actionId: pending.actionId, approver: opts.as, decisions }, opts.key);
  }

  program
    .command('dev')
    .description('run the product: dev server with Web UI, worker and API (same as npm start)')
    .action(() => {
      const code = (deps.runDev ?? defaultRunDev)();
      if (code !== 0) throw new CliError('DevFailed', `npm start exited with ${code}`);
    });

  const agentSource = (): AgentConfigSource => (deps.agents ?? defaultAgents)();

  program
    .command('agents')
    .description('list the agents of the configuration file (HITL_CONFIG, default ./hitl.config.yaml)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const source = agentSource();
      const loaded = source.current();
      const registry = createDefaultToolRegistry();
      const agents = loaded.config.agents.map((agent) =>
        summarizeAgent(loaded, agent, (names) => toolSpecsOf(registry, names)),
      );
      print(agents, opts.json, () =>
        agents.length === 0
          ? `no agents (${source.description})`
          : agents
              .map(
                (a) => `${a.id}  config ${a.configVersion}  ${a.name ?? ''}\n    tools: ${a.tools.join(', ') || '—'}`,
              )
              .join('\n'),
      );
    });

  program
    .command('start')
    .description('start a run of an agent (default: the delete-file demo) and show what it waits for')
    .option('--agent <agentId>', 'agent of the configuration file (see `hitl agents`)')
    .addOption(new Option('--demo <name>', 'a demo: its agent and first message').choices(DEMO_NAMES))
    .option('--message <text>', 'the user message that starts the conversation')
    .option('--user <userId>', 'owner of the run', 'u1')
    .option('--conversation <id>', 'conversation id (default: a new one)')
    .option('--deny <pattern...>', 'tighten: deny these tools for this run')
    .option('--ask <pattern...>', 'tighten: ask before these tools (only ones the agent would allow)')
    .option('--ttl <seconds>', "tighten: a shorter approval TTL than the agent's")
    .option('--abort-on-expiry', 'tighten: abort the run when an approval expires')
    .option('--timeout <seconds>', 'how long to wait for the first pause', '10')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        agent?: string;
        demo?: DemoName;
        message?: string;
        user: string;
        conversation?: string;
        deny?: string[];
        ask?: string[];
        ttl?: string;
        abortOnExpiry?: boolean;
        timeout: string;
        json?: boolean;
      }) => {
        if (opts.agent !== undefined && opts.demo !== undefined) {
          throw new CliError('InvalidArguments', 'give --agent or --demo, not both');
        }
        const demo = opts.agent === undefined ? DEMOS[opts.demo ?? 'delete-file'] : undefined;
        const agentId = opts.agent ?? demo!.agentId;
        const message = opts.message ?? demo?.message;
        if (message === undefined) throw new CliError('InvalidArguments', '--message is required with --agent');
        const source = agentSource();
        // The worker decides (its configuration is the one that counts), but a name unknown here is a typo.
        if (source.current().file !== undefined && !findAgent(source.current(), agentId)) {
          const known = source.current().config.agents.map((a) => a.id);
          throw new CliError(
            'AgentNotFound',
            `no agent "${agentId}" in ${source.description} (agents: ${known.join(', ') || 'none'})`,
          );
        }
        const tighten: Tighten = {
          ...(opts.deny ? { deny: opts.deny } : {}),
          ...(opts.ask ? { ask: opts.ask } : {}),
          ...(opts.ttl !== undefined ? { approvalTtlMs: positiveSeconds(opts.ttl, '--ttl') } : {}),
          ...(opts.abortOnExpiry ? { onExpiry: 'abort' as const } : {}),
        };
        const client = await deps.connect();
        const answer = await client.startRunAndWait(
          {
            userId: opts.user,
            conversationId: opts.conversation ?? `conversation-${randomUUID()}`,
            agentId,
            messages: [{ role: 'user', content: message }],
            ...(Object.keys(tighten).length > 0 ? { tighten } : {}),
          },
          { timeoutMs: positiveSeconds(opts.timeout, '--timeout') },
        );
        const { runId, pendingAction: pending, status } = answer;
        const failure =
          status === 'failed' ? (await client.getRunState(runId).catch(() => undefined))?.error : undefined;
        print({ runId, status, pendingAction: pending, ...(failure ? { error: failure } : {}) }, opts.json, () =>
          pending
            ? `started ${runId} (agent ${agentId}); it waits for a decision:\n${formatPending(pending)}\n\napprove with: hitl approve ${runId} --as ${opts.user}`
            : `started ${runId} (agent ${agentId}); it did not pause: ${status}${failure ? ` — ${failure}` : ''}`,
        );
      },
    );

  program
    .command('runs')
    .description('list generation runs (Temporal visibility)')
    .option('--paused', 'only runs waiting for a decision')
    .option('--user <userId>', 'only runs of this user')
    .option('--tool <name>', 'only runs waiting for this tool')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RunStatusSchema.options))
    .option('--json', 'print JSON')
    .action(async (opts: { paused?: boolean; user?: string; tool?: string; status?: RunStatus; json?: boolean }) => {
      const client = await deps.connect();
      const status = opts.paused ? 'requires_action' : opts.status;
      const runs = await client.listRuns({
        ...(opts.user ? { userId: opts.user } : {}),
        ...(status ? { status } : {}),
        ...(opts.tool ? { tool: opts.tool } : {}),
      });
      print(runs, opts.json, () => formatRuns(runs));
    });

  program
    .command('show <runId>')
    .description('show a run: status, pending action with its arguments, audit log')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { json?: boolean }) => {
      const client = await deps.connect();
      const shown = await client.getRunState(runId);
      // An approver sees the arguments whole, also those too large to keep in the run (read from the store).
      const state = shown.pendingAction
        ? { ...shown, pendingAction: await client.pendingActionInFull(runId, shown.pendingAction) }
        : shown;
      print(state, opts.json, () => formatRunState(runId, state));
    });

  program
    .command('messages <runId>')
    .description('print the whole transcript of a run, read from the content store (show has the latest only)')
    .option('--from <seq>', 'first position (0 is the first message)', '0')
    .option('--limit <n>', 'at most this many messages (default: all)')
    .option('--json', 'print JSON (one page: messages, fromSeq, nextSeq, total)')
    .action(async (runId: string, opts: { from: string; limit?: string; json?: boolean }) => {
      const fromSeq = Number(opts.from);
      const limit = opts.limit === undefined ? Infinity : Number(opts.limit);
      if (!Number.isInteger(fromSeq) || fromSeq < 0) {
        throw new CliError('InvalidArguments', '--from must be a position: 0, 1, 2, …');
      }
      if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1)) {
        throw new CliError('InvalidArguments', '--limit must be a positive whole number');
      }
      const client = await deps.connect();
      const messages: ChatMessage[] = [];
      let page = await client.readMessages(runId, { fromSeq, limit: Math.min(limit, MAX_MESSAGES_PAGE) });
      messages.push(...page.messages);
      while (page.nextSeq < page.total && messages.length < limit && page.messages.length > 0) {
        page = await client.readMessages(runId, {
          fromSeq: page.nextSeq,
          limit: Math.min(limit - messages.length, MAX_MESSAGES_PAGE),
        });
        messages.push(...page.messages);
      }
      const all = { messages, fromSeq, nextSeq: fromSeq + messages.length, total: page.total };
      print(all, opts.json, () => formatMessages(fromSeq, messages, page.total));
    });

  program
    .command('wait <runId>')
    .description('wait until the run pauses (or ends) and show what it waits for; no polling')
    .option('--after <actionId>', 'an action you already know: wait for the next one')
    .option('--timeout <seconds>', 'give up after this many seconds', '60')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { after?: string; timeout: string; json?: boolean }) => {
      const seconds = Number(opts.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        throw new CliError('InvalidArguments', '--timeout must be a positive number of seconds');
      }
      const client = await deps.connect();
      const answer = await client.waitForPendingAction(runId, {
        ...(opts.after ? { afterActionId: opts.after } : {}),
        timeoutMs: Math.ceil(seconds * 1000),
      });
      if (!answer.pendingAction && !FINAL_RUN_STATUSES.has(answer.status)) {
        throw new CliError('Timeout', `run ${runId} did not pause within ${seconds} s (status ${answer.status})`);
      }
      const pending = answer.pendingAction && (await client.pendingActionInFull(runId, answer.pendingAction));
      print({ ...answer, pendingAction: pending }, opts.json, () =>
        pending ? formatPending(pending) : `run ${runId} ended: ${answer.status}`,
      );
    });

  program
    .command('approve <runId>')
    .description('approve the paused tool calls (all, or those named with --call)')
    .option('--call <id...>', 'tool_call_id(s) to approve')
    .addOption(new Option('--scope <scope>', 'remember the approval').choices(['once', ...SCOPES]).default('once'))
    .addOption(approverOption())
    .addOption(keyOption())
    .action(
      async (
        runId: string,
        opts: { call?: string[]; scope: 'once' | 'session' | 'always'; as: string; key?: string },
      ) => decide(runId, opts, (id) => ({ tool_call_id: id, decision: 'approve', scope: opts.scope })),
    );

  program
    .command('reject <runId>')
    .description('reject the paused tool calls (all, or those named with --call)')
    .option('--call <id...>', 'tool_call_id(s) to reject')
    .option('--reason <text>', 'why (goes back to the model)')
    .addOption(approverOption())
    .addOption(keyOption())
    .action(async (runId: string, opts: { call?: string[]; reason?: string; as: string; key?: string }) =>
      decide(runId, opts, (id) => ({
        tool_call_id: id,
        decision: 'reject',
        ...(opts.reason ? { reason: opts.reason } : {}),
      })),
    );

  program
    .command('edit <runId>')
    .description('run one paused call with edited arguments')
    .requiredOption('--call <id>', 'tool_call_id to edit')
    .requiredOption('--args <json|@file>', 'the new arguments: a JSON object, or @path to a file holding one')
    .addOption(approverOption())
    .addOption(keyOption())
    .action(async (runId: string, opts: { call: string; args: string; as: string; key?: string }) => {
      const editedArguments = parseJsonObject(opts.args, '--args');
      await decide(runId, { ...opts, call: [opts.call] }, (id) => ({
        tool_call_id: id,
        decision: 'edit',
        editedArguments,
      }));
    });

  program
    .command('respond <runId>')
    .description('answer one paused call with text instead of running the tool')
    .requiredOption('--call <id>', 'tool_call_id to respond to')
    .requiredOption('--text <text>', 'the tool result the model gets')
    .addOption(approverOption())
    .addOption(keyOption())
    .action(async (runId: string, opts: { call: string; text: string; as: string; key?: string }) =>
      decide(runId, { ...opts, call: [opts.call] }, (id) => ({
        tool_call_id: id,
        decision: 'respond',
        responseText: opts.text,
      })),
    );

  program
    .command('answer <runId> [answer...]')
    .description('answer a question: `hitl answer <runId> "text"` or, for a batch, `--answers \'{"q1":"…"}\'`')
    .option('--answers <json|@file>', 'answers of a batch, by question id')
    .addOption(approverOption())
    .addOption(keyOption())
    .action(async (runId: string, words: string[], opts: { answers?: string; as: string; key?: string }) => {
      const client = await deps.connect();
      const pending = await requirePending(client, runId);
      if (pending.payload.type !== 'ask_user_question') {
        throw new CliError(
          'DecisionNotPermitted',
          'this action is a tool approval: use approve / reject / edit / respond',
        );
      }
      const base = { actionId: pending.actionId, approver: opts.as };
      const resolution: Resolution = opts.answers
        ? { ...base, answers: parseJsonObject(opts.answers, '--answers') }
        : { ...base, answer: words.join(' ') };
      await resolveWith(runId, resolution, opts.key);
    });

  program
    .command('abort <runId>')
    .description('cancel a run: it ends aborted, nothing runs after')
    .action(async (runId: string) => {
      const client = await deps.connect();
      await client.abort(runId);
      io.out(`cancelled ${runId}\n`);
    });

  program
    .command('grants <userId>')
    .description("list a user's remembered approvals, or revoke one")
    .option('--revoke <tool>', 'tool name to forget')
    .addOption(new Option('--scope <scope>', 'scope of the grant to revoke').choices(SCOPES).default('always'))
    .option('--conversation <id>', 'conversation of a session grant to revoke')
    .option('--json', 'print JSON')
    .action(
      async (
        userId: string,
        opts: { revoke?: string; scope: 'session' | 'always'; conversation?: string; json?: boolean },
      ) => {
        const client = await deps.connect();
        if (opts.revoke) {
          const result = await client.revokeGrant(userId, {
            tool: opts.revoke,
            scope: opts.scope,
            ...(opts.conversation ? { conversationId: opts.conversation } : {}),
          });
          print(result, opts.json, () => `revoked ${result.revoked} grant(s)`);
          return;
        }
        const grants = await client.listGrants(userId);
        print(grants, opts.json, () => formatGrants(grants));
      },
    );

  return program;
}

/** Runs the command line; returns the exit code (0 ok, 1 failure, 2 refused or bad usage). */
export async function main(argv: string[], deps: CliDeps): Promise<number> {
  try {
    await buildProgram(deps).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof ConfigError) {
      deps.io.err(`hitl: ${error.message}\n`);
      return 1;
    }
    if (error instanceof CliError) {
      deps.io.err(`hitl: ${error.type}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof RunNotFoundError) {
      deps.io.err(`hitl: RunNotFound: ${error.message}\n`);
      return 2;
    }
    const type = error instanceof Error && 'type' in error && typeof error.type === 'string' ? `${error.type}: ` : '';
    deps.io.err(`hitl: ${type}${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** Entry point of the `hitl` bin: real stdout/stderr, the client from the environment. */
export function runFromProcess(): void {
  const io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
  void main(process.argv.slice(2), { connect: () => connectHitlClient(), io }).then((code) => process.exit(code));
}

if (require.main === module) runFromProcess();
