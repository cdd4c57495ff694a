// MCP tools as runs see them: listed into pinned tool specs, called into tool results.
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import {
  mcpToolName,
  truncateToolResult,
  type JsonObject,
  type McpToolRef,
  type ToolResult,
  type ToolSpec,
} from '../../contracts';
import type { BinaryBlock } from '../../transcript';
import { INVALID_ARGUMENTS_KEY, type ToolContext } from '../tools/registry';
import {
  DEFAULT_MCP_INIT_TIMEOUT_MS,
  McpCallTimeoutError,
  McpUnavailableError,
  messageOf,
  type McpElicitationHandler,
  type McpManager,
} from './manager';
import { schemaViolations } from './validate';

/** What OpenAI-style function calling accepts as a name; MCP tools whose full name does not fit are left out. */
const MODEL_TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_DESCRIPTION_CHARS = 8000;

/** The server's tools as pinned specs: `<tool>_mcp_<server>`, description, input schema, annotations. */
export async function listMcpToolSpecs(manager: McpManager, server: string): Promise<ToolSpec[]> {
  const tools = await manager.listTools(server);
  return tools.flatMap((tool) => {
    const name = mcpToolName(tool.name, server);
    if (!MODEL_TOOL_NAME.test(name)) return [];
    return [toolSpec(tool, server, name)];
  });
}

function toolSpec(tool: Tool, server: string, name: string): ToolSpec {
  const annotations = tool.annotations ?? {};
  const title = tool.title ?? annotations.title;
  const hints = {
    ...(title !== undefined ? { title: title.slice(0, 256) } : {}),
    ...(typeof annotations.readOnlyHint === 'boolean' ? { readOnlyHint: annotations.readOnlyHint } : {}),
    ...(typeof annotations.destructiveHint === 'boolean' ? { destructiveHint: annotations.destructiveHint } : {}),
    ...(typeof annotations.idempotentHint === 'boolean' ? { idempotentHint: annotations.idempotentHint } : {}),
    ...(typeof annotations.openWorldHint === 'boolean' ? { openWorldHint: annotations.openWorldHint } : {}),
  };
  const inputSchema = JSON.parse(JSON.stringify(tool.inputSchema)) as JsonObject;
  delete inputSchema.$schema; // some OpenAI-compatible servers refuse the meta-schema key
  return {
    name,
    description: (tool.description ?? title ?? tool.name).slice(0, MAX_DESCRIPTION_CHARS),
    inputSchema,
    ...(Object.keys(hints).length > 0 ? { annotations: hints } : {}),
    mcp: { server, tool: tool.name },
  };
}

/** Why `args` cannot be sent to the tool, or undefined when they fit its schema. */
export function invalidMcpArguments(name: string, inputSchema: JsonObject, args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null || Array.isArray(args) || INVALID_ARGUMENTS_KEY in args) {
    return `Invalid arguments for "${name}": the arguments are not a JSON object`;
  }
  const problems = schemaViolations(inputSchema, args);
  return problems === undefined ? undefined : `Invalid arguments for "${name}": ${problems}`;
}

/** Keeps one binary block of a result (in the run's content store) and returns its content reference. */
export type KeepBinary = (block: BinaryBlock) => Promise<string>;

export interface ExecuteMcpToolOptions {
  /** Return the whole text (the content store keeps it; the model reads the first MAX_TOOL_RESULT_CHARS). */
  fullResult?: boolean;
  /**
   * Where binary blocks (images, audio, blob resources) go; the text then names each by its reference. Without
   * it they are a short mention only (runs that keep no transcript in the content store).
   */
  keepBinary?: KeepBinary;
  /** Answers the server's elicitation requests during the call (the run pauses); without it they are cancelled. */
  onElicitation?: McpElicitationHandler;
}

/**
 * Runs one MCP tool call. The arguments are checked against the tool's schema as the server lists it; every
 * failure — server down or crashed, timeout, JSON-RPC error, `isError: true` — is an error result for the
 * model. Only a cancellation of the activity is thrown.
 */
export async function executeMcpTool(
  manager: McpManager,
  name: string,
  ref: McpToolRef,
  args: JsonObject,
  ctx: ToolContext,
  options: ExecuteMcpToolOptions = {},
): Promise<ToolResult> {
  const cut = (text: string) => (options.fullResult === true ? text : truncateToolResult(text));
  try {
    const tool = await manager.tool(ref.server, ref.tool);
    if (tool === undefined)
      return error(`Tool "${name}" failed: server "${ref.server}" no longer offers "${ref.tool}"`);
    const invalid = invalidMcpArguments(name, tool.inputSchema, args);
    if (invalid !== undefined) return error(invalid);
    let result: CallToolResult;
    try {
      result = await manager.callTool(ref.server, ref.tool, args, {
        idempotencyKey: ctx.idempotencyKey,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(ctx.heartbeat ? { onProgress: ctx.heartbeat } : {}),
        ...(options.onElicitation ? { onElicitation: options.onElicitation } : {}),
      });
    } catch (err) {
      if (ctx.signal?.aborted !== true && err instanceof McpCallTimeoutError) {
        return error(
          `Tool "${name}" failed: timed out: MCP server "${ref.server}" sent no result and no progress within ` +
            `${err.timeoutMs} ms (timeout); the request was cancelled`,
        );
      }
      throw err;
    }
    const kept = options.keepBinary !== undefined ? await keepBinaryBlocks(result, options.keepBinary) : [];
    const text = callResultText(result, kept);
    return result.isError === true
      ? { status: 'error', content: cut(`Tool "${name}" failed: ${text}`) }
      : { status: 'success', content: cut(text) };
  } catch (err) {
    // The SDK rejects an aborted request with an McpError; the worker reports the activity as cancelled only
    // when it ends with the cancellation itself.
    if (ctx.signal?.aborted === true) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : err;
    if (err instanceof McpUnavailableError && isTimeout(err.cause)) {
      const ms = timeoutOf(err.cause) ?? manager.config(ref.server)?.initTimeout ?? DEFAULT_MCP_INIT_TIMEOUT_MS;
      return error(
        `Tool "${name}" failed: MCP server "${err.server}" is unavailable: it did not start and initialize within ` +
          `${ms} ms (initTimeout)`,
      );
    }
    return error(`Tool "${name}" failed: ${messageOf(err)}`);
  }
}

/** The SDK's request timeout (`timeout` of a call, `initTimeout` of the initialize request). */
function isTimeout(err: unknown): err is McpError {
  return err instanceof McpError && err.code === (ErrorCode.RequestTimeout as number);
}

/** The timeout the SDK reports with a timed-out request (`data.timeout`), if any. */
function timeoutOf(err: McpError): number | undefined {
  const data: unknown = err.data;
  if (typeof data !== 'object' || data === null || !('timeout' in data)) return undefined;
  return typeof data.timeout === 'number' ? data.timeout : undefined;
}

function error(message: string): ToolResult {
  return { status: 'error', content: truncateToolResult(message) };
}

/** What became of one binary block: kept under a content reference, or not kept and why. */
export type KeptBinary = { ref: string } | { notKept: string };

/** The binary block of a result's content block, if it is one (an image, audio, a blob resource). */
function binaryBlock(block: NonNullable<CallToolResult['content']>[number]): BinaryBlock | undefined {
  switch (block.type) {
    case 'image':
    case 'audio':
      return { type: block.type, mimeType: block.mimeType, data: block.data };
    case 'resource': {
      const resource = block.resource;
      if (!('blob' in resource) || typeof resource.blob !== 'string') return undefined;
      return {
        type: 'resource',
        uri: resource.uri,
        ...(resource.mimeType !== undefined ? { mimeType: resource.mimeType } : {}),
        data: resource.blob,
      };
    }
    default:
      return undefined;
  }
}

/**
 * Keeps every binary block of the result with `keep`, one after the other; the answer is indexed like
 * `result.content` (undefined for blocks that are not binary). A block that cannot be kept (too large for the
 * store, not base64, the store failing) is reported as not kept: the call has happened and is not repeated.
 */
export async function keepBinaryBlocks(result: CallToolResult, keep: KeepBinary): Promise<(KeptBinary | undefined)[]> {
  const kept: (KeptBinary | undefined)[] = [];
  for (const block of result.content ?? []) {
    const binary = binaryBlock(block);
    if (binary === undefined) {
      kept.push(undefined);
      continue;
    }
    try {
      kept.push({ ref: await keep(binary) });
    } catch (err) {
      kept.push({ notKept: messageOf(err) });
    }
  }
  return kept;
}

/** Size in bytes of base64 `data`. */
function decodedBytes(data: string): number {
  return Buffer.byteLength(data, 'base64');
}

/** How the text names a binary block: by its content reference, why it was not kept, or not at all. */
function binaryNote(kept: KeptBinary | undefined): string {
  if (kept === undefined) return 'not shown';
  return 'ref' in kept ? `content ref ${kept.ref}` : `not kept: ${kept.notKept}`;
}

/**
 * A call's result as the text the model reads: text blocks as they are, embedded text resources with their
 * URI, binary content (images, audio, blobs) as a short mention — with its content reference when `kept`
 * (indexed like `result.content`, see `keepBinaryBlocks`) says where it is — and structured content as JSON
 * when no text block carries it.
 */
export function callResultText(result: CallToolResult, kept: readonly (KeptBinary | undefined)[] = []): string {
  const parts: string[] = [];
  for (const [index, block] of (result.content ?? []).entries()) {
    switch (block.type) {
      case 'text':
        parts.push(block.text);
        break;
      case 'image':
      case 'audio':
        parts.push(`[${block.type} ${block.mimeType}, ${decodedBytes(block.data)} bytes, ${binaryNote(kept[index])}]`);
        break;
      case 'resource': {
        const resource = block.resource;
        const mime = resource.mimeType ? ` (${resource.mimeType})` : '';
        if ('text' in resource && typeof resource.text === 'string') {
          parts.push(`[resource ${resource.uri}]\n${resource.text}`);
        } else if ('blob' in resource && typeof resource.blob === 'string' && kept[index] !== undefined) {
          parts.push(
            `[resource ${resource.uri}${mime}, ${decodedBytes(resource.blob)} bytes, ${binaryNote(kept[index])}]`,
          );
        } else {
          parts.push(`[resource ${resource.uri}${mime}, binary, not shown]`);
        }
        break;
      }
      case 'resource_link':
        parts.push(`[resource link ${block.uri}${block.name ? ` "${block.name}"` : ''}]`);
        break;
      default:
        parts.push(JSON.stringify(block));
    }
  }
  if (result.structuredContent !== undefined && parts.length === 0)
    parts.push(JSON.stringify(result.structuredContent));
  return parts.join('\n');
}
