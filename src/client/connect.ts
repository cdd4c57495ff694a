import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import { sharedContentStore } from '../content-store';
import { DEFAULT_TEMPORAL_ADDRESS, loadTemporalConfig, type LoadTemporalConfigOptions } from '../config';
import { TemporalUnreachableError } from './errors';
import { HitlClient } from './hitl-client';

/** How long `connectHitlClient` tries to reach the server before it gives up (the SDK's default is 10 s). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;

export interface ConnectHitlClientOptions extends LoadTemporalConfigOptions {
  /** Give up after this long when the server does not answer. Default 2 s. */
  connectTimeoutMs?: number;
  /** Where the address came from, for the error message (default: worked out from the environment). */
  addressSource?: string;
}

const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** Where `loadTemporalConfig` found the address, in words. */
export function describeAddressSource(env: NodeJS.ProcessEnv, address: string): string {
  if (env.TEMPORAL_ADDRESS) return 'TEMPORAL_ADDRESS';
  if (env.TEMPORAL_PROFILE || env.TEMPORAL_CONFIG_FILE)
    return 'the Temporal config file (TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE)';
  if (address !== DEFAULT_TEMPORAL_ADDRESS) return 'the Temporal config file';
  return 'the default; set TEMPORAL_ADDRESS';
}

function isUnreachable(error: unknown): boolean {
  if (isGrpcServiceError(error)) {
    const code: number = error.code;
    return code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED;
  }
  return (
    error instanceof Error && /Failed to connect before the deadline|ECONNREFUSED|UNAVAILABLE/i.test(error.message)
  );
}

/**
 * A `HitlClient` connected the way the worker is: from the environment (see `loadTemporalConfig`). A server
 * that does not answer within `connectTimeoutMs` (2 s) is a `TemporalUnreachableError` naming the address
 * and where it came from.
 */
export async function connectHitlClient(options: ConnectHitlClientOptions = {}): Promise<HitlClient> {
  const config = loadTemporalConfig(options);
  const address = config.connectionOptions.address;
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...config.connectionOptions,
      connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
  } catch (error) {
    if (!isUnreachable(error)) throw error;
    const source = options.addressSource ?? describeAddressSource(options.env ?? process.env, address);
    throw new TemporalUnreachableError(address, source, error);
  }
  // The content store of HITL_CONTENT_STORE, opened when first needed (whole messages, large conversations).
  return new HitlClient(new Client({ connection, namespace: config.namespace }), config.taskQueue, () =>
    sharedContentStore(),
  );
}
