// Which remembered approvals (scope session / always) can take effect in a run. A grant turns only the
// policy's fallback (mode `default` / `dontAsk`) into allow: it never beats a deny or an explicit `ask`
// entry (of the agent or of the run's `tighten`). Offering "don't ask again" for such a tool would store a
// grant that silently does nothing, so the API tells the console which tools a grant can help, and why not.
import { isGrpcServiceError } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { z } from 'zod';
import type { HitlClient } from '../client';
import {
  inlineRunConfig,
  InlineRunInputSchema,
  isInlineRunInput,
  RunConfigSchema,
  type RunConfig,
  type TightenRules,
  type ToolPolicy,
} from '../contracts';
import { evaluateRunPolicy, matchesToolPattern } from '../policy';

/** Whether approving `tool` with a remembered scope would stop later calls from asking, and why not. */
export const GrantOfferSchema = z.object({
  scopes: z.array(z.enum(['session', 'always'])).describe('the remembered scopes worth offering (empty: only once)'),
  why: z.string().optional().describe('why a remembered approval would not take effect'),
});
export type GrantOffer = z.infer<typeof GrantOfferSchema>;

/**
 * The grant offer of one tool under a run's policy and tightening. `fromAnnotations`: the `ask` entries the
 * MCP annotations added to the policy (`RunConfig.policyFromAnnotations.ask`), named as such in `why`.
 */
export function grantOfferFor(
  tool: string,
  policy: ToolPolicy,
  tighten: TightenRules | undefined,
  fromAnnotations: readonly string[] = [],
): GrantOffer {
  const withGrant = evaluateRunPolicy(tool, policy, { grants: new Set([tool]), ...(tighten ? { tighten } : {}) });
  if (withGrant.decision === 'allow') return { scopes: ['session', 'always'] };
  switch (withGrant.rule) {
    case 'ask': {
      const pattern = policy.ask.find((p) => matchesToolPattern(p, tool)) ?? tool;
      if (pattern === tool && fromAnnotations.includes(tool)) {
        return {
          scopes: [],
          why: `the agent's policy asks for ${tool} every time: its MCP annotations make it destructive (as they do when the server gives none) and the agent follows them (mcpAnnotations: follow); a remembered approval never overrides it`,
        };
      }
      return {
        scopes: [],
        why: `the agent's policy asks for ${tool} every time (ask: "${pattern}"); a remembered approval never overrides it`,
      };
    }
    case 'tightenAsk': {
      const pattern = tighten?.ask.find((p) => matchesToolPattern(p, tool)) ?? tool;
      return {
        scopes: [],
        why: `this run asks for ${tool} every time (tighten.ask: "${pattern}"); a remembered approval never overrides it`,
      };
    }
    default:
      return { scopes: [], why: `${tool} is not allowed by a remembered approval in this run (${withGrant.rule})` };
  }
}

/** Grant offers for every tool of the run's configuration. */
export function grantOffersOf(
  config: Pick<RunConfig, 'tools' | 'policy' | 'tighten' | 'policyFromAnnotations'>,
): Record<string, GrantOffer> {
  const fromAnnotations = config.policyFromAnnotations?.ask ?? [];
  return Object.fromEntries(
    config.tools.map((tool) => [tool, grantOfferFor(tool, config.policy, config.tighten, fromAnnotations)]),
  );
}

const RESOLVE_AGENT_CONFIG_ACTIVITY = 'resolveAgentConfig';
/** The agent is resolved by the run's first activity; its result lies within the first few events. */
const HISTORY_PAGE_SIZE = 50;
const MAX_PAGES = 4;

/**
 * The configuration the run decides with, as pinned in its current execution: an inline run's own input;
 * an agent run's `ContinuedState.config` (after continue-as-new) or the result of its `resolveAgentConfig`
 * activity. Undefined when it cannot be read (not resolved yet, unreadable input).
 */
export async function readPinnedRunConfig(hitl: HitlClient, runId: string): Promise<RunConfig | undefined> {
  const client = hitl.client;
  const converter = client.options.loadedDataConverter;
  let nextPageToken: Uint8Array | undefined;
  let scheduledId: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    let response;
    try {
      response = await client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId: runId },
        maximumPageSize: HISTORY_PAGE_SIZE,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
    } catch (error) {
      if (isGrpcServiceError(error)) return undefined;
      throw error;
    }
    for (const event of response.history?.events ?? []) {
      const started = event.workflowExecutionStartedEventAttributes;
      if (started) {
        const payloads = started.input?.payloads;
        const input: unknown = await decodeFromPayloadsAtIndex(converter, 0, payloads);
        if (isInlineRunInput(input)) {
          const parsed = InlineRunInputSchema.safeParse(input);
          return parsed.success ? inlineRunConfig(parsed.data) : undefined;
        }
        if ((payloads?.length ?? 0) > 1) {
          const continued: unknown = await decodeFromPayloadsAtIndex(converter, 1, payloads);
          const config = RunConfigSchema.safeParse((continued as { config?: unknown } | null)?.config);
          if (config.success) return config.data;
        }
      }
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name === RESOLVE_AGENT_CONFIG_ACTIVITY) scheduledId = String(event.eventId);
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed && scheduledId !== undefined && String(completed.scheduledEventId) === scheduledId) {
        const result: unknown = await decodeFromPayloadsAtIndex(converter, 0, completed.result?.payloads);
        const config = RunConfigSchema.safeParse(result);
        return config.success ? config.data : undefined;
      }
    }
    nextPageToken = response.nextPageToken?.length ? response.nextPageToken : undefined;
    if (!nextPageToken) return undefined;
  }
  return undefined;
}
