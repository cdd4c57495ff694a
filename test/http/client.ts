// Small HTTP and SSE helpers for the API tests: real fetch against a listening server; an in-memory
// agent configuration for the API and the worker.
import { createDefaultToolRegistry } from '../../src/activities';
import { parseConfig, staticConfigSource, type AgentConfigSource } from '../../src/agent-config';

/**
 * A configuration held in memory (what hitl.config.yaml would hold, as a value), validated like the file.
 * Give the same source to `buildApi({ agents })` and `startHarness({ agents })`.
 */
export function agentsFromConfig(value: unknown): AgentConfigSource {
  const knownTools = new Set(
    createDefaultToolRegistry()
      .list()
      .map((tool) => tool.name),
  );
  return staticConfigSource(parseConfig(value, { knownTools, file: 'test-agents.yaml' }));
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (no JSON encoding). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** One JSON request; the body of the answer is parsed as JSON (undefined when empty). */
export async function request<T>(
  baseUrl: string,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface SseEvent {
  id?: string;
  event: string;
  data: unknown;
}

export interface SseStream {
  status: number;
  contentType: string | null;
  /** Comment lines seen so far (heartbeats). */
  comments: string[];
  /** Resolves with the next event, or undefined when the stream ended. */
  next(timeoutMs?: number): Promise<SseEvent | undefined>;
  /** Reads to the end; every remaining event. */
  rest(timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
}

/** Opens an SSE stream with fetch and parses it (the subset of the format the server writes). */
export async function openSse(url: string, token?: string): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const comments: string[] = [];
  const queue: SseEvent[] = [];
  let buffer = '';
  let ended = false;
  // A read still pending after a timeout is reused by the next call, so no chunk is lost.
  let pendingRead: ReturnType<typeof reader.read> | undefined;

  const parseBlocks = () => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end < 0) return;
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: { id?: string; event?: string; data: string[] } = { data: [] };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comments.push(line.slice(1).trim());
        else if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: ')) event.data.push(line.slice(6));
      }
      if (event.event !== undefined || event.data.length > 0) {
        queue.push({
          ...(event.id !== undefined ? { id: event.id } : {}),
          event: event.event ?? 'message',
          data: JSON.parse(event.data.join('\n')) as unknown,
        });
      }
    }
  };

  const next = async (timeoutMs = 20_000): Promise<SseEvent | undefined> => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0 && !ended) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('Timed out waiting for a server-sent event');
      let timer: NodeJS.Timeout | undefined;
      pendingRead ??= reader.read();
      const chunk = await Promise.race([
        pendingRead,
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), remaining);
        }),
      ]).finally(() => clearTimeout(timer));
      if (chunk === 'timeout') continue;
      pendingRead = undefined;
      if (chunk.done) ended = true;
      else {
        buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
        parseBlocks();
      }
    }
    return queue.shift();
  };

  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    comments,
    next,
    async rest(timeoutMs = 20_000) {
      const events: SseEvent[] = [];
      for (let e = await next(timeoutMs); e; e = await next(timeoutMs)) events.push(e);
      return events;
    },
    close() {
      controller.abort();
    },
  };
}
