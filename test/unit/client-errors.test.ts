import assert from 'node:assert/strict';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isRunNotFound, refusalFromError } from '../../src/client/errors';
import { isRetryableQueryError } from '../../src/client/hitl-client';

describe('client errors', function () {
  it('an update overtaken by the run closing counts as "the run has closed"', function () {
    const aborted = new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.create({ message: 'workflow update was aborted by closing workflow' }),
    );
    const acceptedThenClosed = new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.create({ type: 'AcceptedUpdateCompletedWorkflow', message: 'Workflow Update failed' }),
    );
    assert.equal(isRunNotFound(aborted), true);
    assert.equal(isRunNotFound(acceptedThenClosed), true);
    assert.equal(isRunNotFound(new WorkflowNotFoundError('gone', 'run-1', undefined)), true);
  });

  it('a refusal or any other update failure is not "closed"', function () {
    const refusal = new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.create({ type: 'AlreadyResolved', message: 'already resolved' }),
    );
    assert.equal(isRunNotFound(refusal), false);
    assert.deepEqual(refusalFromError(refusal), { type: 'AlreadyResolved', message: 'already resolved' });
    assert.equal(isRunNotFound(new WorkflowUpdateFailedError('Workflow Update failed', undefined)), false);
    assert.equal(isRunNotFound(new Error('workflow update was aborted by closing workflow')), false);
  });
});

describe('queries asked again', function () {
  /** A gRPC error as grpc-js makes it (code, details, metadata), wrapped like the SDK's ServiceError. */
  function grpcError(code: number, details: string): Error {
    const inner = Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
    return new Error('Failed to query Workflow', { cause: inner });
  }

  it('a query cancelled by the server or past its deadline is asked again; other failures are not', function () {
    assert.equal(isRetryableQueryError(grpcError(1, 'Call cancelled')), true);
    assert.equal(isRetryableQueryError(grpcError(4, 'Deadline exceeded')), true);
    assert.equal(isRetryableQueryError(grpcError(5, 'workflow not found')), false);
    assert.equal(isRetryableQueryError(grpcError(3, 'invalid argument')), false);
    assert.equal(isRetryableQueryError(new Error('no gRPC here')), false);
  });
});
