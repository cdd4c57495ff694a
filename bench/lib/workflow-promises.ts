// Counts what the SDK's stack-trace support costs a workflow, deterministically: the promises workflow code
// creates and the stack frames captured for them. For every promise created in a workflow context the SDK's
// promise hook captures a stack trace and maps each frame through the bundle's source map (its stack-trace
// queries use them), so these two numbers move with the workflow thread's CPU but, unlike CPU time on a
// shared machine, are the same on every run of the same code and history.
import { promiseHooks } from 'node:v8';

export interface WorkflowPromiseCounts {
  /** Promises created in a workflow context (a `vm` context: their constructor is not this context's `Promise`). */
  promises: number;
  /** Stack frames of the stack traces prepared for errors of a workflow context (the SDK's hook makes one per promise). */
  frames: number;
}

type PrepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => unknown;

/**
 * Counts from now until the returned function is called, which stops counting and gives the counts. Only
 * meaningful where workflows run on this thread (replay workers do: they run in debug mode), and after the SDK
 * installed its handlers (after a first replay), since it is the SDK's `Error.prepareStackTrace` that is
 * wrapped here, for this count only.
 */
export function countWorkflowPromises(): () => WorkflowPromiseCounts {
  const counts: WorkflowPromiseCounts = { promises: 0, frames: 0 };
  const stopHook = promiseHooks.onInit((promise) => {
    if (!(promise instanceof Promise)) counts.promises += 1;
  }) as () => void;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- V8 calls it unbound too
  const prepare: PrepareStackTrace | undefined = Error.prepareStackTrace;
  if (prepare !== undefined) {
    const counting: PrepareStackTrace = (error, frames) => {
      if (!(error instanceof Error)) counts.frames += frames.length;
      return prepare(error, frames);
    };
    Error.prepareStackTrace = counting;
  }
  return () => {
    stopHook();
    if (prepare !== undefined) Error.prepareStackTrace = prepare;
    return { ...counts };
  };
}
