// The schemas the workflow parses on its hot path, by the name their descriptions carry in ./descriptions.ts.
// Add one here, run `npm run generate:fast-parse`, and parse with it in src/workflows/parse.ts.
import {
  AgentRunInputSchema,
  AskUserQuestionArgsSchema,
  AwaitPendingActionRequestSchema,
  ElicitationRequestSchema,
  InlineRunInputSchema,
  ResolutionSchema,
  RunConfigSchema,
} from '../contracts';

export const DESCRIBED_SCHEMAS = {
  inlineRunInput: InlineRunInputSchema,
  agentRunInput: AgentRunInputSchema,
  runConfig: RunConfigSchema,
  resolution: ResolutionSchema,
  awaitPendingActionRequest: AwaitPendingActionRequestSchema,
  askUserQuestionArgs: AskUserQuestionArgsSchema,
  elicitationRequest: ElicitationRequestSchema,
} as const;
export type DescribedSchemaName = keyof typeof DESCRIBED_SCHEMAS;
