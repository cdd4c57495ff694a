// Plain-text views for the `hitl` command.
import type { RunSummary } from '../client';
import type { ChatMessage, Grant, PendingAction, RunState } from '../contracts';

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((line) => `${by}${line}`)
    .join('\n');
}

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatPending(pending: PendingAction): string {
  const lines = [`action ${pending.actionId}  (expires ${pending.expiresAt})`];
  if (pending.payload.type === 'tool_approval') {
    for (const request of pending.payload.action_requests) {
      const config = pending.payload.review_configs.find((c) => c.tool_call_id === request.tool_call_id);
      lines.push(
        `  ${request.tool_call_id}  ${request.name}${request.description ? `  — ${request.description}` : ''}`,
      );
      lines.push(indent(JSON.stringify(request.arguments, null, 2), '      '));
      if (config) lines.push(`      decisions: ${config.allowed_decisions.join(', ')}`);
    }
  } else if (pending.payload.type === 'mcp_elicitation') {
    const { server, name, tool_call_id: id, message, mode, url, requestedSchema } = pending.payload;
    lines.push(`  ${id}  ${name}  — MCP server "${server}" asks: ${message}`);
    if (mode === 'url' && url !== undefined) lines.push(`      open: ${url}`);
    else lines.push(indent(JSON.stringify(requestedSchema, null, 2), '      '));
  } else {
    const questions = pending.payload.questions ?? [pending.payload.question];
    for (const q of questions) {
      lines.push(`  ${q.id ? `${q.id}: ` : ''}${q.question}${q.multiSelect ? '  (several answers)' : ''}`);
      for (const option of q.options ?? []) lines.push(`      - ${option.label} (${option.value})`);
    }
  }
  return lines.join('\n');
}

export function formatRuns(runs: RunSummary[]): string {
  if (runs.length === 0) return 'no runs';
  return table([
    ['RUN', 'STATUS', 'USER', 'CONVERSATION', 'WAITING FOR', 'EXPIRES'],
    ...runs.map((r) => [
      r.runId,
      r.status ?? '?',
      r.userId ?? '?',
      r.conversationId ?? '?',
      r.pendingTools.join(',') || '-',
      r.expiresAt?.toISOString() ?? '-',
    ]),
  ]);
}

/**
 * The commands that decide `pending`, as the user can paste them: `<invocation> approve <run> --action <id>
 * --as <approver>` and the like. Naming the action means a command never decides a later action by accident.
 */
export function decisionHints(invocation: string, runId: string, pending: PendingAction, approver: string): string {
  const tail = `${runId} --action ${pending.actionId} --as ${shellWord(approver)}`;
  if (pending.payload.type !== 'tool_approval') {
    return `answer with: ${invocation} answer ${tail} "<your answer>"`;
  }
  const first = pending.payload.action_requests[0]?.tool_call_id ?? 'call_1';
  return [
    'decide with:',
    `  ${invocation} approve ${tail}`,
    `  ${invocation} reject ${tail} --reason "<why>"`,
    `  ${invocation} edit ${tail} --call ${shellWord(first)} --args '{"…": "…"}'`,
    `  ${invocation} respond ${tail} --call ${shellWord(first)} --text "<what the model gets instead>"`,
  ].join('\n');
}

/** A word a POSIX shell reads back as itself (quoted only when it has to be). */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The run's answer: the last assistant message with text, once the run has completed (before that, the
 * last assistant text is only a step on the way). From `getRunState().messages` as it is today.
 */
export function finalAnswer(state: Pick<RunState, 'status' | 'messages'>): string | undefined {
  if (state.status !== 'completed') return undefined;
  for (let i = state.messages.length - 1; i >= 0; i--) {
    const message = state.messages[i];
    if (message?.role === 'assistant' && message.content !== undefined && message.content.trim() !== '') {
      return message.content;
    }
  }
  return undefined;
}

export function formatRunState(runId: string, state: RunState): string {
  const lines = [`run ${runId}: ${state.status} (model calls: ${state.turn})${state.error ? ` — ${state.error}` : ''}`];
  if (state.modelRetry) {
    const { attempt, nextAttemptAt, lastError } = state.modelRetry;
    lines.push(`model unavailable, retrying (attempt ${attempt}) at ${nextAttemptAt}: ${lastError}`);
  }
  if (state.agentId !== undefined) {
    lines.push(`agent ${state.agentId}${state.configVersion !== undefined ? `  config ${state.configVersion}` : ''}`);
  }
  lines.push(state.pendingAction ? formatPending(state.pendingAction) : 'no pending action');
  const answer = finalAnswer(state);
  if (answer !== undefined) lines.push('final answer:', indent(answer, '  '));
  if (state.decisions.length > 0) {
    lines.push('audit log:');
    for (const d of state.decisions) {
      const what = d.refusal
        ? `${d.refusal.type}: ${d.refusal.message}`
        : d.grant
          ? `${d.grant.scope} grant of ${d.grant.tool}${d.message ? `: ${d.message}` : ''}`
          : (d.decisions ?? []).map((x) => `${x.tool_call_id}=${x.decision}`).join(' ');
      lines.push(
        `  ${d.at}  ${d.via.padEnd(6)} ${d.outcome.padEnd(9)} ${(d.approver ?? '-').padEnd(10)} ${what}`.trimEnd(),
      );
    }
  }
  return lines.join('\n');
}

export function formatGrants(grants: Grant[]): string {
  if (grants.length === 0) return 'no grants';
  return table([
    ['TOOL', 'SCOPE', 'CONVERSATION', 'GRANTED BY', 'AT', 'RUN'],
    ...grants.map((g) => [g.tool, g.scope, g.conversationId ?? '-', g.grantedBy, g.grantedAt, g.runId]),
  ]);
}

/** A transcript read from the store: one block per message, with its position. */
export function formatMessages(fromSeq: number, messages: readonly ChatMessage[], total: number): string {
  if (messages.length === 0) return `no messages from position ${fromSeq} (the transcript has ${total})`;
  const blocks = messages.map((message, index) => {
    const seq = fromSeq + index;
    switch (message.role) {
      case 'tool':
        return `#${seq} tool ${message.name} (${message.tool_call_id}) ${message.status}\n${indent(message.content, '    ')}`;
      case 'assistant': {
        const calls = (message.tool_calls ?? []).map(
          (call) => `    → ${call.name} (${call.id}) ${JSON.stringify(call.arguments)}`,
        );
        return [`#${seq} assistant`, ...(message.content ? [indent(message.content, '    ')] : []), ...calls].join(
          '\n',
        );
      }
      default:
        return `#${seq} ${message.role}\n${indent(message.content, '    ')}`;
    }
  });
  const end = fromSeq + messages.length;
  return [...blocks, `(${messages.length} of ${total} messages${end < total ? `; more from --from ${end}` : ''})`].join(
    '\n',
  );
}
