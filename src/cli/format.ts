// Plain-text views for the `hitl` command.
import type { RunSummary } from '../client';
import type {
  ChatMessage,
  ElicitationField,
  ElicitationRequestedSchema,
  Grant,
  McpElicitationPayload,
  PendingAction,
  RunState,
} from '../contracts';

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
    lines.push(...formatElicitation(pending.payload));
  } else {
    const questions = pending.payload.questions ?? [pending.payload.question];
    for (const q of questions) {
      lines.push(`  ${q.id ? `${q.id}: ` : ''}${q.question}${q.multiSelect ? '  (several answers)' : ''}`);
      for (const option of q.options ?? []) lines.push(`      - ${option.label} (${option.value})`);
    }
  }
  return lines.join('\n');
}

/**
 * Text from outside (an MCP server, a model) made safe for a terminal: control characters (escape sequences
 * included) and bidirectional overrides are shown as `\uXXXX` instead of being sent; line breaks are kept
 * only with `keepLineBreaks`.
 */
export function printable(text: string, keepLineBreaks = false): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const unsafe =
      (code < 0x20 && !(keepLineBreaks && code === 0x0a)) ||
      (code >= 0x7f && code <= 0x9f) ||
      code === 0x2028 ||
      code === 0x2029 ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069);
    out += unsafe ? `\\u${code.toString(16).padStart(4, '0')}` : char;
  }
  return out;
}

/** A value as it is written in the JSON of `hitl elicit --accept` (and safe to print). */
function jsonValue(value: unknown): string {
  return printable(JSON.stringify(value) ?? 'null');
}

/** The values a single- or multi-select field allows, with their titles; undefined for free input. */
function choiceValues(field: ElicitationField): { value: string; title?: string }[] | undefined {
  const titled = (values: readonly string[], titles: readonly (string | undefined)[] = []) =>
    values.map((value, i) => (titles[i] !== undefined ? { value, title: titles[i] } : { value }));
  if (field.type === 'string') {
    if (field.enum) return titled(field.enum, field.enumNames);
    if (field.oneOf)
      return field.oneOf.map((o) => (o.title !== undefined ? { value: o.const, title: o.title } : { value: o.const }));
    return undefined;
  }
  if (field.type === 'array') {
    const items = field.items as { enum?: string[]; anyOf?: { const: string; title?: string }[] };
    if (items.anyOf)
      return items.anyOf.map((o) => (o.title !== undefined ? { value: o.const, title: o.title } : { value: o.const }));
    return titled(items.enum ?? []);
  }
  return undefined;
}

/** The allowed values as the terminal shows them: `"eu" (Europe)`. */
function choices(field: ElicitationField): string[] | undefined {
  return choiceValues(field)?.map(({ value, title }) =>
    title !== undefined && title !== value ? `${jsonValue(value)} (${printable(title)})` : jsonValue(value),
  );
}

/** "from 1 to 5", "at least 1", "at most 5", or undefined. */
function range(min: number | undefined, max: number | undefined, unit = ''): string | undefined {
  if (min !== undefined && max !== undefined) return `${min} to ${max}${unit}`;
  if (min !== undefined) return `at least ${min}${unit}`;
  if (max !== undefined) return `at most ${max}${unit}`;
  return undefined;
}

const FORMAT_NAMES = { email: 'email address', uri: 'URI', date: 'YYYY-MM-DD', 'date-time': 'RFC 3339 date and time' };

/** What one field takes, in words: `text (email address), required, default "a@b.c"`. */
export function describeElicitationField(field: ElicitationField, required: boolean): string {
  const parts: string[] = [];
  const allowed = choices(field);
  switch (field.type) {
    case 'string':
      if (allowed) parts.push(`one of ${allowed.join(', ')}`);
      else {
        parts.push(field.format ? `text (${FORMAT_NAMES[field.format]})` : 'text');
        const length = range(field.minLength, field.maxLength, ' characters');
        if (length) parts.push(length);
      }
      break;
    case 'number':
    case 'integer': {
      const bounds = range(field.minimum, field.maximum);
      parts.push(bounds ? `${field.type} ${bounds.startsWith('at') ? bounds : `from ${bounds}`}` : field.type);
      break;
    }
    case 'boolean':
      parts.push('true or false');
      break;
    case 'array': {
      parts.push(`a list of any of ${allowed?.join(', ') ?? 'nothing'}`);
      const count = range(field.minItems, field.maxItems, ' choices');
      if (count) parts.push(count);
      break;
    }
  }
  if (required) parts.push('required');
  if (field.default !== undefined) parts.push(`default ${jsonValue(field.default)}`);
  return parts.join(', ');
}

/** The fields of a form, one line each: name, what it takes, its title and description. */
export function formatElicitationFields(schema: ElicitationRequestedSchema): string[] {
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(schema.properties);
  if (entries.length === 0) return ["(no fields: accept with --accept '{}')"];
  const width = Math.max(...entries.map(([name]) => printable(name).length));
  return entries.map(([name, field]) => {
    const about = [field.title, field.description]
      .filter((text): text is string => text !== undefined && text !== '')
      .map((text) => printable(text));
    const line = `${printable(name).padEnd(width)}  ${describeElicitationField(field, required.has(name))}`;
    return about.length > 0 ? `${line}  — ${about.join(': ')}` : line;
  });
}

/** An elicitation as the terminal shows it: who asks, the message, then the fields to fill in or the URL. */
export function formatElicitation(payload: McpElicitationPayload): string[] {
  const { server, name, tool_call_id: id, message, mode, url, requestedSchema } = payload;
  const lines = [`  ${printable(id)}  ${printable(name)}  — MCP server "${printable(server)}" asks:`];
  lines.push(indent(printable(message, true), '      '));
  if (mode === 'url') {
    lines.push(`      open this link yourself (hitl never opens it): ${printable(url ?? '(no URL given)')}`);
  } else {
    lines.push('      fields:', ...formatElicitationFields(requestedSchema).map((line) => `        ${line}`));
  }
  return lines;
}

/**
 * A `--accept` value to start from: every field with its default, else a placeholder of its kind (the first
 * choice, `0`, `false`, `"…"`).
 */
export function elicitationTemplate(schema: ElicitationRequestedSchema): Record<string, unknown> {
  const template: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.properties)) {
    if (field.default !== undefined) {
      template[name] = field.default;
      continue;
    }
    const first = choiceValues(field)?.[0]?.value;
    switch (field.type) {
      case 'string':
        template[name] = first ?? '…';
        break;
      case 'number':
      case 'integer':
        template[name] = field.minimum ?? 0;
        break;
      case 'boolean':
        template[name] = false;
        break;
      case 'array':
        template[name] = (choiceValues(field) ?? []).slice(0, field.minItems ?? 0).map((choice) => choice.value);
        break;
    }
  }
  return template;
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
  if (pending.payload.type === 'mcp_elicitation') {
    const accept =
      pending.payload.mode === 'url'
        ? '--done'
        : `--accept ${shellWord(JSON.stringify(elicitationTemplate(pending.payload.requestedSchema)))}`;
    return [
      'answer with:',
      `  ${invocation} elicit ${tail} ${accept}`,
      `  ${invocation} elicit ${tail} --decline`,
      `  ${invocation} elicit ${tail} --cancel`,
    ].join('\n');
  }
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
