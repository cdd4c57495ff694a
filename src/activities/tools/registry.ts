import { z } from 'zod';
import { describeIssues, truncateToolResult, type JsonObject, type ToolResult } from '../../contracts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What a tool gets besides its arguments. */
export interface ToolContext {
  /** Stable per run and tool call; writing tools pass it to `runOnce` so a retry does not repeat them. */
  idempotencyKey: string;
  runId: string;
  toolCallId: string;
  /** Whom the call acts for. */
  userId: string;
  conversationId: string;
  /** Absolute root of the file tools: the user's own folder (`userSandboxDir`), never the shared root. */
  sandboxDir: string;
  /** Records liveness (Temporal activity heartbeat) so long tools can be cancelled and timed out. */
  heartbeat?: () => void;
  /** Aborted when the activity is cancelled. */
  signal?: AbortSignal;
}

export interface ToolDefinition<S extends z.ZodType = z.ZodType> {
  /** `^[A-Za-z0-9_-]{1,64}$` (what OpenAI-style function calling accepts). */
  name: string;
  description: string;
  argsSchema: S;
  /** Returns a string, or a JSON value that is stringified for the model. */
  execute(args: z.output<S>, ctx: ToolContext): Promise<string | JsonValue>;
}

/** A tool as the model sees it. */
export interface ToolDescription {
  name: string;
  description: string;
  /** The arguments' zod schema (the AI SDK turns it into JSON Schema). */
  argsSchema: z.ZodType;
  /** JSON Schema of the arguments, as the model receives it. */
  inputJsonSchema: Record<string, unknown>;
}

/** Identity function that infers `args` from `argsSchema`. */
export function defineTool<S extends z.ZodType>(definition: ToolDefinition<S>): ToolDefinition<S> {
  return definition;
}

/**
 * Throw this (or any error with `transient: true`) from a tool when the failure is temporary
 * (network blip, lock held…): the activity fails and Temporal retries it. Any other error becomes an
 * error tool result that goes back to the model, and the run goes on.
 */
export class TransientToolError extends Error {
  readonly transient = true as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientToolError';
  }
}

export function isTransientToolError(error: unknown): boolean {
  return (
    error instanceof TransientToolError ||
    (typeof error === 'object' && error !== null && (error as { transient?: unknown }).transient === true)
  );
}

/**
 * Arguments that are not a JSON object (e.g. a model that sent broken JSON) are carried in the tool
 * call as `{ [INVALID_ARGUMENTS_KEY]: <raw text> }`, so the approver sees them and the registry
 * refuses them instead of running the tool with defaults.
 */
export const INVALID_ARGUMENTS_KEY = '__hitl_invalid_arguments';

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class ToolRegistry {
  readonly #tools = new Map<string, ToolDefinition>();
  /** JSON schemas are computed once, at registration. */
  readonly #descriptions = new Map<string, ToolDescription>();

  /** Adds a tool; a second tool with the same name is a programming error. */
  register<S extends z.ZodType>(definition: ToolDefinition<S>): this {
    if (!TOOL_NAME.test(definition.name)) {
      throw new Error(`Invalid tool name ${JSON.stringify(definition.name)}: use ${TOOL_NAME.source}`);
    }
    if (this.#tools.has(definition.name)) throw new Error(`Tool "${definition.name}" is already registered`);
    const inputJsonSchema = argsJsonSchema(definition.argsSchema);
    if (inputJsonSchema.type !== 'object') {
      throw new Error(`Tool "${definition.name}": argsSchema must describe a JSON object (use z.object)`);
    }
    this.#tools.set(definition.name, definition);
    this.#descriptions.set(definition.name, {
      name: definition.name,
      description: definition.description,
      argsSchema: definition.argsSchema,
      inputJsonSchema,
    });
    return this;
  }

  get(name: string): ToolDefinition | undefined {
    return this.#tools.get(name);
  }

  has(name: string): boolean {
    return this.#tools.has(name);
  }

  list(): ToolDefinition[] {
    return [...this.#tools.values()];
  }

  /** The tools named in `names` (all if omitted) that are registered, in the order of `names`. */
  describe(names?: readonly string[]): ToolDescription[] {
    const selected = names === undefined ? [...this.#descriptions.keys()] : [...new Set(names)];
    return selected
      .map((name) => this.#descriptions.get(name))
      .filter((description): description is ToolDescription => description !== undefined)
      .map((description) => ({ ...description, inputJsonSchema: structuredClone(description.inputJsonSchema) }));
  }

  /**
   * Runs one tool call and returns its result for the model. Unknown tools, invalid arguments and
   * tool errors become `status: "error"` results; only transient errors and cancellation are thrown
   * (Temporal retries the former and reports the latter), so a bad tool call never fails a run.
   */
  /**
   * Runs one call. The result is cut to MAX_TOOL_RESULT_CHARS for the model, unless `fullResult` (the content
   * store keeps the whole result and cuts only what the model reads).
   */
  async execute(
    name: string,
    args: JsonObject,
    ctx: ToolContext,
    options: { fullResult?: boolean } = {},
  ): Promise<ToolResult> {
    const tool = this.#tools.get(name);
    if (tool === undefined) return errorResult(`Unknown tool "${name}"`);

    if (isRecord(args) && INVALID_ARGUMENTS_KEY in args) {
      return errorResult(`Invalid arguments for "${name}": the arguments are not a JSON object`);
    }
    let parsed: z.ZodSafeParseResult<unknown>;
    try {
      parsed = await tool.argsSchema.safeParseAsync(args); // async: refinements may be async
    } catch (error) {
      return errorResult(`Invalid arguments for "${name}": ${errorMessage(error)}`);
    }
    if (!parsed.success) return errorResult(`Invalid arguments for "${name}": ${describeIssues(parsed.error)}`);

    let output: string | JsonValue;
    try {
      output = await tool.execute(parsed.data, ctx);
    } catch (error) {
      if (isTransientToolError(error) || isCancellation(error) || ctx.signal?.aborted === true) throw error;
      return errorResult(`Tool "${name}" failed: ${errorMessage(error)}`);
    }

    let content: string;
    try {
      content = typeof output === 'string' ? output : (JSON.stringify(output) ?? 'null');
    } catch (error) {
      return errorResult(`Tool "${name}" failed: its result is not JSON-serializable (${errorMessage(error)})`);
    }
    return { status: 'success', content: options.fullResult === true ? content : truncateToolResult(content) };
  }
}

/** JSON Schema (draft-07) of what a caller may send, i.e. the schema's input side. */
function argsJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const jsonSchema: Record<string, unknown> = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
  });
  delete jsonSchema.$schema; // some OpenAI-compatible servers refuse the meta-schema key
  return jsonSchema;
}

function errorResult(message: string): ToolResult {
  return { status: 'error', content: truncateToolResult(message) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCancellation(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'CancelledFailure');
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : String(error);
}
