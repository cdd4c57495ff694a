// Markdown for the Temporal Web UI: the run's "current details" while it waits.
import type { PendingAction } from '../contracts';

/** Longest argument dump shown in current details; the full arguments are in the pending action. */
const MAX_ARGUMENTS_IN_DETAILS = 2000;

function formatArguments(args: unknown): string {
  const json = JSON.stringify(args, null, 2) ?? 'null';
  return json.length > MAX_ARGUMENTS_IN_DETAILS ? `${json.slice(0, MAX_ARGUMENTS_IN_DETAILS)}\n…` : json;
}

/** `text` as a fenced code block whose fence no run of backticks in the text can close. */
function asCodeBlock(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${text}\n${fence}`;
}

export function describePendingAction(pending: PendingAction): string {
  const lines = [`**Waiting for approval** · action \`${pending.actionId}\` · expires ${pending.expiresAt}`, ''];
  if (pending.payload.type === 'tool_approval') {
    for (const request of pending.payload.action_requests) {
      lines.push(
        `- \`${request.name}\` (\`${request.tool_call_id}\`)${request.description ? ` — ${request.description}` : ''}`,
      );
      lines.push('', '```json', formatArguments(request.arguments), '```', '');
    }
  } else if (pending.payload.type === 'ask_user_question') {
    lines.push(`- question (\`${pending.payload.tool_call_id}\`): ${pending.payload.question.question}`);
  } else {
    const { server, name, tool_call_id: id, message, mode, url } = pending.payload;
    // The server's words are shown as text (a code block), never as Markdown: no links or images from it.
    lines.push(`- MCP server \`${server}\` asks, during \`${name}\` (\`${id}\`):`, '', asCodeBlock(message));
    if (mode === 'url' && url !== undefined) lines.push('', 'Link to open:', '', asCodeBlock(url));
    else lines.push('', '```json', formatArguments(pending.payload.requestedSchema), '```', '');
    lines[0] = `**Waiting for input** · action \`${pending.actionId}\` · expires ${pending.expiresAt}`;
  }
  lines.push(`Resolve with update \`resolveAction\` (actionId \`${pending.actionId}\`).`);
  return lines.join('\n');
}
