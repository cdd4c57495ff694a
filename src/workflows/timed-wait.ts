// `wf.condition(fn, timeout)` for the run's timed waits (the waiter's bound, the approval's expiry), with the
// same commands and about half the promises: the SDK's promise hook formats a stack trace for every promise a
// workflow creates, and keeps it while the promise is pending (a paused run's waits are).
import * as wf from '@temporalio/workflow';

export interface TimedWaitOptions {
  /** The timer's summary (the Web UI shows it). */
  summary: string;
  /** The run's cancellation does not reach this wait (as inside `CancellationScope.nonCancellable`). */
  shielded?: boolean;
}

/**
 * True once `fn()` holds, false when `timeoutMs` passes first. Like `wf.condition(fn, timeoutMs)` it starts
 * its timer at once, checks `fn` at once and at every activation, cancels the timer when `fn` holds first, and
 * rejects with the `CancelledFailure` when the enclosing scope is cancelled (never, when `shielded`).
 * Histories recorded with either replay with the other: the commands and their order are the same.
 */
export function conditionWithin(fn: () => boolean, timeoutMs: number, options: TimedWaitOptions): Promise<boolean> {
  // The scope that owns the timer and the condition; cancelling it cancels the timer (if still running) and
  // drops the condition. Shielded: its parent is a scope of its own that nothing cancels.
  const scope = new wf.CancellationScope({
    cancellable: true,
    ...(options.shielded ? { parent: new wf.CancellationScope({ cancellable: false }) } : {}),
  });
  let timer!: Promise<void>;
  let held!: Promise<void>;
  // `run` only sets the scope while its callback runs (synchronously); the timer is started first, as the SDK does.
  void scope.run(() => {
    timer = wf.sleep(timeoutMs, { summary: options.summary });
    held = wf.condition(fn);
    return Promise.resolve();
  });
  return new Promise<boolean>((resolve, reject) => {
    // The first to settle wins; cancelling the scope then rejects the other, which nothing waits for. Cancel
    // before resolving: the timer's cancel command must come before whatever the caller does next, as it does
    // with `wf.condition`.
    held.then(() => {
      scope.cancel();
      resolve(true);
    }, reject);
    timer.then(() => {
      scope.cancel();
      resolve(false);
    }, reject);
  });
}
