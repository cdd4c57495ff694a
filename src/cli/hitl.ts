#!/usr/bin/env node
// The `hitl` command: start demo runs, list and inspect runs, resolve paused ones, manage grants.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import { ConfigError, configSourceFromEnv, findAgent, summarizeAgent, type AgentConfigSource } from '../agent-config';
import { createDefaultToolRegistry, toolSpecsOf } from '../activities';
import {
  connectHitlClient,
  FilterValueSchema,
  RunNotFoundError,
  type HitlClient,
  type ResolveOutcome,
} from '../client';
import {
  describeIssues,
  FINAL_RUN_STATUSES,
  GrantScopeSchema,
  RunStatusSchema,
  type ChatMessage,
  type DecisionInput,
  type ElicitationAnswer,
  ElicitationValueSchema,
  type ElicitationValue,
  type PendingAction,
  type Resolution,
  type RunStatus,
  type Tighten,
} from '../contracts';
import { clientEnvironment, readDevEnv } from '../dev/dev-env';
import { issueDevToken } from '../server/auth';
import { DEV_SECRET_FILE, readDevSecret } from '../server/dev-secret';
import { DEMO_NAMES, DEMOS, type DemoName } from './demos';
import {
  decisionHints,
  formatGrants,
  formatMessages,
  formatPending,
  formatRuns,
  formatRunState,
  printable,
} from './format';
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
  /**
   * Asks the user a yes/no question (only when a terminal is attached). Without it, resolving commands
   * send at once; with it, a command that names no `--action` shows the action and asks first.
   */
  confirm?: (question: string) => Promise<boolean>;
  /** How the user runs this command, for the hints it prints (`npx hitl`, `npm run -s hitl --`, `hitl`). */
  invocation?: string;
  /** The dev mode's secret (`hitl token`); default `.temporal/dev-jwt-secret`. */
  devSecretFile?: string;
  /** Environment of `hitl token` (HITL_JWT_*); default `process.env`. */
  env?: NodeJS.ProcessEnv;
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

/**
 * The pending action a command decides. With `--action`, that action must be the one pending (else
 * `StaleAction`: something else is pending now, and deciding it blindly is what `--action` prevents).
 */
async function requirePending(client: HitlClient, runId: string, actionId?: string): Promise<PendingAction> {
  const pending = await client.getPendingAction(runId);
  if (!pending) {
    throw new CliError(
      'NoPendingAction',
      `run ${runId} is not waiting for a decision${actionId ? ` (action ${actionId} is no longer pending)` : ''}`,
    );
  }
  if (actionId !== undefined && pending.actionId !== actionId) {
    throw new CliError(
      'StaleAction',
      `action ${actionId} is not the pending action of run ${runId}; it now waits for ${pending.actionId} (see: hitl show ${runId})`,
    );
  }
  return pending;
}

/** Options of the commands that resolve an action. */
interface ConfirmOptions {
  action?: string;
  yes?: boolean;
}

/** Claims `hitl token` may not set: the token's own fields. */
const RESERVED_CLAIMS = new Set(['sub', 'iat', 'exp', 'nbf', 'iss', 'aud', 'jti']);

/** `--claim name=value` options → claims; a name given twice becomes a list. */
function parseClaims(pairs: readonly string[]): Record<string, string | string[]> {
  const claims: Record<string, string | string[]> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = at > 0 ? pair.slice(0, at) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/.test(name) || at === pair.length - 1) {
      throw new CliError('InvalidArguments', `--claim must be name=value, got "${pair}"`);
    }
    if (RESERVED_CLAIMS.has(name)) throw new CliError('InvalidArguments', `--claim cannot set "${name}"`);
    const value = pair.slice(at + 1);
    const existing = claims[name];
    claims[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return claims;
}

/** A token lifetime: seconds, or a number with s / m / h / d. */
function tokenTtl(text: string): { ttl: string; seconds: number } {
  const match = /^(\d{1,7})\s*(s|m|h|d)?$/.exec(text.trim());
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
  const seconds = match ? Number(match[1]) * unit[(match[2] ?? 's') as keyof typeof unit] : 0;
  if (!match || seconds <= 0 || seconds > 30 * 86_400) {
    throw new CliError('InvalidArguments', '--ttl must be like 3600, 30m, 12h or 7d (at most 30 days)');
  }
  return { ttl: `${seconds}s`, seconds };
}

/** A `listRuns` filter value from an option, or a one-line usage error naming the option. */
function filterValue(text: string, option: string): string {
  const parsed = FilterValueSchema.safeParse(text);
  if (!parsed.success) {
    throw new CliError('InvalidArguments', `${option} ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
  }
  return parsed.data;
}

/** Which command answers each kind of action. */
const ANSWERED_WITH: Record<PendingAction['payload']['type'], string> = {
  tool_approval: 'a tool approval: use "hitl approve" (or reject / edit / respond)',
  ask_user_question: 'a question: use "hitl answer"',
  mcp_elicitation: 'an MCP elicitation (a server asks for input): use "hitl elicit"',
};

/** A command used on an action of another kind: one line naming the command to use instead. */
function wrongKind(pending: PendingAction): CliError {
  return new CliError('DecisionNotPermitted', `this action is ${ANSWERED_WITH[pending.payload.type]}`);
}

/** The paused calls a command decides: those named with --call, else every call of the action. */
function targetCalls(pending: PendingAction, calls: string[] | undefined): string[] {
  if (pending.payload.type !== 'tool_approval') throw wrongKind(pending);
  return calls ?? pending.payload.review_configs.map((c) => c.tool_call_id);
}

/**
 * The values of `hitl elicit --accept`: a JSON object (or @file) whose values are text, numbers, true/false
 * or lists of texts. Whether they fit the form is for the run to say (InvalidElicitationContent).
 */
export function parseElicitationContent(text: string): Record<string, ElicitationValue> {
  const object = parseJsonObject(text, '--accept');
  // fromEntries: a "__proto__" key stays an own field (refused by the run as not a field of the form).
  return Object.fromEntries(
    Object.entries(object).map(([name, value]) => {
      const parsed = ElicitationValueSchema.safeParse(value);
      if (!parsed.success) {
        throw new CliError(
          'InvalidArguments',
          `--accept: "${printable(name.slice(0, 80))}" must be text, a number, true or false, or a list of texts`,
        );
      }
      return [name, parsed.data];
    }),
  );
}

/** The answer `hitl elicit` sends, from exactly one of --accept / --done / --decline / --cancel. */
export function elicitationChoice(opts: { accept?: string; done?: boolean; decline?: boolean; cancel?: boolean }): {
  action: ElicitationAnswer['action'];
  content?: Record<string, ElicitationValue>;
  done?: true;
} {
  const given = [
    opts.accept !== undefined ? '--accept' : undefined,
    opts.done ? '--done' : undefined,
    opts.decline ? '--decline' : undefined,
    opts.cancel ? '--cancel' : undefined,
  ].filter((flag): flag is string => flag !== undefined);
  if (given.length === 0) {
    throw new CliError('InvalidArguments', "give one of --accept '<json>', --done, --decline or --cancel");
  }
  if (given.length > 1) throw new CliError('InvalidArguments', `give only one of ${given.join(', ')}`);
  if (opts.accept !== undefined) return { action: 'accept', content: parseElicitationContent(opts.accept) };
  if (opts.done) return { action: 'accept', done: true };
  return { action: opts.decline ? 'decline' : 'cancel' };
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
  const actionOption = () =>
    new Option('--action <actionId>', 'decide only this action: refused (StaleAction) if another one is pending');
  const yesOption = () => new Option('-y, --yes', 'do not ask before sending (when a terminal is attached)');
  const invocation = deps.invocation ?? 'npx hitl';

  /** Without --action, on a terminal: show the action and ask before deciding it. */
  async function confirmDecision(runId: string, pending: PendingAction, what: string, opts: ConfirmOptions) {
    if (opts.action !== undefined || opts.yes || !deps.confirm) return;
    io.err(`run ${runId} waits for:\n${formatPending(pending)}\n`);
    if (!(await deps.confirm(`${what}? [y/N] `))) {
      throw new CliError(
        'Cancelled',
        `nothing was sent (name the action to skip this question: --action ${pending.actionId})`,
      );
    }
  }

  async function resolveWith(runId: string, resolution: Resolution, key: string | undefined): Promise<void> {
    const client = await deps.connect();
    report(await client.resolve(runId, resolution, key ? { idempotencyKey: key } : {}));
  }

  function report(outcome: ResolveOutcome): void {
    if (!outcome.ok) throw new CliError(outcome.refusal.type, outcome.refusal.message);
    io.out(`resolved ${outcome.result.actionId} as ${outcome.result.decidedBy}; the run continues\n`);
  }

  async function decide(
    runId: string,
    opts: { call?: string[]; as: string; key?: string } & ConfirmOptions,
    make: (toolCallId: string) => DecisionInput,
  ): Promise<void> {
    const client = await deps.connect();
    const pending = await requirePending(client, runId, opts.action);
    const decisions = targetCalls(pending, opts.call).map(make);
    const requests = pending.payload.type === 'tool_approval' ? pending.payload.action_requests : [];
    const named = decisions.map((d) => {
      const request = requests.find((r) => r.tool_call_id === d.tool_call_id);
      return `${d.tool_call_id}${request ? ` (${request.name})` : ''}`;
    });
    await confirmDecision(runId, pending, `${decisions[0]?.decision ?? 'decide'} ${named.join(', ')}`, opts);
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
        // Not paused: say why when the run knows (its failure, or the model it keeps retrying).
        const state =
          status === 'failed' || (!pending && status === 'running')
            ? await client.getRunState(runId).catch(() => undefined)
            : undefined;
        const failure = status === 'failed' ? state?.error : undefined;
        const modelRetry = status === 'running' ? state?.modelRetry : undefined;
        const why = failure
          ? ` — ${failure}`
          : modelRetry
            ? ` — waiting for the model: ${modelRetry.lastError} (attempt ${modelRetry.attempt} at ${modelRetry.nextAttemptAt}; ${invocation} show ${runId}, or abort it)`
            : '';
        print(
          {
            runId,
            status,
            pendingAction: pending,
            ...(failure ? { error: failure } : {}),
            ...(modelRetry ? { modelRetry } : {}),
          },
          opts.json,
          () =>
            pending
              ? `started ${runId} (agent ${agentId}); it waits for a decision:\n${formatPending(pending)}\n\n${decisionHints(invocation, runId, pending, opts.user)}`
              : `started ${runId} (agent ${agentId}); it did not pause: ${status}${why}`,
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
      const status = opts.paused ? 'requires_action' : opts.status;
      const filter = {
        ...(opts.user !== undefined ? { userId: filterValue(opts.user, '--user') } : {}),
        ...(status ? { status } : {}),
        ...(opts.tool !== undefined ? { tool: filterValue(opts.tool, '--tool') } : {}),
      };
      const client = await deps.connect();
      const runs = await client.listRuns(filter);
      print(runs, opts.json, () => formatRuns(runs));
    });

  program
    .command('show <runId>')
    .description('show a run: status, pending action with its arguments, final answer, audit log')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { json?: boolean }) => {
      const client = await deps.connect();
      const shown = await client.getRunState(runId);
      // An approver sees the arguments whole, also those too large to keep in the run (read from the store).
      const state = shown.pendingAction
        ? { ...shown, pendingAction: await client.pendingActionInFull(runId, shown.pendingAction) }
        : shown;
      print(state, opts.json, () => {
        const text = formatRunState(runId, state);
        const owner = state.pendingAction?.userId;
        return state.pendingAction && owner
          ? `${text}\n\n${decisionHints(invocation, runId, state.pendingAction, owner)}`
          : text;
      });
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
    .addOption(actionOption())
    .addOption(yesOption())
    .addOption(keyOption())
    .action(
      async (
        runId: string,
        opts: { call?: string[]; scope: 'once' | 'session' | 'always'; as: string; key?: string } & ConfirmOptions,
      ) => decide(runId, opts, (id) => ({ tool_call_id: id, decision: 'approve', scope: opts.scope })),
    );

  program
    .command('reject <runId>')
    .description('reject the paused tool calls (all, or those named with --call)')
    .option('--call <id...>', 'tool_call_id(s) to reject')
    .option('--reason <text>', 'why (goes back to the model)')
    .addOption(approverOption())
    .addOption(actionOption())
    .addOption(yesOption())
    .addOption(keyOption())
    .action(
      async (runId: string, opts: { call?: string[]; reason?: string; as: string; key?: string } & ConfirmOptions) =>
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
    .addOption(actionOption())
    .addOption(yesOption())
    .addOption(keyOption())
    .action(async (runId: string, opts: { call: string; args: string; as: string; key?: string } & ConfirmOptions) => {
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
    .addOption(actionOption())
    .addOption(yesOption())
    .addOption(keyOption())
    .action(async (runId: string, opts: { call: string; text: string; as: string; key?: string } & ConfirmOptions) =>
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
    .addOption(actionOption())
    .addOption(yesOption())
    .addOption(keyOption())
    .action(
      async (runId: string, words: string[], opts: { answers?: string; as: string; key?: string } & ConfirmOptions) => {
        const client = await deps.connect();
        const pending = await requirePending(client, runId, opts.action);
        if (pending.payload.type !== 'ask_user_question') throw wrongKind(pending);
        const base = { actionId: pending.actionId, approver: opts.as };
        const resolution: Resolution = opts.answers
          ? { ...base, answers: parseJsonObject(opts.answers, '--answers') }
          : { ...base, answer: words.join(' ') };
        await confirmDecision(runId, pending, 'send this answer', opts);
        await resolveWith(runId, resolution, opts.key);
      },
    );

  program
    .command('elicit <runId>')
    .description(
      'answer an MCP server that asks for input: --accept \'{"field": …}\' (a form), --done (a link you opened), --decline or --cancel',
    )
    .option('--accept <json|@file>', 'accept with these values: a JSON object by field name, or @path to a file')
    .option('--done', 'accept a URL elicitation: you opened the link and finished there (alias of accept)')
    .option('--decline', 'refuse to give what the server asks for')
    .option('--cancel', 'dismiss the request without answering it')
    .addOption(approverOption())
    .addOption(actionOption())
    .addOption(yesOption())
    .addOption(keyOption())
    .action(
      async (
        runId: string,
        opts: {
          accept?: string;
          done?: boolean;
          decline?: boolean;
          cancel?: boolean;
          as: string;
          key?: string;
        } & ConfirmOptions,
      ) => {
        // The arguments first: a typo in the JSON is told before anything is asked of Temporal.
        const choice = elicitationChoice(opts);
        const client = await deps.connect();
        const pending = await requirePending(client, runId, opts.action);
        if (pending.payload.type !== 'mcp_elicitation') throw wrongKind(pending);
        const { mode, server } = pending.payload;
        if (mode === 'url' && choice.content !== undefined) {
          throw new CliError(
            'InvalidArguments',
            'this elicitation asks you to open a link, not to fill in a form: answer --done, --decline or --cancel',
          );
        }
        if (mode !== 'url' && choice.done) {
          throw new CliError(
            'InvalidArguments',
            `this elicitation asks for a form: answer --accept '<json>' (its fields: hitl show ${runId}), --decline or --cancel`,
          );
        }
        const values = choice.content !== undefined ? ` with ${printable(JSON.stringify(choice.content))}` : '';
        const verb = choice.done ? 'accept (done)' : choice.action;
        await confirmDecision(
          runId,
          pending,
          `${verb} the request of MCP server "${printable(server)}"${values.length > 200 ? ` with ${Object.keys(choice.content ?? {}).length} values` : values}`,
          opts,
        );
        report(
          await client.elicit(
            runId,
            {
              actionId: pending.actionId,
              approver: opts.as,
              action: choice.action,
              ...(choice.content !== undefined ? { content: choice.content } : {}),
            },
            opts.key ? { idempotencyKey: opts.key } : {},
          ),
        );
      },
    );

  program
    .command('token')
    .description(
      'mint a bearer token for the HTTP API and the console of npm start (dev mode only: signs with .temporal/dev-jwt-secret)',
    )
    .requiredOption('--user <sub>', 'the token subject: who the API takes you for')
    .option('--ttl <span>', 'lifetime: seconds, or like 30m, 12h, 7d', '12h')
    .option(
      '--claim <name=value...>',
      "extra claims for the agents' claim rules, e.g. role=approver (repeat a name for a list)",
    )
    .option('--json', 'print JSON')
    .action(async (opts: { user: string; ttl: string; claim?: string[]; json?: boolean }) => {
      const env = deps.env ?? process.env;
      if (env.HITL_JWT_SECRET || env.HITL_JWKS_URL) {
        throw new CliError(
          'NotDevMode',
          `${env.HITL_JWT_SECRET ? 'HITL_JWT_SECRET' : 'HITL_JWKS_URL'} is set: the API verifies tokens with it, not with the dev secret; tokens come from your identity provider`,
        );
      }
      const file = deps.devSecretFile ?? DEV_SECRET_FILE;
      const secret = readDevSecret(file);
      if (secret === undefined) {
        throw new CliError(
          'NoDevSecret',
          `no dev secret in ${file}: run npm start once (it creates it); outside dev mode tokens come from your identity provider`,
        );
      }
      const sub = z.string().trim().min(1).max(256).safeParse(opts.user);
      if (!sub.success) throw new CliError('InvalidArguments', '--user must be 1 to 256 characters');
      const { ttl, seconds } = tokenTtl(opts.ttl);
      const claims = parseClaims(opts.claim ?? []);
      const token = await issueDevToken(secret, sub.data, ttl, {
        ...(env.HITL_JWT_ISSUER ? { issuer: env.HITL_JWT_ISSUER } : {}),
        ...(env.HITL_JWT_AUDIENCE ? { audience: env.HITL_JWT_AUDIENCE } : {}),
        claims,
      });
      const expiresAt = new Date(Date.now() + seconds * 1000).toISOString();
      if (opts.json) {
        print({ token, sub: sub.data, claims, expiresAt }, true, () => '');
        return;
      }
      io.out(`${token}\n`);
      const api = readDevEnv()?.values.HITL_API_URL;
      const described = Object.entries(claims).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`);
      io.err(
        `token for "${sub.data}"${described.length ? ` (${described.join(', ')})` : ''}, valid until ${expiresAt}` +
          (api ? `; console: ${api}/console#token=${encodeURIComponent(token)}` : '') +
          '\n',
      );
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
    if (error instanceof z.ZodError) {
      deps.io.err(`hitl: InvalidArguments: ${describeIssues(error)}\n`);
      return 2;
    }
    const type = error instanceof Error && 'type' in error && typeof error.type === 'string' ? `${error.type}: ` : '';
    deps.io.err(`hitl: ${type}${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** True when `command` on PATH is this checkout's bin/hitl (e.g. after `npm link`). */
function ourBinOnPath(command: string, env: NodeJS.ProcessEnv): boolean {
  let ours: string;
  try {
    ours = realpathSync(join(__dirname, '..', '..', 'bin', 'hitl'));
  } catch {
    return false;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      const candidate = join(dir, command);
      accessSync(candidate, constants.X_OK);
      return realpathSync(candidate) === ours;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/** How the user ran us, so printed hints run as printed. */
export function invocationOf(env: NodeJS.ProcessEnv = process.env): string {
  if (env.npm_lifecycle_event === 'hitl') return 'npm run -s hitl --';
  // npx (npm exec) puts the bin on PATH for its own run only: the user's shell does not have it.
  if (env.npm_command === 'exec') return 'npx hitl';
  if (ourBinOnPath('hitl', env)) return 'hitl';
  return 'npx hitl';
}

/** A yes/no question on the terminal (stderr, so stdout stays clean); undefined without a terminal. */
function terminalConfirm(): ((question: string) => Promise<boolean>) | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim());
    } finally {
      rl.close();
    }
  };
}

/** Entry point of the `hitl` bin: real stdout/stderr, the client from the environment (or a running npm start). */
export function runFromProcess(): void {
  const io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
  const confirm = terminalConfirm();
  void main(process.argv.slice(2), {
    connect: () => connectHitlClient(clientEnvironment()),
    io,
    invocation: invocationOf(),
    ...(confirm ? { confirm } : {}),
  }).then((code) => process.exit(code));
}

if (require.main === module) runFromProcess();
