// Test-only: a workflow that records a grant through the `recordGrant` activity the way a generation
// run would, and reports a refusal as data instead of failing.
import * as wf from '@temporalio/workflow';
import type { GrantActivities, RecordGrantRequest } from '../../src/contracts/grants';

const { recordGrant } = wf.proxyActivities<GrantActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '100 milliseconds', maximumAttempts: 5 },
});

export type RecordGrantProbeResult =
  | { ok: true; tool: string }
  | { ok: false; type: string | null; nonRetryable: boolean; retryState: string | null; message: string };

export async function recordGrantProbe(request: RecordGrantRequest): Promise<RecordGrantProbeResult> {
  try {
    const grant = await recordGrant(request);
    return { ok: true, tool: grant.tool };
  } catch (error) {
    if (error instanceof wf.ActivityFailure && error.cause instanceof wf.ApplicationFailure) {
      return {
        ok: false,
        type: error.cause.type ?? null,
        nonRetryable: error.cause.nonRetryable === true,
        retryState: error.retryState ?? null,
        message: error.cause.message,
      };
    }
    throw error;
  }
}
