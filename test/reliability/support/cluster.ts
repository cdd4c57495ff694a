// The real pieces of a deployment, as separate processes: a file-backed Temporal dev server (the product's
// launcher), worker processes (`src/worker.ts`, or a test entry with an extra tool) and the HTTP API
// (`src/server/main.ts`). Everything listens on 127.0.0.1 only, on free ports, with state in a temp folder.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { HitlClient } from '../../../src/client';
import { startDevServer, type DevServer } from '../../../src/dev/dev-server';
import { issueDevToken } from '../../../src/server/auth';
import { writeSuiteConfig } from './agents';
import { freePort, spawnTsEntry, type ChildHandle } from '../../support/processes';

const WORKER_READY = /worker polling task queue/;
const API_READY = /HTTP API\s+(http:\/\/127\.0\.0\.1:\d+)/;
const START_TIMEOUT_MS = 90_000;

/** Path (from the repository root) of the test worker entry that registers the extra `slow_append` tool. */
export const SLOW_TOOL_WORKER_ENTRY = 'test/reliability/support/slow-tool-worker.ts';
export const PRODUCT_WORKER_ENTRY = 'src/worker.ts';

export interface Cluster {
  /** Temp folder holding the server's database, its log and the sandboxes. */
  dir: string;
  dbFile: string;
  /** The configuration file (agents) every worker and HTTP API process of the cluster reads (`HITL_CONFIG`). */
  configFile: string;
  port: number;
  server: DevServer;
  address: string;
  /** A client connection of the test process (reconnects by itself after a server restart). */
  connection: Connection;
  client: Client;
  hitl(taskQueue: string): HitlClient;
  /** SIGKILLs the server process (no clean shutdown) and waits until it is gone. */
  killServer(): Promise<void>;
  /** Starts the server again on the same port with the same database. */
  restartServer(): Promise<void>;
  startWorker(options: WorkerOptions): Promise<ChildHandle>;
  startApi(options: ApiOptions): Promise<ApiHandle>;
  /** Stops every process this cluster started and removes its folder. Idempotent. */
  close(): Promise<void>;
}

export interface WorkerOptions {
  taskQueue: string;
  sandboxDir: string;
  /** Default: the product's `src/worker.ts`. */
  entry?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ApiOptions {
  taskQueue: string;
}

export interface ApiHandle {
  url: string;
  secret: string;
  process: ChildHandle;
  /** A bearer token for `sub`, valid `ttlSeconds` (negative: already expired), with extra `claims`. */
  token(sub: string, ttlSeconds?: number, claims?: Record<string, unknown>): Promise<string>;
}

export async function startCluster(label: string): Promise<Cluster> {
  const dir = mkdtempSync(path.join(tmpdir(), `hitl-rel-${label}-`));
  const dbFile = path.join(dir, 'temporal.db');
  const configFile = writeSuiteConfig(path.join(dir, 'hitl.config.yaml'));
  // Children get their environment from here explicitly, not by chance from the mocha process: the agents
  // of this suite, and the scripted model (refused by a worker that is not told to accept it).
  const agentEnv = { HITL_CONFIG: configFile, HITL_LIBRECHAT_CONFIG: '', HITL_ENABLE_SCRIPTED: '1' };
  const port = await freePort();
  const launch = () =>
    startDevServer({
      ip: '127.0.0.1',
      port,
      headless: true,
      dbFilename: dbFile,
      logFile: path.join(dir, 'dev-server.log'),
      handleSignals: false,
      namespace: 'default',
      readyTimeoutMs: 60_000,
      onOutput: () => undefined,
    });
  let server = await launch();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  const started = new Set<ChildHandle>();
  let closed = false;

  const cluster: Cluster = {
    dir,
    dbFile,
    configFile,
    port,
    get server() {
      return server;
    },
    address: server.address,
    connection,
    client,
    hitl: (taskQueue) => new HitlClient(client, taskQueue),
    async killServer() {
      try {
        process.kill(server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await server.exited;
      await server.stop(); // only removes its exit hook now
    },
    async restartServer() {
      server = await launch();
    },
    async startWorker(options) {
      const worker = spawnTsEntry(`worker(${options.taskQueue})`, options.entry ?? PRODUCT_WORKER_ENTRY, {
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: 'default',
        HITL_TASK_QUEUE: options.taskQueue,
        HITL_SANDBOX_DIR: options.sandboxDir,
        HITL_WORKER_LOG_LEVEL: 'ERROR',
        ...agentEnv,
        ...options.env,
      });
      started.add(worker);
      await worker.waitFor(WORKER_READY, START_TIMEOUT_MS);
      return worker;
    },
    async startApi(options) {
      const secret = randomBytes(32).toString('base64url');
      const apiPort = await freePort();
      const api = spawnTsEntry('http-api', 'src/server/main.ts', {
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: 'default',
        HITL_TASK_QUEUE: options.taskQueue,
        HITL_JWT_SECRET: secret,
        HITL_API_HOST: '127.0.0.1',
        HITL_API_PORT: String(apiPort),
        HITL_LOG_LEVEL: 'error',
        HITL_DEV: '',
        ...agentEnv,
      });
      started.add(api);
      const match = await api.waitFor(API_READY, START_TIMEOUT_MS);
      return {
        url: match[1]!,
        secret,
        process: api,
        token: (sub, ttlSeconds = 3600, claims) =>
          issueDevToken(secret, sub, ttlSeconds, claims !== undefined ? { claims } : {}),
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...started].map((child) => child.kill()));
      await connection.close().catch(() => undefined);
      await server.stop(5_000).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** A fresh task queue name for one scenario. */
export function taskQueueFor(scenario: string): string {
  return `rel-${scenario}-${randomUUID().slice(0, 8)}`;
}
