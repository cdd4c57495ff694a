// MCP clients of one worker process: connections per configured server, opened on first use, reused by
// every run, dropped when they close (a crashed server is started again by the next call) and closed when
// the worker shuts down. Everything that reaches a server goes through here, from activities only.
//
// A tool call leases a connection of its own while it runs (a second concurrent call to the same server
// opens a second connection, up to MAX_CONNECTIONS_PER_SERVER): MCP does not say which call a server's
// `elicitation/create` belongs to, but a connection with one call in flight does.
import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ElicitRequestSchema,
  type CallToolResult,
  type ElicitRequest,
  type ElicitResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '../../agent-config/schema';
import { expandEnvReferences, expandRecord } from './env';

/** Default time to start a server and initialize the session (`initTimeout` in the config). */
export const DEFAULT_MCP_INIT_TIMEOUT_MS = 30_000;
/** Default time one tool call may take without progress (`timeout` in the config). */
export const DEFAULT_MCP_CALL_TIMEOUT_MS = 120_000;
/** The `_meta` key that carries a call's idempotency key to the server (stable across retries). */
export const IDEMPOTENCY_META_KEY = 'io.temporal-hitl/idempotency-key';

const CLIENT_INFO = { name: 'temporal-hitl', version: '0.1.0' };
/** Connections one server may have at once; more concurrent calls share them (and cannot elicit). */
export const MAX_CONNECTIONS_PER_SERVER = 8;
/** An extra connection (beyond the first) idle this long is closed. */
export const IDLE_CONNECTION_MS = 60_000;
/** Longest timer Node accepts: the SDK's own request timeout is replaced by the manager's call timer. */
const NO_SDK_TIMEOUT_MS = 2_147_483_647;

/** A call that went `timeout` ms without a result or progress (time spent waiting for a person excluded). */
export class McpCallTimeoutError extends Error {
  constructor(
    readonly server: string,
    readonly timeoutMs: number,
  ) {
    super(`MCP server "${server}" did not answer within ${timeoutMs} ms (timeout)`);
    this.name = 'McpCallTimeoutError';
  }
}

/** What a server asks the user during a call (`elicitation/create`), as the manager hands it on. */
export interface McpElicitation {
  server: string;
  params: ElicitRequest['params'];
}

/** Answers an elicitation (the run pauses for a person); `signal` aborts when the server gives up on it. */
export type McpElicitationHandler = (elicitation: McpElicitation, signal: AbortSignal) => Promise<ElicitResult>;

/** The call a leased connection runs: where its elicitations go, and its timer to stop while a person answers. */
interface CallInFlight {
  onElicitation?: McpElicitationHandler;
  pauseTimer: () => void;
  resumeTimer: () => void;
}

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
  /** Tool calls in flight on this connection, and the one call when there is exactly one. */
  calls: number;
  call?: CallInFlight;
  idleTimer?: NodeJS.Timeout;
}

export interface McpCallOptions {
  signal?: AbortSignal;
  idempotencyKey?: string;
  /** Called on every progress notification (the activity heartbeats). */
  onProgress?: () => void;
  /** Answers the server's elicitation requests during this call; without it they are cancelled at once. */
  onElicitation?: McpElicitationHandler;
}

export class McpManager {
  readonly #servers: () => Readonly<Record<string, McpServerConfig>>;
  readonly #env: NodeJS.ProcessEnv;
  readonly #pools = new Map<string, Connection[]>();
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
    const connection = await this.#connect(server, 'any');
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
   * Calls one tool on a connection of its own. Server errors (JSON-RPC errors, a closed connection, a
   * timeout) are thrown; a result with `isError: true` is returned as the server sent it. Aborting `signal`
   * sends `notifications/cancelled`. The call timeout restarts on progress and stops while an elicitation
   * waits for a person.
   */
  async callTool(
    server: string,
    name: string,
    args: Record<string, unknown>,
    options: McpCallOptions = {},
  ): Promise<CallToolResult> {
    const connection = await this.#connect(server, 'lease');
    const timeoutMs = this.config(server)?.timeout ?? DEFAULT_MCP_CALL_TIMEOUT_MS;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const pauseTimer = () => clearTimeout(timer);
    const resumeTimer = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new McpCallTimeoutError(server, timeoutMs)), timeoutMs);
    };
    const outer = options.signal;
    const forwardAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted === true) forwardAbort();
    else outer?.addEventListener('abort', forwardAbort, { once: true });
    const call: CallInFlight = {
      pauseTimer,
      resumeTimer,
      ...(options.onElicitation ? { onElicitation: options.onElicitation } : {}),
    };
    if (connection.calls === 1) connection.call = call;
    resumeTimer();
    const onProgress = options.onProgress;
    try {
      const result = await connection.client.callTool(
        {
          name,
          arguments: args,
          ...(options.idempotencyKey !== undefined
            ? { _meta: { [IDEMPOTENCY_META_KEY]: options.idempotencyKey } }
            : {}),
        },
        undefined,
        {
          timeout: NO_SDK_TIMEOUT_MS,
          signal: controller.signal,
          onprogress: () => {
            resumeTimer();
            onProgress?.();
          },
        },
      );
      return result as CallToolResult;
    } catch (error) {
      // The SDK rejects an aborted request with its own McpError: our timer's reason is the one to tell.
      const reason: unknown = controller.signal.reason;
      throw outer?.aborted !== true && reason instanceof McpCallTimeoutError ? reason : error;
    } finally {
      pauseTimer();
      outer?.removeEventListener('abort', forwardAbort);
      this.#release(server, connection);
    }
  }

  /** Process ids of a stdio server's open connections (tests kill them to simulate a crash). */
  pids(server: string): number[] {
    return (this.#pools.get(server) ?? []).flatMap((connection) =>
      connection.transport instanceof StdioClientTransport && connection.transport.pid !== null
        ? [connection.transport.pid]
        : [],
    );
  }

  /** The process id of a stdio server's first open connection. */
  pid(server: string): number | undefined {
    return this.pids(server)[0];
  }

  /** Closes every connection (stdio servers are stopped); later calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const connections = [...this.#pools.values()].flat();
    this.#pools.clear();
    await Promise.allSettled(connections.map((connection) => this.#closeConnection(connection)));
  }

  #initTimeout(server: string): number {
    return this.config(server)?.initTimeout ?? DEFAULT_MCP_INIT_TIMEOUT_MS;
  }

  /**
   * A ready connection to `server`: for `lease`, one with no call in flight when there is one (or a new one
   * while the server has fewer than MAX_CONNECTIONS_PER_SERVER), counted as busy until `#release`; for `any`,
   * the first open connection.
   */
  async #connect(server: string, use: 'lease' | 'any'): Promise<Connection> {
    if (this.#closed) throw new McpUnavailableError(server, `MCP server "${server}": the worker is shutting down`);
    const config = this.config(server);
    if (config === undefined) {
      throw new McpUnavailableError(server, `MCP server "${server}" is not configured (mcpServers)`);
    }
    const key = createHash('sha256').update(JSON.stringify(config)).digest('hex');
    const pool = this.#pool(server, key);
    let connection =
      use === 'any'
        ? pool[0]
        : (pool.find((candidate) => candidate.calls === 0) ??
          (pool.length >= MAX_CONNECTIONS_PER_SERVER
            ? pool.reduce((least, candidate) => (candidate.calls < least.calls ? candidate : least))
            : undefined));
    if (!connection) {
      connection = this.#open(server, config, key);
      pool.push(connection);
    }
    if (use === 'lease') {
      connection.calls += 1;
      clearTimeout(connection.idleTimer);
      // A shared connection cannot tell whose call a server's elicitation belongs to.
      if (connection.calls > 1) connection.call = undefined;
    }
    try {
      await connection.ready;
    } catch (error) {
      if (use === 'lease') connection.calls -= 1;
      this.#drop(server, connection);
      throw new McpUnavailableError(server, `MCP server "${server}" is unavailable: ${messageOf(error)}`, {
        cause: error,
      });
    }
    return connection;
  }

  /** The server's open connections with the current settings (closed and outdated ones are dropped). */
  #pool(server: string, key: string): Connection[] {
    const pool = this.#pools.get(server) ?? [];
    const current = pool.filter((connection) => !connection.closed && connection.key === key);
    for (const stale of pool) if (!current.includes(stale)) void this.#closeConnection(stale);
    this.#pools.set(server, current);
    return current;
  }

  /** Ends a call's lease; an extra connection left idle is closed after IDLE_CONNECTION_MS. */
  #release(server: string, connection: Connection): void {
    connection.calls -= 1;
    connection.call = undefined;
    if (connection.calls > 0 || connection.closed) return;
    const pool = this.#pools.get(server) ?? [];
    if (pool.indexOf(connection) <= 0) return;
    connection.idleTimer = setTimeout(() => {
      if (connection.calls === 0) this.#drop(server, connection);
    }, IDLE_CONNECTION_MS);
    connection.idleTimer.unref();
  }

  #drop(server: string, connection: Connection): void {
    const pool = this.#pools.get(server);
    if (pool?.includes(connection)) pool.splice(pool.indexOf(connection), 1);
    void this.#closeConnection(connection);
  }

  /** Hands a server's elicitation to the one call in flight on its connection; otherwise it is cancelled. */
  async #elicit(
    server: string,
    connection: Connection,
    request: ElicitRequest,
    signal: AbortSignal,
  ): Promise<ElicitResult> {
    const call = connection.calls === 1 ? connection.call : undefined;
    if (call?.onElicitation === undefined) return { action: 'cancel' };
    call.pauseTimer();
    try {
      return await call.onElicitation({ server, params: request.params }, signal);
    } finally {
      if (connection.call === call) call.resumeTimer();
    }
  }

  #open(server: string, config: McpServerConfig, key: string): Connection {
    // Elicitation in both modes; the activity pauses the run for a person.
    const client = new Client(CLIENT_INFO, { capabilities: { elicitation: { form: {}, url: {} } } });
    let transport: Transport;
    try {
      transport = this.#transport(config);
    } catch (error) {
      // A missing ${ENV}: fails every use of this server until the environment has it.
      transport = failingTransport(error);
    }
    const connection: Connection = { key, client, transport, ready: Promise.resolve(), closed: false, calls: 0 };
    client.onclose = () => {
      connection.closed = true;
      clearTimeout(connection.idleTimer);
      const pool = this.#pools.get(server);
      if (pool?.includes(connection)) pool.splice(pool.indexOf(connection), 1);
    };
    client.onerror = () => {
      // Transport errors also reject the requests they concern; the connection is dropped on close.
    };
    client.setRequestHandler(ElicitRequestSchema, (request, extra) =>
      this.#elicit(server, connection, request, extra.signal),
    );
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
    clearTimeout(connection.idleTimer);
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
