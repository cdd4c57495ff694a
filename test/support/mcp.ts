// The official MCP reference servers as the tests run them: over stdio (started by the worker's MCP manager),
// behind a tee that logs what the client sends, or as separate processes over Streamable HTTP and SSE, and a
// small HTTP gate that lets requests through to such a server only with the expected header.
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, spawnServer, type ChildHandle } from './processes';

export const FS_SERVER = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
export const EVERYTHING_SERVER = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
/** `node MCP_STDIO_TEE <log file> <command> [args…]`: see the script. */
export const MCP_STDIO_TEE = require.resolve('./mcp-stdio-tee.cjs');

export interface HttpMcpServer {
  child: ChildHandle;
  port: number;
  /** The MCP endpoint: `/mcp` (Streamable HTTP) or `/sse` (SSE). */
  path: string;
}

/** server-everything as a process of its own, over Streamable HTTP or SSE, once it listens. */
export async function startEverythingServer(transport: 'streamableHttp' | 'sse'): Promise<HttpMcpServer> {
  const port = await freePort();
  const child = await spawnServer(
    `server-everything (${transport})`,
    process.execPath,
    [EVERYTHING_SERVER, transport],
    { PORT: String(port) },
    port,
  );
  return { child, port, path: transport === 'sse' ? '/sse' : '/mcp' };
}

/** Where `withDirectClient` connects: a fresh stdio server-everything, or a server over HTTP. */
export type DirectTarget = { stdio: 'everything' } | { type: 'sse' | 'streamable-http'; url: string };

/**
 * Runs `fn` with an MCP client of the test's own (not the worker's: what the server says, seen independently),
 * closed afterwards (a stdio server stops with it).
 */
export async function withDirectClient<T>(target: DirectTarget, fn: (client: Client) => Promise<T>): Promise<T> {
  const transport =
    'stdio' in target
      ? new StdioClientTransport({ command: process.execPath, args: [EVERYTHING_SERVER, 'stdio'], stderr: 'ignore' })
      : target.type === 'sse'
        ? new SSEClientTransport(new URL(target.url))
        : new StreamableHTTPClientTransport(new URL(target.url));
  const client = new Client({ name: 'hitl-test', version: '0' }, { capabilities: {} });
  await client.connect(transport);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** One JSON-RPC message the client sent, as the tee logged it. */
export interface LoggedMessage {
  jsonrpc?: string;
  id?: number | string;
  method?: string;
  params?: Record<string, unknown>;
}

/** The messages in a tee's log so far (none when the file does not exist yet). */
export async function readTeeLog(file: string): Promise<LoggedMessage[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LoggedMessage);
}

export interface HeaderGate {
  port: number;
  /** Requests let through (they carried the header) and refused (401). */
  passed: number;
  refused: number;
  close(): Promise<void>;
}

/**
 * An HTTP reverse proxy on 127.0.0.1 in front of `targetPort`: a request whose `header` is exactly `value`
 * is forwarded as it is (streamed both ways, so SSE works); any other gets 401 and never reaches the target.
 */
export async function startHeaderGate(targetPort: number, header: string, value: string): Promise<HeaderGate> {
  const name = header.toLowerCase();
  const server = http.createServer((req, res) => {
    if (req.headers[name] !== value) {
      gate.refused++;
      req.resume();
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`${header} missing or wrong`);
      return;
    }
    gate.passed++;
    const upstream = http.request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const gate: HeaderGate = {
    port: (server.address() as AddressInfo).port,
    passed: 0,
    refused: 0,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return gate;
}
