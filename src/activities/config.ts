import { existsSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import type { AgentConfigSource } from '../agent-config';
import type { ContentStore } from '../content-store';
import { describeIssues } from '../contracts';
import { McpManager } from './mcp/manager';

const REDACTED = '[redacted]';

/**
 * A credential held by the worker. It prints, stringifies, inspects and JSON-serializes as
 * `[redacted]`, so logging the whole config (or an object that holds it) cannot leak it; only
 * `reveal()` gives the value, and only the provider client calls it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  /** Replaces every occurrence of the secret in `text` (for error messages from third parties). */
  redact(text: string): string {
    return this.#value.length > 0 ? text.split(this.#value).join(REDACTED) : text;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

const OptionalNonEmpty = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

export const ActivitiesConfigSchema = z.object({
  /** Root of the demo file tools; every path is confined to it. Created on first use. */
  sandboxDir: z
    .string()
    .min(1)
    .transform((dir) => path.resolve(dir)),
  model: z
    .object({
      /** Base URL of an OpenAI-compatible endpoint, e.g. `https://api.openai.com/v1`. */
      baseUrl: OptionalNonEmpty.pipe(z.url({ protocol: /^https?$/ }).optional()),
      apiKey: z
        .union([z.instanceof(Secret), z.string()])
        .optional()
        .transform((key) =>
          key === undefined || key instanceof Secret ? key : key === '' ? undefined : new Secret(key),
        ),
      /** Model used when the run input does not name one. */
      defaultModel: OptionalNonEmpty,
      /** Provider name as the AI SDK reports it (logs, telemetry). */
      providerName: OptionalNonEmpty.pipe(
        z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,64}$/)
          .optional(),
      ),
    })
    .prefault({}),
  /**
   * Accept the deterministic `scripted` model provider (demos and tests only: `HITL_ENABLE_SCRIPTED=1`).
   * Without it a run naming `scripted` fails `InvalidInput`, whatever its input says.
   */
  enableScripted: z.boolean().default(false),
  /** The configuration file's agents and model endpoints; default: from the environment, on first use. */
  agents: z
    .custom<AgentConfigSource>(
      (value) =>
        typeof value === 'object' && value !== null && typeof (value as AgentConfigSource).current === 'function',
      'expected an AgentConfigSource',
    )
    .optional(),
  /** Where message contents and tool results are kept; default: the process's store from `HITL_CONTENT_*`. */
  contentStore: z
    .custom<ContentStore>(
      (value) => typeof value === 'object' && value !== null && typeof (value as ContentStore).put === 'function',
      'expected a ContentStore',
    )
    .optional(),
  /** The MCP clients; default: one manager per `createActivities`, on the configuration file's `mcpServers`. */
  mcp: z.instanceof(McpManager).optional(),
});
/** What callers pass: the key may be a plain string. */
export type ActivitiesConfigInput = z.input<typeof ActivitiesConfigSchema>;
/** The validated config: the key is a `Secret`. */
export type ActivitiesConfig = z.output<typeof ActivitiesConfigSchema>;

/** Validates a config; the error names the bad fields, never their values. */
export function parseActivitiesConfig(input: ActivitiesConfigInput): ActivitiesConfig {
  const parsed = ActivitiesConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new Error(`Invalid activities configuration: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

const ENV_FIELD_NAMES: Record<string, string> = {
  sandboxDir: 'HITL_SANDBOX_DIR',
  'model.baseUrl': 'HITL_MODEL_BASE_URL',
  'model.apiKey': 'HITL_MODEL_API_KEY',
  'model.defaultModel': 'HITL_MODEL_NAME',
  'model.providerName': 'HITL_MODEL_PROVIDER_NAME',
  enableScripted: 'HITL_ENABLE_SCRIPTED',
};

/**
 * Reads the worker's activity configuration from the environment:
 *
 * - `HITL_SANDBOX_DIR`: root of the file tools (default `<repo>/.sandbox`)
 * - `HITL_MODEL_BASE_URL`: OpenAI-compatible endpoint (needed only by `provider: "openai-compatible"`)
 * - `HITL_MODEL_API_KEY`: its key (optional: local servers often need none)
 * - `HITL_MODEL_NAME`: default model name
 * - `HITL_MODEL_PROVIDER_NAME`: provider name for the AI SDK (default `openai-compatible`)
 * - `HITL_ENABLE_SCRIPTED`: `1` accepts the scripted demo provider (default: refused)
 *
 * The configuration file (`HITL_CONFIG`) is read by `createActivities` on first use, or passed as `agents`.
 */
export function loadActivitiesConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ActivitiesConfig {
  const parsed = ActivitiesConfigSchema.safeParse({
    sandboxDir: nonEmpty(env.HITL_SANDBOX_DIR) ?? defaultSandboxDir(),
    model: {
      baseUrl: env.HITL_MODEL_BASE_URL,
      apiKey: env.HITL_MODEL_API_KEY,
      defaultModel: env.HITL_MODEL_NAME,
      providerName: env.HITL_MODEL_PROVIDER_NAME,
    },
    enableScripted: flag(env.HITL_ENABLE_SCRIPTED),
  });
  if (!parsed.success) {
    // Issue paths are renamed to the variables; zod's messages do not quote the values.
    const fields = parsed.error.issues.map((issue) => {
      const key = issue.path.join('.');
      return `${ENV_FIELD_NAMES[key] ?? key}: ${issue.message}`;
    });
    throw new Error(`Invalid activities configuration in the environment: ${fields.join('; ')}`);
  }
  return parsed.data;
}

/** `<repo>/.sandbox`, where `<repo>` is the nearest ancestor of this file with a package.json. */
export function defaultSandboxDir(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, '.sandbox');
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve('.sandbox');
    dir = parent;
  }
}

/** `1`/`true`/`yes` (any case) is on; unset or empty is off; anything else is a mistake worth a message. */
function flag(value: string | undefined): boolean | string {
  const normalized = (value ?? '').trim().toLowerCase();
  if (normalized === '' || normalized === '0' || normalized === 'false' || normalized === 'no') return false;
  if (normalized === '1' || normalized === 'true' || normalized === 'yes') return true;
  return value ?? '';
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
