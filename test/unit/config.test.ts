import assert from 'node:assert/strict';
import { DEFAULT_TASK_QUEUE } from '../../src/contracts';
import { describeTemporalConfig, loadTemporalConfig } from '../../src/config';

// disableFile: a developer's ~/.config/temporalio/temporal.toml must not change these results.
const load = (env: NodeJS.ProcessEnv) => loadTemporalConfig({ env, disableFile: true });

describe('loadTemporalConfig', () => {
  it('defaults to localhost:7233, namespace default, task queue generation-runs', () => {
    assert.deepEqual(load({}), {
      connectionOptions: { address: 'localhost:7233' },
      namespace: 'default',
      taskQueue: DEFAULT_TASK_QUEUE,
    });
    assert.equal(DEFAULT_TASK_QUEUE, 'generation-runs');
  });

  it('reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and HITL_TASK_QUEUE', () => {
    const config = load({
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      TEMPORAL_NAMESPACE: 'hitl',
      HITL_TASK_QUEUE: 'q2',
    });
    assert.deepEqual(config, {
      connectionOptions: { address: 'temporal.example:7233' },
      namespace: 'hitl',
      taskQueue: 'q2',
    });
  });

  it('an API key turns TLS on; TEMPORAL_TLS=false turns it off again', () => {
    assert.deepEqual(load({ TEMPORAL_API_KEY: 'secret' }).connectionOptions, {
      address: 'localhost:7233',
      apiKey: 'secret',
      tls: true,
    });
    assert.equal(load({ TEMPORAL_API_KEY: 'secret', TEMPORAL_TLS: 'false' }).connectionOptions.tls, false);
  });

  it('passes TLS settings and gRPC metadata through', () => {
    const { connectionOptions } = load({
      TEMPORAL_TLS: 'true',
      TEMPORAL_TLS_SERVER_NAME: 'srv',
      TEMPORAL_GRPC_META_X_TENANT: 't1',
    });
    assert.deepEqual(connectionOptions.tls, {
      serverNameOverride: 'srv',
      serverRootCACertificate: undefined,
      clientCertPair: undefined,
    });
    assert.deepEqual(connectionOptions.metadata, { 'x-tenant': 't1' });
  });

  it('treats empty variables as unset', () => {
    assert.deepEqual(load({ TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '', HITL_TASK_QUEUE: '' }), load({}));
  });

  it('describes the connection in one line without the API key', () => {
    const line = describeTemporalConfig(load({ TEMPORAL_API_KEY: 'secret', TEMPORAL_ADDRESS: 'h:1' }));
    assert.equal(line, 'h:1 namespace default (TLS)');
  });
});
