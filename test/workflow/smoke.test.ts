import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TypedSearchAttributes } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { HITL_SEARCH_ATTRIBUTES } from '../../src/contracts';
import { getTestEnv, runWithWorker } from '../hooks';
import { smokeWorkflow } from '../workflows';

describe('dev server smoke test', function () {
  this.timeout(120_000);

  it('runs a trivial workflow through a worker with the shared bundle', async () => {
    const result = await runWithWorker(undefined, ({ client, taskQueue }) =>
      client.workflow.execute(smokeWorkflow, { taskQueue, workflowId: `smoke-${randomUUID()}`, args: ['temporal'] }),
    );
    assert.equal(result, 'hello, temporal');
  });

  it('has the five Hitl* search attributes registered with their types', async () => {
    const env = await getTestEnv();
    const { customAttributes } = await env.connection.operatorService.listSearchAttributes({
      namespace: env.namespace ?? 'default',
    });
    for (const key of HITL_SEARCH_ATTRIBUTES) {
      assert.equal(
        customAttributes[key.name],
        encodeSearchAttributeIndexedValueType(key.type),
        `${key.name} should be registered as ${TypedSearchAttributes.toMetadataType(key.type)}`,
      );
    }
  });
});
