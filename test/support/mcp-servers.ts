// The official reference MCP servers (dev dependencies) as `mcpServers` entries started over stdio by the
// worker's MCP manager: @modelcontextprotocol/server-filesystem on a folder, and server-everything.
export const FS_SERVER = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
export const EVERYTHING_SERVER = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');

/** A stdio entry that runs `script` with this Node; generous timeouts (a slow shared machine). */
export function stdioServer(script: string, ...args: string[]) {
  return { command: process.execPath, args: [script, ...args], initTimeout: 60_000, timeout: 60_000 };
}

/** server-filesystem, allowed to work in `root` only. */
export const fsServer = (root: string) => stdioServer(FS_SERVER, root);
/** server-everything: `echo`, `get-sum`, … (every tool read-only or additive, none destructive). */
export const everythingServer = () => stdioServer(EVERYTHING_SERVER, 'stdio');
