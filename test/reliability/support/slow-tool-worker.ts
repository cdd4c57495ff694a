// Test-only worker entry: the product worker (same workflows, same activities, same connection from the
// environment) plus one extra tool, `slow_append`, that takes long on its first attempt — before or after
// its side effect — so the suite can SIGKILL the worker in the middle of a tool call. The side effect goes
// through the product's idempotency ledger exactly like `append_file`.
//
// Progress is written to HITL_TEST_PROBE_DIR/<workflow id>.log (outside the sandbox), one line per step:
// `start attempt=N`, `effect attempt=N` (the append itself), `done attempt=N`.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { z } from 'zod';
import {
  createDefaultToolRegistry,
  createWorkerActivities,
  defineTool,
  IdempotencyLedger,
  loadActivitiesConfigFromEnv,
  resolveSandboxPath,
  type ToolContext,
} from '../../../src/activities';
import { loadTemporalConfig } from '../../../src/config';
import { createWorker } from '../../../src/worker';

export const SLOW_APPEND = 'slow_append';

async function probe(ctx: ToolContext, step: string): Promise<void> {
  const dir = process.env.HITL_TEST_PROBE_DIR;
  if (!dir) return;
  const attempt = Context.current().info.attempt;
  const file = path.join(dir, `${encodeURIComponent(ctx.runId)}.log`);
  await mkdir(dir, { recursive: true });
  await appendFile(file, `${step} attempt=${attempt} pid=${process.pid}\n`);
}

/** Waits `ms`, heartbeating every 500 ms (so the activity is alive until the process is killed). */
async function busy(ctx: ToolContext, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (let left = ms; left > 0; left = until - Date.now()) {
    ctx.heartbeat?.();
    await delay(Math.min(left, 500), undefined, { signal: ctx.signal });
  }
}

export const slowAppendTool = defineTool({
  name: SLOW_APPEND,
  description: 'Append text to a sandbox file; on its first attempt, wait before and/or after the append.',
  argsSchema: z.object({
    path: z.string().min(1).max(4096),
    content: z.string().max(10_000),
    slowBeforeMs: z.number().int().min(0).max(600_000).default(0),
    slowAfterMs: z.number().int().min(0).max(600_000).default(0),
  }),
  async execute(args, ctx) {
    const firstAttempt = Context.current().info.attempt === 1;
    await probe(ctx, 'start');
    if (firstAttempt) await busy(ctx, args.slowBeforeMs);
    const file = await resolveSandboxPath(ctx.sandboxDir, args.path);
    const fingerprint = `${SLOW_APPEND}:${createHash('sha256').update(JSON.stringify(args)).digest('hex')}`;
    const result = await IdempotencyLedger.forSandbox(ctx.sandboxDir).runOnce(
      ctx.idempotencyKey,
      async () => {
        await mkdir(path.dirname(file.absolute), { recursive: true });
        await appendFile(file.absolute, args.content, 'utf8');
        await probe(ctx, 'effect');
        return `Appended to ${file.relative} (now ${(await stat(file.absolute)).size} bytes)`;
      },
      { fingerprint },
    );
    await probe(ctx, 'done');
    if (firstAttempt) await busy(ctx, args.slowAfterMs);
    return result;
  },
});

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = loadTemporalConfig();
  const connection = await NativeConnection.connect(config.connectionOptions);
  const clientConnection = await Connection.connect(config.connectionOptions);
  const registry = createDefaultToolRegistry().register(slowAppendTool);
  const client = new Client({ connection: clientConnection, namespace: config.namespace });
  const worker = await createWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    activities: createWorkerActivities(client, config.taskQueue, loadActivitiesConfigFromEnv(), registry),
  });
  const running = worker.run();
  console.log(`worker polling task queue "${config.taskQueue}" (with ${SLOW_APPEND})`);
  await running;
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(
        `slow-tool worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exit(1);
    },
  );
}
