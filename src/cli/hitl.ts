#!/usr/bin/env node
// The `hitl` command: start demo runs, list and inspect paused runs, resolve them.
import { Command, InvalidArgumentError, Option } from 'commander';
import { connectHitlClient, type HitlClient, type ResolveOutcome } from '../client';
import type { DecisionInput, PendingAction, RunStatus } from '../contracts';
import { RunStatusSchema } from '../contracts';
import { DEMO_NAMES, DEMOS, type DemoName } from './demos';

function print(value: unknown, json: boolean, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

function formatPending(pending: PendingAction): string {
  const lines = [`action ${pending.actionId}  (expires ${pending.expiresAt})`];
  if (pending.payload.type === 'tool_approval') {
    for (const request of pending.payload.action_requests) {
      lines.push(
        `  ${request.tool_call_id}  ${request.name}${request.description ? `  — ${request.description}` : ''}`,
      );
      lines.push(
        JSON.stringify(request.arguments, null, 2)
          .split('\n')
          .map((l) => `      ${l}`)
          .join('\n'),
      );
    }
  } else {
    lines.push(`  question (${pending.payload.tool_call_id}): ${pending.payload.question.question}`);
  }
  return lines.join('\n');
}

async function requirePending(client: HitlClient, runId: string): Promise<PendingAction> {
  const pending = await client.getPendingAction(runId);
  if (!pending) throw new CliError('NoPendingAction', `run ${runId} is not waiting for a decision`);
  return pending;
}

class CliError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function report(outcome: ResolveOutcome): void {
  if (!outcome.ok) throw new CliError(outcome.refusal.type, outcome.refusal.message);
  process.stdout.write(`resolved ${outcome.result.actionId} as ${outcome.result.decidedBy}; the run continues\n`);
}

/** Decides every paused call of the action the same way, or only `--call` ids (the rest stay undecided). */
function decideAll(
  pending: PendingAction,
  calls: string[] | undefined,
  make: (id: string) => DecisionInput,
): DecisionInput[] {
  if (pending.payload.type !== 'tool_approval') return [];
  const ids = calls ?? pending.payload.review_configs.map((c) => c.tool_call_id);
  return ids.map(make);
}

export function buildProgram(connect: () => Promise<HitlClient> = connectHitlClient): Command {
  const program = new Command('hitl').description('Durable human-in-the-loop tool approval on Temporal');
  const approverOption = () =>
    new Option('--as <approver>', 'approver identity').default(process.env.HITL_APPROVER ?? process.env.USER ?? 'u1');

  program
    .command('start')
    .description('start a scripted demo run')
    .addOption(new Option('--demo <name>', 'demo to start').choices(DEMO_NAMES).default('delete-file'))
    .option('--user <userId>', 'owner of the run', 'u1')
    .option('--json', 'print JSON')
    .action(async (opts: { demo: DemoName; user: string; json?: boolean }) => {
      const client = await connect();
      const { runId } = await client.startRun(DEMOS[opts.demo](opts.user));
      const pending = await waitForPause(client, runId);
      print({ runId, pendingAction: pending }, opts.json === true, () =>
        pending
          ? `started ${runId}; it waits for a decision:\n${formatPending(pending)}\n\napprove with: hitl approve ${runId} --as ${opts.user}`
          : `started ${runId}; it did not pause`,
      );
    });

  program
    .command('runs')
    .description('list generation runs (Temporal visibility)')
    .option('--paused', 'only runs waiting for a decision')
    .option('--user <userId>', 'only runs of this user')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RunStatusSchema.options))
    .option('--json', 'print JSON')
    .action(async (opts: { paused?: boolean; user?: string; status?: RunStatus; json?: boolean }) => {
      const client = await connect();
      const status = opts.paused ? 'requires_action' : opts.status;
      const runs = await client.listRuns({
        ...(opts.user ? { userId: opts.user } : {}),
        ...(status ? { status } : {}),
      });
      print(runs, opts.json === true, () =>
        runs.length === 0
          ? 'no runs'
          : runs
              .map((r) =>
                [
                  r.runId,
                  r.status ?? '?',
                  r.userId ?? '?',
                  r.pendingTools.join(',') || '-',
                  r.expiresAt?.toISOString() ?? '-',
                ].join('  '),
              )
              .join('\n'),
      );
    });

  program
    .command('show <runId>')
    .description('show a run: status, pending action, audit log')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { json?: boolean }) => {
      const client = await connect();
      const state = await client.getRunState(runId);
      print(state, opts.json === true, () =>
        [
          `run ${runId}: ${state.status} (model calls: ${state.turn})`,
          state.pendingAction ? formatPending(state.pendingAction) : 'no pending action',
          ...state.decisions.map(
            (d) =>
              `  ${d.at} ${d.via} ${d.outcome} ${d.approver ?? ''} ${d.refusal ? `${d.refusal.type}: ${d.refusal.message}` : ''}`,
          ),
        ].join('\n'),
      );
    });

  program
    .command('approve <runId>')
    .description('approve the paused tool calls (all, or those named with --call)')
    .option('--call <id...>', 'tool_call_id(s) to approve')
    .addOption(
      new Option('--scope <scope>', 'remember the approval').choices(['once', 'session', 'always']).default('once'),
    )
    .addOption(approverOption())
    .option('--key <idempotencyKey>', 'idempotency key: a retry returns the first answer')
    .action(
      async (
        runId: string,
        opts: { call?: string[]; scope: 'once' | 'session' | 'always'; as: string; key?: string },
      ) => {
        const client = await connect();
        const pending = await requirePending(client, runId);
        const decisions = decideAll(pending, opts.call, (id) => ({
          tool_call_id: id,
          decision: 'approve',
          scope: opts.scope,
        }));
        report(
          await client.resolve(
            runId,
            { actionId: pending.actionId, approver: opts.as, decisions },
            opts.key ? { idempotencyKey: opts.key } : {},
          ),
        );
      },
    );

  program
    .command('reject <runId>')
    .description('reject the paused tool calls (all, or those named with --call)')
    .option('--call <id...>', 'tool_call_id(s) to reject')
    .option('--reason <text>', 'why (goes back to the model)')
    .addOption(approverOption())
    .action(async (runId: string, opts: { call?: string[]; reason?: string; as: string }) => {
      const client = await connect();
      const pending = await requirePending(client, runId);
      const decisions = decideAll(pending, opts.call, (id) => ({
        tool_call_id: id,
        decision: 'reject',
        ...(opts.reason ? { reason: opts.reason } : {}),
      }));
      report(await client.resolve(runId, { actionId: pending.actionId, approver: opts.as, decisions }));
    });

  program
    .command('abort <runId>')
    .description('cancel a run: it ends aborted')
    .action(async (runId: string) => {
      const client = await connect();
      await client.abort(runId);
      process.stdout.write(`cancelled ${runId}\n`);
    });

  return program;
}

async function waitForPause(client: HitlClient, runId: string, ms = 10_000): Promise<PendingAction | null> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const pending = await client.getPendingAction(runId);
    if (pending) return pending;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return null;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`hitl: ${error.type}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof InvalidArgumentError) throw error;
    process.stderr.write(`hitl: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => process.exit(code));
}
