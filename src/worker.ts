// Worker entry: `npm run worker` (or `node -r ts-node/register/transpile-only src/worker.ts`).
// Connection from the environment (see src/config.ts); registers the generationRun workflow and the
// activities; Ctrl-C / SIGTERM drain it (the Temporal Runtime installs those signal handlers) and it exits 0.
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { ConfigError, configSourceFromEnv } from './agent-config';
import { createDefaultToolRegistry, createWorkerActivities, loadActivitiesConfigFromEnv } from './activities';
import { describeTemporalConfig, loadTemporalConfig } from './config';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  /** Default "default". */
  namespace?: string;
  taskQueue: string;
  /** The activities to register: normally `createWorkerActivities(client, taskQueue)`. */
  activities: object;
  /** A prebuilt bundle (tests share one), built with `failureConverterPath: FAILURE_CONVERTER_PATH`; default: bundle `src/workflows` at creation. */
  workflowBundle?: WorkflowBundleOption;
  /** Anything else for `Worker.create`. */
  workerOptions?: Omit<WorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowBundle'>;
}

/** Path of the workflow entry (`src/workflows/index.ts`, or `.js` when compiled). */
export const WORKFLOWS_PATH = require.resolve('./workflows');
/** The failure converter (well-formed strings); a prebuilt bundle must be built with it too. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : { workflowsPath: WORKFLOWS_PATH };
  return Worker.create({
    ...options.workerOptions,
    dataConverter: { ...options.workerOptions?.dataConverter, failureConverterPath: FAILURE_CONVERTER_PATH },
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...workflows,
  });
}

const LOG_LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** SDK log level from `HITL_WORKER_LOG_LEVEL` (default WARN: the SDK's INFO lines include webpack stats). */
function workerLogLevel(): LogLevel {
  const raw = (process.env.HITL_WORKER_LOG_LEVEL ?? '').toUpperCase();
  return LOG_LEVELS.find((level) => level === raw) ?? 'WARN';
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger(workerLogLevel()) });
  const config = loadTemporalConfig();
  // The configuration file is validated before anything connects: a bad file stops the worker at once.
  const registry = createDefaultToolRegistry();
  const agents = configSourceFromEnv({ knownTools: new Set(registry.list().map((tool) => tool.name)) });
  const activitiesConfig = { ...loadActivitiesConfigFromEnv(), agents };
  const connection = await NativeConnection.connect(config.connectionOptions).catch((err: unknown) => {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot connect to Temporal at ${describeTemporalConfig(config)} (TEMPORAL_ADDRESS): ${reason}`);
  });
  // The grant activities talk to the users' grant entities through a client of their own.
  const clientConnection = await Connection.connect(config.connectionOptions);
  try {
    const client = new Client({ connection: clientConnection, namespace: config.namespace });
    const activities = createWorkerActivities(client, config.taskQueue, activitiesConfig, registry);
    const worker = await createWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      activities,
    });
    const running = worker.run();
    const scripted = activitiesConfig.enableScripted ? '; scripted model enabled' : '';
    console.log(
      `worker polling task queue "${config.taskQueue}" on ${describeTemporalConfig(config)} (agents from ${agents.description}${scripted})`,
    );
    await running;
  } finally {
    await clientConnection.close();
    await connection.close();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      if (err instanceof ConfigError) {
        console.error(err.message);
        process.exit(1);
      }
      console.error(`worker failed: ${err instanceof Error ? err.message : String(err)}`);
      if (process.env.DEBUG && err instanceof Error) console.error(err.stack);
      process.exit(1);
    },
  );
}
