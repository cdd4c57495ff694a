import * as path from 'node:path';
import * as os from 'node:os';
import * as fs from 'node:fs';
import { temporal } from '@temporalio/proto';
import {
  startBenchServer,
  workflowBundlePath,
  startWorkerChild,
  workerConfig,
  connectBenchClient,
  TemporalFlow,
} from './temporal/side';
import { closedLoop } from './lib/load';

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-bench-'));
  const server = await startBenchServer(dir, 'scratch', { inMemory: !!process.env.MEM });
  const bundle = await workflowBundlePath(dir);
  const sandbox = path.join(dir, 'sandbox');
  fs.mkdirSync(sandbox);
  const worker = await startWorkerChild(
    workerConfig(server, 'bench-q', bundle, sandbox, JSON.parse(process.env.WOPTS ?? '{}')),
  );
  const { client, close } = await connectBenchClient(server);
  const flow = new TemporalFlow(client, 'bench-q', worker.clock, {
    wait: (process.env.WAIT ?? 'history') as 'history',
    pollMs: 10,
  });
  const c = Number(process.env.C ?? 50);
  const r = await closedLoop(flow, { concurrency: c, seconds: Number(process.env.SECS ?? 8), warmupSeconds: 2 });
  console.log('c', c, 'cps', r.cyclesPerSecond, 'errors', r.errors);
  // analyse last 20 runs' histories
  const gaps: Record<string, number[]> = {};
  const list = client.workflow.list({ query: `ExecutionStatus = 'Completed'` });
  let n = 0;
  for await (const ex of list) {
    if (n++ >= 30) break;
    const h = await client.workflow.getHandle(ex.workflowId).fetchHistory();
    let prev: { t: number; type: string } | undefined;
    for (const e of h.events!) {
      const t = Number(e.eventTime!.seconds) * 1000 + e.eventTime!.nanos! / 1e6;
      const type = temporal.api.enums.v1.EventType[e.eventType!]!.replace('EVENT_TYPE_', '');
      if (prev) (gaps[`${prev.type}->${type}`] ??= []).push(t - prev.t);
      prev = { t, type };
    }
  }
  const rows = Object.entries(gaps).map(([k, v]) => {
    v.sort((a, b) => a - b);
    return [k, v.length, v[Math.floor(v.length / 2)]!.toFixed(1), v.reduce((a, b) => a + b, 0) / v.length] as const;
  });
  rows.sort((a, b) => (b[3] as number) * (b[1] as number) - (a[3] as number) * (a[1] as number));
  for (const row of rows.slice(0, 14))
    console.log(String(row[0]).padEnd(75), row[1], 'p50', row[2], 'mean', (row[3] as number).toFixed(1));
  await close();
  await worker.stop();
  await server.stop();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
