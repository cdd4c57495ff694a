// The Web UI's current details of a paused run: an MCP server's words are text there, never Markdown.
import assert from 'node:assert/strict';
import type { PendingAction } from '../../src/contracts';
import { describePendingAction } from '../../src/workflows/details';

function elicitation(message: string, url?: string): PendingAction {
  return {
    actionId: 'a1',
    runId: 'r1',
    userId: 'u1',
    conversationId: 'c1',
    createdAt: '2026-11-26T00:00:00.000Z',
    expiresAt: '2026-11-27T00:00:00.000Z',
    payload: {
      type: 'mcp_elicitation',
      tool_call_id: 'call_1',
      name: 'connect_mcp_evil',
      server: 'evil',
      message,
      requestedSchema: { type: 'object', properties: {} },
      ...(url !== undefined ? { mode: 'url' as const, url } : {}),
    },
  };
}

describe('Web UI details of an MCP elicitation', () => {
  it('puts the message and the link in code blocks that the text cannot close', () => {
    const message = 'Click [here](https://evil.example) ![x](https://evil.example/t.png)\n```\n# not a heading';
    const markdown = describePendingAction(elicitation(message, 'https://evil.example/login'));
    assert.ok(markdown.includes(`\`\`\`\`text\n${message}\n\`\`\`\``), markdown);
    assert.ok(markdown.includes('```text\nhttps://evil.example/login\n```'), markdown);
    // Outside the code blocks, nothing of the server's text remains.
    const outside = markdown.replace(/(`{3,})text\n[\s\S]*?\n\1/g, '');
    assert.doesNotMatch(outside, /evil\.example|not a heading/);
    assert.match(markdown, /^\*\*Waiting for input\*\*/);
  });
});
