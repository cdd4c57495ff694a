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
import { INVALID_ARGUMENTS_KEY, type ToolContext } from '../tools/registry';
import {
  DEFAULT_MCP_CALL_TIMEOUT_MS,
  DEFAULT_MCP_INIT_TIMEOUT_MS,
  McpUnavailableError,
  messageOf,
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
  options: { fullResult?: boolean } = {},
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
      });
    } catch (err) {
      if (ctx.signal?.aborted !== true && isTimeout(err)) {
        const ms = timeoutOf(err) ?? manager.config(ref.server)?.timeout ?? DEFAULT_MCP_CALL_TIMEOUT_MS;
        return error(
          `Tool "${name}" failed: timed out: MCP server "${ref.server}" sent no result and no progress within ` +
            `${ms} ms (timeout); the request was cancelled`,
        );
      }
      throw err;
    }
    const text = callResultText(result);
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

/**
 * A call's result as the text the model reads: text blocks as they are, embedded text resources with their
 * URI, binary content (images, audio, blobs) as a short reference, and structured content as JSON when no
 * text block carries it.
 */
export function callResultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const block of result.content ?? []) {
    switch (block.type) {
      case 'text':
        parts.push(block.text);
        break;
      case 'image':
      case 'audio':
        parts.push(`[${block.type} ${block.mimeType}, ${Math.floor((block.data.length * 3) / 4)} bytes, not shown]`);
        break;
      case 'resource': {
        const resource = block.resource;
        parts.push(
          'text' in resource && typeof resource.text === 'string'
            ? `[resource ${resource.uri}]\n${resource.text}`
            : `[resource ${resource.uri}${resource.mimeType ? ` (${resource.mimeType})` : ''}, binary, not shown]`,
        );
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
