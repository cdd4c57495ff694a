/**
 * Demo runs for trying the product without a model: each names an agent of the shipped
 * `hitl.config.yaml` whose model is scripted (the worker must run with HITL_ENABLE_SCRIPTED=1, as
 * `npm start` does) and the first message of the conversation.
 */
export const DEMOS = {
  /** Agent `files-demo`: writes `old-report.txt` (allowed), asks to delete it (paused), then lists the files. */
  'delete-file': { agentId: 'files-demo', message: 'Clean up: delete old-report.txt from my files.' },
} as const satisfies Record<string, { agentId: string; message: string }>;

export type DemoName = keyof typeof DEMOS;
export const DEMO_NAMES = Object.keys(DEMOS) as DemoName[];
