import assert from 'node:assert/strict';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isRunNotFound, refusalFromError } from '../../src/client/errors';

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
