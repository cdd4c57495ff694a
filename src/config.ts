import type { Metadata, TLSConfig } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { DEFAULT_TASK_QUEUE } from './contracts';

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/**
 * The connection options both sides understand: assignable to the client's `ConnectionOptions`
 * (`Connection.connect`) and to the worker's `NativeConnectionOptions` (`NativeConnection.connect`).
 */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean | null;
  apiKey?: string;
  metadata?: Metadata;
}

export interface TemporalConfig {
  connectionOptions: TemporalConnectionOptions;
  namespace: string;
  taskQueue: string;
}

export interface LoadTemporalConfigOptions {
  /** Environment to read; defaults to `process.env`. Empty values count as unset. */
  env?: NodeJS.ProcessEnv;
  /** Profile of the Temporal config file (TOML); defaults to `TEMPORAL_PROFILE`, then "default". */
  profile?: string;
  /** Do not read the Temporal config file (`TEMPORAL_CONFIG_FILE` or the default path), only the environment. */
  disableFile?: boolean;
}

/**
 * Connection, namespace and task queue from the environment, the way every Temporal tool reads it
 * (@temporalio/envconfig): `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`,
 * `TEMPORAL_GRPC_META_*`, `TEMPORAL_PROFILE` / `TEMPORAL_CONFIG_FILE`; plus `HITL_TASK_QUEUE`.
 * Defaults: localhost:7233, namespace "default", task queue "generation-runs".
 */
export function loadTemporalConfig(options: LoadTemporalConfigOptions = {}): TemporalConfig {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env ?? process.env)) {
    if (value !== undefined && value !== '') env[key] = value;
  }
  const { connectionOptions, namespace } = loadClientConnectConfig({
    overrideEnvVars: env,
    profile: options.profile,
    disableFile: options.disableFile,
  });
  const result: TemporalConnectionOptions = { address: connectionOptions.address || DEFAULT_TEMPORAL_ADDRESS };
  if (connectionOptions.tls !== undefined) result.tls = connectionOptions.tls;
  if (connectionOptions.apiKey !== undefined) result.apiKey = connectionOptions.apiKey;
  if (connectionOptions.metadata !== undefined && Object.keys(connectionOptions.metadata).length > 0) {
    result.metadata = connectionOptions.metadata;
  }
  return {
    connectionOptions: result,
    namespace: namespace || DEFAULT_TEMPORAL_NAMESPACE,
    taskQueue: env.HITL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
  };
}

/** One line for logs, never the API key: `localhost:7233 namespace default` (+ ` (TLS)`). */
export function describeTemporalConfig(config: Pick<TemporalConfig, 'connectionOptions' | 'namespace'>): string {
  const tls = config.connectionOptions.tls ? ' (TLS)' : '';
  return `${config.connectionOptions.address} namespace ${config.namespace}${tls}`;
}
