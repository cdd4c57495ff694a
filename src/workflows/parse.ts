// What the workflow parses from outside (run input, the configuration from the worker, update and signal
// arguments, tool arguments it handles itself): the fast path first (src/fast-parse: zod's exact output for
// an input zod accepts), zod itself, loaded lazily, for everything else, so every refusal and its message
// are zod's. The two agree by construction (the descriptions are derived from the schemas) and by test
// (test/unit/fast-parse.test.ts compares them over valid inputs and their mutations).
import type { z } from 'zod';
import type {
  AskUserQuestionArgs,
  AwaitPendingActionRequest,
  ContinuedState,
  ElicitationRequest,
  NormalizedRunInput,
  ParsedResolution,
  Refusal,
  RunConfig,
} from '../contracts';
import { jsonLimitProblem, MAX_RESOLUTION_CHARS } from '../contracts/json-limits';
import { isInlineRunInput } from '../contracts/values';
import { DESCRIPTIONS } from '../fast-parse/descriptions';
import { fastParse } from '../fast-parse/interpret';
import type { DescribedSchemaName } from '../fast-parse/roots';
import { zodContracts } from './zod-contracts';

/** A parsed value, or why it was refused (zod's issues as one line, see `describeIssues`). */
export type Parsed<T> = { success: true; data: T } | { success: false; problem: string };

function parse<T>(
  name: DescribedSchemaName,
  raw: unknown,
  slow: (contracts: ReturnType<typeof zodContracts>) => z.ZodSafeParseResult<T>,
): Parsed<T> {
  // The description is derived from the schema whose output type is T (src/fast-parse/roots.ts).
  const fast = fastParse(DESCRIPTIONS[name], raw);
  return fast !== undefined ? { success: true, data: fast.value as T } : withZod(slow);
}

/** zod's own parse (zod loaded on first use), its refusal as one line. */
function withZod<T>(parse: (contracts: ReturnType<typeof zodContracts>) => z.ZodSafeParseResult<T>): Parsed<T> {
  const contracts = zodContracts();
  const parsed = parse(contracts);
  return parsed.success ? parsed : { success: false, problem: contracts.describeIssues(parsed.error) };
}

/** The run's input, with the schema of its kind (inline when it has `model`, else agent). */
export function parseRunInput(raw: unknown): Parsed<NormalizedRunInput> {
  return parse<NormalizedRunInput>(isInlineRunInput(raw) ? 'inlineRunInput' : 'agentRunInput', raw, (contracts) =>
    contracts.parseRunInput(raw),
  );
}

export function parseRunConfig(raw: unknown): Parsed<RunConfig> {
  return parse('runConfig', raw, (contracts) => contracts.RunConfigSchema.safeParse(raw));
}

export function parseAwaitPendingActionRequest(raw: unknown): Parsed<AwaitPendingActionRequest> {
  return parse('awaitPendingActionRequest', raw, (contracts) =>
    contracts.AwaitPendingActionRequestSchema.safeParse(raw),
  );
}

export function parseAskUserQuestionArgs(raw: unknown): Parsed<AskUserQuestionArgs> {
  return parse('askUserQuestionArgs', raw, (contracts) => contracts.AskUserQuestionArgsSchema.safeParse(raw));
}

export function parseElicitationRequest(raw: unknown): Parsed<ElicitationRequest> {
  return parse('elicitationRequest', raw, (contracts) => contracts.ElicitationRequestSchema.safeParse(raw));
}

/** The state a run continued as new carries (once per continuation: zod, no fast path). */
export function parseContinuedState(raw: unknown): Parsed<ContinuedState> {
  return withZod((contracts) => contracts.ContinuedStateSchema.safeParse(raw));
}

/**
 * An untrusted resolution, as `parseResolution` of src/contracts/resolution.ts parses it (size and depth
 * first, without recursion, then the schema); refusals are that function's, word for word.
 */
export function parseResolution(
  raw: unknown,
): { ok: true; resolution: ParsedResolution } | { ok: false; refusal: Refusal } {
  if (jsonLimitProblem(raw, MAX_RESOLUTION_CHARS, 'The resolution') === undefined) {
    const fast = fastParse(DESCRIPTIONS.resolution, raw);
    if (fast !== undefined) return { ok: true, resolution: fast.value as ParsedResolution };
  }
  return zodContracts().parseResolution(raw);
}

/** Shape check alone: what the update validator runs, so malformed payloads never reach history. */
export function checkResolutionShape(raw: unknown): Refusal | null {
  const parsed = parseResolution(raw);
  return parsed.ok ? null : parsed.refusal;
}
