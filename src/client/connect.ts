import { Client, Connection } from '@temporalio/client';
import { loadTemporalConfig, type LoadTemporalConfigOptions } from '../config';
import { HitlClient } from './hitl-client';

/** A `HitlClient` connected the way the worker is: from the environment (see `loadTemporalConfig`). */
export async function connectHitlClient(options: LoadTemporalConfigOptions = {}): Promise<HitlClient> {
  const config = loadTemporalConfig(options);
  const connection = await Connection.connect(config.connectionOptions);
  return new HitlClient(new Client({ connection, namespace: config.namespace }), config.taskQueue);
}
