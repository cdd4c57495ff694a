import { Client, Connection } from '@temporalio/client';
import { sharedContentStore } from '../content-store';
import { loadTemporalConfig, type LoadTemporalConfigOptions } from '../config';
import { HitlClient } from './hitl-client';

/** A `HitlClient` connected the way the worker is: from the environment (see `loadTemporalConfig`). */
export async function connectHitlClient(options: LoadTemporalConfigOptions = {}): Promise<HitlClient> {
  const config = loadTemporalConfig(options);
  const connection = await Connection.connect(config.connectionOptions);
  // The content store of HITL_CONTENT_STORE, opened when first needed (whole messages, large conversations).
  return new HitlClient(new Client({ connection, namespace: config.namespace }), config.taskQueue, () =>
    sharedContentStore(),
  );
}
