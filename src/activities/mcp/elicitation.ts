// The activity's half of an MCP elicitation: the server asks during a tool call; the activity tells its run
// (signal `requestElicitation`), the run pauses for a person, and the activity polls the run's answer (query
// `getElicitationResponse`) while it keeps the call and the connection open and heartbeats.
import type { Context } from '@temporalio/activity';
import { QueryNotRegisteredError, WorkflowNotFoundError } from '@temporalio/client';
import { ErrorCode, McpError, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import {
  ElicitationRequestedSchemaSchema,
  EMPTY_ELICITATION_SCHEMA,
  getElicitationResponseQuery,
  jsonLimitProblem,
  MAX_ELICITATION_MESSAGE_CHARS,
  MAX_ELICITATION_SCHEMA_CHARS,
  MAX_ELICITATION_URL_CHARS,
  requestElicitationSignal,
  describeIssues,
  type ElicitationRequest,
} from '../../contracts';
import type { McpElicitation, McpElicitationHandler } from './manager';

/** How often the activity asks its run for the answer: quickly at first, then once a second. */
const FIRST_POLL_MS = 200;
const MAX_POLL_MS = 1000;
/** How long the run may not know a request it was signalled before the activity gives up on it. */
const UNKNOWN_FOR_MS = 30_000;

/** The run a tool call belongs to, and the call. */
export interface ElicitingCall {
  runId: string;
  toolCallId: string;
}

/**
 * An elicitation handler for one tool call of one run. A request the run cannot show (a form outside MCP's
 * restricted schema, a link that is not http(s)) is refused to the server as invalid params.
 */
export function runElicitationHandler(activity: Context, call: ElicitingCall): McpElicitationHandler {
  let sequence = 0;
  return async (elicitation, serverSignal) => {
    sequence += 1;
    const info = activity.info;
    const request = elicitationRequest(elicitation, call, `${info.activityId}/${info.attempt}/${sequence}`);
    const signal = AbortSignal.any([serverSignal, activity.cancellationSignal]);
    const handle = activity.client.workflow.getHandle(call.runId);
    await handle.signal(requestElicitationSignal, request);
    const signalledAt = Date.now();
    for (let wait = FIRST_POLL_MS; ; wait = Math.min(MAX_POLL_MS, wait * 2)) {
      signal.throwIfAborted();
      try {
        const state = await handle.query(getElicitationResponseQuery, request.elicitationId);
        if (state.status === 'answered') return elicitResult(state.answer);
        if (state.status === 'unknown' && Date.now() - signalledAt > UNKNOWN_FOR_MS) return { action: 'cancel' };
      } catch (error) {
        // The run is gone (ended, or an old run without the query): nobody will answer.
        if (error instanceof WorkflowNotFoundError || error instanceof QueryNotRegisteredError) {
          return { action: 'cancel' };
        }
        // Anything else (the server busy, a worker restarting) is asked again.
      }
      await sleep(wait, signal);
    }
  };
}

/** The request as the run receives it: bounded, checked, in its own words. */
export function elicitationRequest(
  elicitation: McpElicitation,
  call: ElicitingCall,
  elicitationId: string,
): ElicitationRequest {
  const { params, server } = elicitation;
  const message = params.message.slice(0, MAX_ELICITATION_MESSAGE_CHARS);
  const base = { elicitationId, tool_call_id: call.toolCallId, server, message };
  if (params.mode === 'url') {
    const url = params.url;
    if (url.length > MAX_ELICITATION_URL_CHARS || !/^https?:\/\//i.test(url)) {
      throw new McpError(ErrorCode.InvalidParams, 'temporal-hitl shows only http(s) links of at most 4096 characters');
    }
    return { ...base, mode: 'url', url, requestedSchema: EMPTY_ELICITATION_SCHEMA };
  }
  const tooLarge = jsonLimitProblem(params.requestedSchema, MAX_ELICITATION_SCHEMA_CHARS, 'The requested schema');
  if (tooLarge !== undefined) throw new McpError(ErrorCode.InvalidParams, `temporal-hitl cannot ask this: ${tooLarge}`);
  const parsed = ElicitationRequestedSchemaSchema.safeParse(params.requestedSchema);
  if (!parsed.success) {
    throw new McpError(ErrorCode.InvalidParams, `temporal-hitl cannot ask this form: ${describeIssues(parsed.error)}`);
  }
  return { ...base, mode: 'form', requestedSchema: parsed.data };
}

function elicitResult(answer: {
  action: 'accept' | 'decline' | 'cancel';
  content?: Record<string, unknown>;
}): ElicitResult {
  return answer.action === 'accept' && answer.content !== undefined
    ? { action: 'accept', content: answer.content as ElicitResult['content'] }
    : { action: answer.action };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
