// MCP tool names: LibreChat's convention `<tool>_mcp_<server>`.
import { z } from 'zod';

export const MCP_SEPARATOR = '_mcp_';

/** A configured MCP server's name (a key of `mcpServers`). */
export const MCP_SERVER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** What a pinned tool spec says about the MCP tool behind it. */
export const McpToolRefSchema = z.object({
  server: z.string().regex(MCP_SERVER_NAME),
  /** The tool's name on its server. */
  tool: z.string().min(1).max(256),
});
export type McpToolRef = z.infer<typeof McpToolRefSchema>;

export function mcpToolName(tool: string, server: string): string {
  return `${tool}${MCP_SEPARATOR}${server}`;
}

/** `write_file_mcp_fs` → `{ tool: "write_file", server: "fs" }` (the last `_mcp_` splits); else undefined. */
export function parseMcpToolName(name: string): McpToolRef | undefined {
  const at = name.lastIndexOf(MCP_SEPARATOR);
  if (at <= 0) return undefined;
  const server = name.slice(at + MCP_SEPARATOR.length);
  if (!MCP_SERVER_NAME.test(server)) return undefined;
  return { tool: name.slice(0, at), server };
}
