// MCP clients of one worker process: one connection per configured server, opened on first use, reused by
// every run, dropped when it closes (a crashed server is started again by the next call) and closed when
// the worker shuts down. Everything that reaches a server goes through here, from activities only.
import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '../../agent-config/schema';
import { expandEnvReferences, expandRecord } from './env';

/** Default time to start a server and initialize the session (`initTimeout` in the config). */
export const DEFAULT_MCP_INIT_TIMEOUT_MS = 30_000;
/** Default time one tool call may take without progress (`timeout` in the config). */
export const DEFAULT_MCP_CALL_TIMEOUT_MS = 120_000;
/** The `_meta` key that carries a call's idempotency key to the server (stable across retries). */
export const IDEMPOTENCY_META_KEY = 'io.temporal-hitl/idempotency-key';

const CLIENT_INFO = { name: 'temporal-hitl', version: '0.1.0' };

/** A server the configuration does not name, or one that cannot be reached. */
export class McpUnavailableError extends Error {
  constructor(
    readonly server: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'McpUnavailableError';
  }
}

interface Connection {
  /** Hash of the server's settings: an edited entry gets a new connection. */
  key: string;
  client: Client;
  transport: Transport;
  ready: Promise<void>;
  closed: boolean;
  tools?: Tool[];
}

export interface McpCallOptions {
  signal?: AbortSignal;
  idempotencyKey?: string;
  /** Called on every progress notification (the activity heartbeats). */
  onProgress?: () => void;
}

export class McpManager {
  readonly #servers: () => Readonly<Record<string, McpServerConfig>>;
  readonly #env: NodeJS.ProcessEnv;
  readonly #connections = new Map<string, Connection>();
  #closed = false;

  /** `servers` is read on every use: the configuration file may change while the worker runs. */
  constructor(servers: () => Readonly<Record<string, McpServerConfig>>, options: { env?: NodeJS.ProcessEnv } = {}) {
    this.#servers = servers;
    this.#env = options.env ?? process.env;
  }

  /** The settings of `server`, or undefined when the configuration does not name it. */
  config(server: string): McpServerConfig | undefined {
    const servers = this.#servers();
    return Object.hasOwn(servers, server) ? servers[server] : undefined;
  }

  /** The server's tools (every page), listed once per connection. */
  async listTools(server: string): Promise<Tool[]> {
    const connection = await this.#connect(server);
    if (connection.tools) return connection.tools;
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await connection.client.listTools(cursor !== undefined ? { cursor } : undefined, {
        timeout: this.#initTimeout(server),
      });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    connection.tools = tools;
    return tools;
  }

  /** The tool's input schema as the server lists it now (used to check edited arguments). */
  async tool(server: string, name: string): Promise<Tool | undefined> {
    return (await this.listTools(server)).find((tool) => tool.name === name);
  }

  /**
   * Calls one tool. Server errors (JSON-RPC errors, a closed connection, a timeout) are thrown; a result with
   * `isError: true` is returned as the server sent it. Aborting `signal` sends `notifications/cancelled`.
   */
  async callTool(
    server: string,
    name: string,
    args: Record<string, unknown>,
    options: McpCallOptions = {},
  ): Promise<CallToolResult> {
    const connection = await this.#connect(server);
    const timeout = this.config(server)?.timeout ?? DEFAULT_MCP_CALL_TIMEOUT_MS;
    const onProgress = options.onProgress;
    const result = await connection.client.callTool(
      {
        name,
        arguments: args,
        ...(options.idempotencyKey !== undefined ? { _meta: { [IDEMPOTENCY_META_KEY]: options.idempotencyKey } } : {}),
      },
      undefined,
      {
        timeout,
        resetTimeoutOnProgress: true,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(onProgress ? { onprogress: () => onProgress() } : {}),
      },
    );
    return result as CallToolResult;
  }

  /** The process id of a stdio server's current connection (tests kill it to simulate a crash). */
  pid(server: string): number | undefined {
    const transport = this.#connections.get(server)?.transport;
    return transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
  }

  /** Closes every connection (stdio servers are stopped); later calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.allSettled(connections.map((connection) => this.#closeConnection(connection)));
  }

  #initTimeout(server: string): number {
    return this.config(server)?.initTimeout ?? DEFAULT_MCP_INIT_TIMEOUT_MS;
  }

  async #connect(server: string): Promise<Connection> {
    if (this.#closed) throw new McpUnavailableError(server, `MCP server "${server}": the worker is shutting down`);
    const config = this.config(server);
    if (config === undefined) {
      throw new McpUnavailableError(server, `MCP server "${server}" is not configured (mcpServers)`);
    }
    const key = createHash('sha256').update(JSON.stringify(config)).digest('hex');
    let connection = this.#connections.get(server);
    if (connection && (connection.closed || connection.key !== key)) {
      this.#connections.delete(server);
      void this.#closeConnection(connection);
      connection = undefined;
    }
    if (!connection) {
      connection = this.#open(server, config, key);
      this.#connections.set(server, connection);
    }
    try {
      await connection.ready;
    } catch (error) {
      if (this.#connections.get(server) === connection) this.#connections.delete(server);
      void this.#closeConnection(connection);
      throw new McpUnavailableError(server, `MCP server "${server}" is unavailable: ${messageOf(error)}`, {
        cause: error,
      });
    }
    return connection;
  }

  #open(server: string, config: McpServerConfig, key: string): Connection {
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    let transport: Transport;
    try {
      transport = this.#transport(config);
    } catch (error) {
      // A missing ${ENV}: fails every use of this server until the environment has it.
      transport = failingTransport(error);
    }
    const connection: Connection = { key, client, transport, ready: Promise.resolve(), closed: false };
    client.onclose = () => {
      connection.closed = true;
      if (this.#connections.get(server) === connection) this.#connections.delete(server);
    };
    client.onerror = () => {
      // Transport errors also reject the requests they concern; the connection is dropped on close.
    };
    connection.ready = client.connect(transport, { timeout: this.#initTimeout(server) });
    connection.ready.catch(() => undefined);
    return connection;
  }

  #transport(config: McpServerConfig): Transport {
    const type = config.type ?? (config.command !== undefined ? 'stdio' : 'streamable-http');
    if (type === 'stdio') {
      return new StdioClientTransport({
        command: config.command!,
        args: (config.args ?? []).map((arg) => expandEnvReferences(arg, this.#env)),
        env: { ...getDefaultEnvironment(), ...expandRecord(config.env, this.#env) },
        stderr: 'ignore',
      });
    }
    const url = new URL(expandEnvReferences(config.url!, this.#env));
    const requestInit = { headers: expandRecord(config.headers, this.#env) };
    return type === 'sse'
      ? new SSEClientTransport(url, { requestInit })
      : new StreamableHTTPClientTransport(url, { requestInit });
  }

  async #closeConnection(connection: Connection): Promise<void> {
    connection.closed = true;
    try {
      await connection.client.close();
    } catch {
      // already gone
    }
  }
}

/** A transport whose start fails with `error` (settings that cannot be used, e.g. a missing variable). */
function failingTransport(error: unknown): Transport {
  return {
    start: () => Promise.reject(error instanceof Error ? error : new Error(String(error))),
    send: () => Promise.reject(new Error('not connected')),
    close: () => Promise.resolve(),
  };
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
