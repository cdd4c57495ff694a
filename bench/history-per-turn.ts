// `npm run bench:history`: history bytes per turn of runs of 10, 100 and 200 turns whose tool returns 500 KB each
// time (issue 13). With the transcript in the content store the per-turn figure must not grow with the number of
// turns. Prints one line per run and the ratio of the longest run's per-turn figure to the shortest's.
// Starts its own dev server (in memory) and an in-process worker with a temporary SQLite content store.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createWorkerActivities, loadActivitiesConfigFromEnv, userSandboxDir } from '../src/activities';
import { HitlClient } from '../src/client';
import { openContentStore } from '../src/content-store';
import type { InlineRunInput } from '../src/contracts';
import { startDevServer } from '../src/dev/dev-server';
import { chainHistories, historyBytes, historyEventCount, largestPayloadBytes } from '../src/dev/history';
import { createWorker } from '../src/worker';

const TURN_COUNTS = process.argv.includes('--quick') ? [10, 40] : [10, 100, 200];
const RESULT_BYTES = 500 * 1024;

/** A TCP port that was free on 127.0.0.1 a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function line(seed: string): string {
  return `${seed} lorem ipsum dolor sit amet consectetur\n`;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = mkdtempSync(path.join(tmpdir(), 'hitl-bench-history-'));
  const server = await startDevServer({
    ip: '127.0.0.1',
    port: await freePort(),
    headless: true,
    dbFilename: '',
    logFile: path.join(dir, 'dev-server.log'),
    handleSignals: false,
    namespace: 'default',
    onOutput: () => undefined,
  });
  const store = openContentStore({
    kind: 'sqlite',
    path: path.join(dir, 'content.db'),
    retentionMs: 0,
    closeOrphans: true,
    maxContentBytes: 64 * 1024 * 1024,
  });
  const sandboxDir = path.join(dir, 'sandbox');
  const folder = userSandboxDir(sandboxDir, 'bench');
  mkdirSync(folder, { recursive: true });
  const longest = Math.max(...TURN_COUNTS);
  for (let n = 0; n < longest; n += 1) {
    const text = line(`file ${n}`);
    writeFileSync(
      path.join(folder, `r${n}.txt`),
      text.repeat(Math.ceil(RESULT_BYTES / text.length)).slice(0, RESULT_BYTES),
    );
  }
  const connection = await NativeConnection.connect({ address: server.address });
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection, namespace: 'default' });
  const taskQueue = 'bench-history';
  const worker = await createWorker({
    connection,
    taskQueue,
    activities: createWorkerActivities(client, taskQueue, {
      ...loadActivitiesConfigFromEnv(),
      sandboxDir,
      enableScripted: true,
      contentStore: store,
    }),
  });
  const running = worker.run();
  const hitl = new HitlClient(client, taskQueue, store);
  const perTurn: number[] = [];
  try {
    console.log(`history per turn: each turn one model call and one tool returning ${RESULT_BYTES / 1024} KB`);
    console.log('turns  runs  events  history bytes  bytes/turn  largest payload');
    for (const turns of TURN_COUNTS) {
      const input: InlineRunInput = {
        userId: 'bench',
        conversationId: `history-${turns}`,
        messages: [{ role: 'user', content: 'Read the files' }],
        model: {
          provider: 'scripted',
          script: [
            ...Array.from({ length: turns }, (_, n) => ({
              tool_calls: [{ id: `read_${n}`, name: 'read_file', arguments: { path: `r${n}.txt` } }],
            })),
            { content: 'done' },
          ],
        },
        tools: ['read_file'],
        policy: { enabled: true, allow: ['read_file'] },
        maxTurns: turns + 1,
      };
      const { runId } = await hitl.startRun(input);
      const result = await hitl.result(runId);
      if (result.status !== 'completed') throw new Error(`run of ${turns} turns ended ${result.status}`);
      const histories = await chainHistories(client, runId);
      const bytes = historyBytes(histories);
      perTurn.push(bytes / turns);
      console.log(
        `${String(turns).padStart(5)}  ${String(histories.length).padStart(4)}  ${String(historyEventCount(histories)).padStart(6)}  ` +
          `${String(bytes).padStart(13)}  ${String(Math.round(bytes / turns)).padStart(10)}  ${String(largestPayloadBytes(histories)).padStart(15)}`,
      );
    }
    const ratio = perTurn[perTurn.length - 1]! / perTurn[0]!;
    console.log(
      `bytes/turn at ${longest} turns ÷ at ${TURN_COUNTS[0]} turns: ${ratio.toFixed(2)} (≤ 1 means it does not grow)`,
    );
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await clientConnection.close();
    await store.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
