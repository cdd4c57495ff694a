import type { RunInput } from '../contracts';

/** Scripted runs for trying the product without a model. */
export const DEMOS = {
  /** Writes `old-report.txt` (allowed), asks to delete it (paused), then lists the sandbox. */
  'delete-file': (userId: string): RunInput => ({
    userId,
    conversationId: 'demo-conversation',
    agentId: 'demo-agent',
    messages: [{ role: 'user', content: 'Clean up: delete old-report.txt from my files.' }],
    model: {
      provider: 'scripted',
      script: [
        {
          content: 'Let me make sure the report exists first.',
          tool_calls: [
            { id: 'call_1', name: 'write_file', arguments: { path: 'old-report.txt', content: 'Q3 numbers\n' } },
          ],
        },
        {
          content: 'Now deleting it — this needs your approval.',
          tool_calls: [{ id: 'call_2', name: 'delete_file', arguments: { path: 'old-report.txt' } }],
        },
        { content: 'Checking what is left.', tool_calls: [{ id: 'call_3', name: 'list_files', arguments: {} }] },
        { content: 'Done: old-report.txt is gone.' },
      ],
    },
    tools: ['write_file', 'delete_file', 'list_files'],
    policy: {
      enabled: true,
      mode: 'default',
      allow: ['write_file', 'list_files'],
      ask: ['delete_*'],
      reason: '{tool} changes your files and needs approval',
    },
  }),
} satisfies Record<string, (userId: string) => RunInput>;

export type DemoName = keyof typeof DEMOS;
export const DEMO_NAMES = Object.keys(DEMOS) as DemoName[];
