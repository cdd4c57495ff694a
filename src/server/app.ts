// The HTTP API: start, list, read, resolve and abort generation runs; live events over SSE.
import fastifySwagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type FastifyPluginAsyncZod,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isGrpcServiceError } from '@temporalio/client';
import {
  ContentNotFoundError,
  IdempotencyKeyReusedError,
  idempotentResolveId,
  InvalidGrantRequestError,
  InvalidRunInputError,
  PayloadTooLargeError,
  RunNotFoundError,
  TranscriptUnavailableError,
  type DependencyCheck,
  type HitlClient,
  type Readiness,
  type RunSummary,
} from '../client';
import {
  findAgent,
  mayStartRuns,
  staticConfigSource,
  emptyConfig,
  summarizeAgent,
  type AgentConfigSource,
} from '../agent-config';
import { createDefaultToolRegistry, toolSpecsOf } from '../activities';
import {
  DEFAULT_APPROVAL_TTL_MS,
  INVALID_GRANT_ERROR_TYPE,
  MessagesPageSchema,
  type Resolution,
  type ToolSpec,
} from '../contracts';
import { approverClaimsFor } from '../policy';
import { AuthError, bearerToken, createAuthenticator, type AuthConfig, type Identity } from './auth';
import { consoleRoutes, normalizeWebUiUrl } from './console';
import { RunEventStreams, streamRunEvents, type RunEventStreamOptions } from './events';
import { grantOffersOf, readPinnedRunConfig } from './grant-offers';
import { ApiError, errorResponses, refusalToHttp, type ErrorBody, type ErrorType } from './http-errors';
import { isOwner, mayApprove, mayRead, readRunAccess, type RunAccess } from './run-access';
import {
  AbortResponseSchema,
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  ListAgentsResponseSchema,
  ListGrantsResponseSchema,
  ListRunsQuerySchema,
  ListRunsResponseSchema,
  MessagesQuerySchema,
  PendingResponseSchema,
  ReadinessResponseSchema,
  ResolveBodySchema,
  ResolveHeadersSchema,
  ResolveResultSchema,
  RevokeGrantBodySchema,
  RevokeGrantResultSchema,
  RunContentParamsSchema,
  RunIdParamsSchema,
  RunViewSchema,
  SseQuerySchema,
  MAX_START_MESSAGES,
  StartRunBodySchema,
  StartRunHeadersSchema,
  StartRunResponseSchema,
  type ReadinessResponse,
  type RunSummaryDto,
} from './schemas';

/** Largest accepted request body. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/**
 * `POST /runs` takes a whole conversation: up to 64 MiB (a larger one than a run input can carry is staged in
 * the content store by the client, see README "Content store").
 */
export const START_RUN_BODY_LIMIT = 64 * 1024 * 1024;
export const API_VERSION = '1.0.0';

export interface BuildApiOptions {
  client: HitlClient;
  auth: AuthConfig;
  /** Fastify logger options (default: off). Query-string tokens are redacted from logged URLs. */
  logger?: FastifyServerOptions['logger'];
  /** A ready logger instance (pino or compatible); wins over `logger`. */
  loggerInstance?: FastifyBaseLogger;
  /** Default 1 MiB; larger bodies get 413. */
  bodyLimit?: number;
  /** `POST /runs` (a whole conversation): default 64 MiB; larger bodies get 413. */
  startRunBodyLimit?: number;
  /** SSE tuning; defaults: poll every 1 s, heartbeat every 15 s. */
  events?: Partial<RunEventStreamOptions>;
  /** Event streams one caller (token subject) may hold open at once; default 16. More answer 429. */
  maxStreamsPerCaller?: number;
  /**
   * Base URL of the Temporal Web UI (e.g. `http://127.0.0.1:8233`), for the console's links to a run.
   * `startApiServer` takes it from `HITL_WEB_UI_URL`. Without it the console shows no Web UI link.
   */
  webUiUrl?: string;
  /** Temporal namespace for those links; default: the namespace of `client`. */
  namespace?: string;
  /**
   * The agents (the configuration file) runs are started with; `startApiServer` reads it from the
   * environment. Without it there are no agents: `POST /runs` answers 404 for every agent.
   */
  agents?: AgentConfigSource;
  /** `GET /readyz`: how long the Temporal server and the content store may take to answer (default 2 s). */
  readinessTimeoutMs?: number;
  /** Describes the agents' tools (for `GET /agents` versions); default: the built-in tools. */
  describeTools?: (names: readonly string[]) => ToolSpec[];
}

/** Binary content shown inline by `GET /runs/:runId/content/:ref` (anything else is an attachment). */
const INLINE_CONTENT = /^(?:image\/(?:png|jpeg|gif|webp|avif|bmp)|audio\/[A-Za-z0-9.+-]+)(?:[ \t]*;.*)?$/;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
const PUBLIC_ROUTES = new Set(['/openapi.json', '/healthz', '/readyz']);
/** How long one readiness answer serves every `GET /readyz` (the route is public: it must not fan out). */
const READINESS_REUSE_MS = 1000;
/** Routes that also accept `?access_token=` (EventSource cannot send headers). */
const QUERY_TOKEN_ROUTES = new Set(['/runs/:runId/events']);
const BODY_ERROR_TYPES: Record<string, ErrorType> = {
  'POST /runs': 'InvalidInput',
  'POST /runs/:runId/resolve': 'InvalidResolution',
  'POST /grants/revoke': 'InvalidGrant',
};

function redactUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&]*/gi, '$1[redacted]');
}

function loggerOptions(logger: BuildApiOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === undefined || logger === false) return false;
  const base = logger === true ? {} : logger;
  return {
    ...base,
    serializers: {
      ...base.serializers,
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip,
      }),
    },
  };
}

function summaryDto(run: RunSummary): RunSummaryDto {
  return {
    runId: run.runId,
    status: run.status ?? null,
    userId: run.userId ?? null,
    conversationId: run.conversationId ?? null,
    pendingTools: run.pendingTools,
    expiresAt: run.expiresAt?.toISOString() ?? null,
    startTime: run.startTime.toISOString(),
    closeTime: run.closeTime?.toISOString() ?? null,
    executionStatus: run.executionStatus,
  };
}

function routeKey(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? ''}`;
}

function validationMessage(error: {
  validation: { instancePath: string; message?: string; keyword?: string; params?: Record<string, unknown> }[];
}): {
  message: string;
  issues: { path: string; message: string }[];
} {
  const issues = error.validation.slice(0, 20).flatMap((v) => {
    const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const message = v.message ?? 'invalid';
    // An unknown field is named by its own path, not its parent's.
    const keys = v.keyword === 'unrecognized_keys' && Array.isArray(v.params?.keys) ? v.params.keys : undefined;
    if (keys) return keys.map((key) => ({ path: path ? `${path}.${String(key)}` : String(key), message }));
    return [{ path: path || '(root)', message }];
  });
  return { message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}

const VALIDATION_PREFIX: Partial<Record<ErrorType, string>> = {
  InvalidInput: 'Invalid run request',
  InvalidResolution: 'Invalid resolution',
  InvalidGrant: 'Invalid grant revocation',
  InvalidRequest: 'Invalid request',
};

/** Any error thrown while handling a request → `{ error, type, details }` with the right status. */
function toErrorResponse(error: FastifyError, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const type: ErrorType =
      error.validationContext === 'body' ? (BODY_ERROR_TYPES[routeKey(request)] ?? 'InvalidRequest') : 'InvalidRequest';
    const { message, issues } = validationMessage(error);
    const prefix = VALIDATION_PREFIX[type] ?? 'Invalid request';
    return new ApiError(type, `${prefix} (${error.validationContext}): ${message}`, { issues });
  }
  if (error instanceof RunNotFoundError) return new ApiError('RunNotFound', error.message, { runId: error.runId });
  if (error instanceof InvalidRunInputError) return new ApiError('InvalidInput', error.message);
  if (error instanceof PayloadTooLargeError) {
    return new ApiError('PayloadTooLarge', error.message, { chars: error.chars, limit: error.limit });
  }
  if (error instanceof TranscriptUnavailableError) return new ApiError('TranscriptUnavailable', error.message);
  if (error instanceof ContentNotFoundError) {
    return new ApiError('ContentNotFound', error.message, { runId: error.runId, ref: error.ref });
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return new ApiError(
      'IdempotencyKeyReused',
      `This Idempotency-Key already started run ${error.runId} with a different request body`,
      { runId: error.runId },
    );
  }
  if (error instanceof InvalidGrantRequestError) return new ApiError('InvalidGrant', error.message);
  const cause: unknown = error;
  const grpcCode: number | undefined = isGrpcServiceError(cause) ? cause.code : undefined;
  if (grpcCode === GRPC_UNAVAILABLE || grpcCode === GRPC_DEADLINE_EXCEEDED) {
    return new ApiError('TemporalUnavailable', 'Temporal did not answer in time; try again later');
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = request.routeOptions.bodyLimit;
      return new ApiError('PayloadTooLarge', `The request body is larger than ${limit} bytes`, { limit });
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('UnsupportedMediaType', 'Send the body as application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('InvalidRequest', 'The body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('InvalidRequest', 'The body is empty; send a JSON object');
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new ApiError('InvalidRequest', error.message);
  }
  return new ApiError('InternalError', 'Internal server error');
}

/**
 * The API as a Fastify instance (not listening yet): `await app.listen({ port, host })`, or `app.close()`.
 * Every route but `/openapi.json` and `/healthz` needs `Authorization: Bearer <JWT>`; the caller is the
 * token's `sub`. Routes added later (e.g. the console's static pages) are public only when declared with
 * `{ config: { auth: false } }`.
 */
export function buildApi(options: BuildApiOptions): FastifyInstance {
  const hitl = options.client;
  const authenticate = createAuthenticator(options.auth);
  const streamOptions: RunEventStreamOptions = {
    pollIntervalMs: options.events?.pollIntervalMs ?? 1000,
    heartbeatMs: options.events?.heartbeatMs ?? 15_000,
    ...(options.events?.resultTimeoutMs !== undefined ? { resultTimeoutMs: options.events.resultTimeoutMs } : {}),
    ...(options.events?.maxFailures !== undefined ? { maxFailures: options.events.maxFailures } : {}),
  };
  const streams = new RunEventStreams(options.maxStreamsPerCaller);
  const consoleConfig = {
    webUiUrl: normalizeWebUiUrl(options.webUiUrl),
    namespace: options.namespace ?? hitl.client.options.namespace,
    apiVersion: API_VERSION,
  };
  const identities = new WeakMap<FastifyRequest, Identity>();
  const agents = options.agents ?? staticConfigSource(emptyConfig({ knownTools: new Set() }));
  const describeTools = options.describeTools ?? defaultDescribeTools();

  const app = Fastify({
    // A HEAD of the event stream would poll like a GET; only the declared methods are served.
    exposeHeadRoutes: false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(options.loggerInstance
      ? { loggerInstance: options.loggerInstance }
      : { logger: loggerOptions(options.logger) }),
  });
  // JSON only: without the text/plain parser, other bodies get 415.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const apiError = toErrorResponse(error, request);
    if (apiError.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    if (apiError.type === 'Unauthorized') {
      reply.header(
        'www-authenticate',
        request.headers.authorization ? 'Bearer realm="hitl", error="invalid_token"' : 'Bearer realm="hitl"',
      );
    }
    return reply.code(apiError.statusCode).send(apiError.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: `No route ${request.method} ${request.url.split('?')[0]}`,
      type: 'NotFound',
      details: {},
    };
    return reply.code(404).send(body);
  });

  app.addHook('onRequest', async (request) => {
    const url = request.routeOptions.url;
    if (url === undefined || PUBLIC_ROUTES.has(url)) return;
    const config = request.routeOptions.config;
    if ('auth' in config && config.auth === false) return;
    let token = bearerToken(request.headers.authorization);
    if (token === undefined && QUERY_TOKEN_ROUTES.has(url)) {
      const query = request.query as Record<string, unknown> | undefined;
      if (typeof query?.access_token === 'string' && query.access_token !== '') token = query.access_token;
    }
    if (token === undefined) {
      throw new ApiError(
        'Unauthorized',
        request.headers.authorization
          ? 'The Authorization header is not "Bearer <token>"'
          : 'A bearer token is required',
      );
    }
    try {
      identities.set(request, await authenticate(token));
    } catch (error) {
      if (error instanceof AuthError) throw new ApiError('Unauthorized', error.message);
      throw error;
    }
  });
  app.addHook('preClose', async () => streams.closeAll());

  const identity = (request: FastifyRequest): Identity => {
    const found = identities.get(request);
    if (!found) throw new ApiError('Unauthorized', 'A bearer token is required');
    return found;
  };
  const sub = (request: FastifyRequest): string => identity(request).sub;

  /**
   * The run's access data; 404 RunNotFound, exactly as for an unknown id, unless the caller owns the run
   * or may approve it: a stranger learns nothing, not even that the run exists.
   */
  const readableRun = async (runId: string, caller: Identity): Promise<RunAccess> => {
    const access = await readRunAccess(hitl, runId);
    if (!mayRead(access, caller)) throw new RunNotFoundError(runId);
    return access;
  };

  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'temporal-hitl API',
        description:
          'Durable human-in-the-loop tool approval for AI agent runs on Temporal. The caller identity is the ' +
          "bearer token's `sub`, never a field of the request body. Errors are `{ error, type, details }`.",
        version: API_VERSION,
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'agents', description: 'the configured agents runs are started with' },
        { name: 'runs', description: 'generation runs and their pending actions' },
        { name: 'grants', description: "the caller's remembered approvals (scope session / always)" },
      ],
    },
    transform: jsonSchemaTransform,
  });

  /**
   * The readiness checks, shared: the route needs no token, so however many callers ask, Temporal and the
   * store are asked at most once per READINESS_REUSE_MS (callers meanwhile get the same answer), and a
   * failure is logged once per check, not once per caller.
   */
  let lastReadiness: { at: number; found: Promise<Readiness> } | undefined;
  const readiness = (): Promise<Readiness> => {
    const now = Date.now();
    if (lastReadiness === undefined || now - lastReadiness.at >= READINESS_REUSE_MS) {
      const found = hitl.checkReadiness(options.readinessTimeoutMs).then((checked) => {
        // Unauthenticated callers learn only up or down; the reason (addresses, hosts) goes to the log.
        const checks: [string, DependencyCheck | undefined][] = [
          ['temporal', checked.temporal],
          ['content store', checked.contentStore],
        ];
        for (const [dependency, check] of checks) {
          if (check !== undefined && !check.ok)
            app.log.warn({ dependency, error: check.error }, 'readiness check failed');
        }
        return checked;
      });
      lastReadiness = { at: now, found };
    }
    return lastReadiness.found;
  };

  const routes: FastifyPluginAsyncZod = async (api) => {
    api.get('/openapi.json', { schema: { hide: true } }, async () => api.swagger());

    // Liveness: the process serves requests. Readiness (below): its dependencies answer too.
    api.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));

    api.get(
      '/readyz',
      { schema: { hide: true, response: { 200: ReadinessResponseSchema, 503: ReadinessResponseSchema } } },
      async (_request, reply) => {
        const found = await readiness();
        const state = (check: DependencyCheck): 'ok' | 'unavailable' => (check.ok ? 'ok' : 'unavailable');
        const checks: ReadinessResponse['checks'] = {
          temporal: state(found.temporal),
          ...(found.contentStore ? { contentStore: state(found.contentStore) } : {}),
        };
        const ready = Object.values(checks).every((value) => value === 'ok');
        return reply.code(ready ? 200 : 503).send({ ready, checks });
      },
    );

    // The approver console: public static files; the page calls the API with the user's bearer token.
    await api.register(consoleRoutes, { config: consoleConfig });

    api.post(
      '/runs',
      {
        bodyLimit: options.startRunBodyLimit ?? START_RUN_BODY_LIMIT,
        // The schema's cap on messages, checked before the schema parses every one of them.
        preValidation: async (request) => {
          const { messages } = (request.body ?? {}) as { messages?: unknown };
          if (Array.isArray(messages) && messages.length > MAX_START_MESSAGES) {
            throw new ApiError(
              'InvalidInput',
              `messages: at most ${MAX_START_MESSAGES} messages (got ${messages.length})`,
            );
          }
        },
        schema: {
          tags: ['runs'],
          operationId: 'startRun',
          summary: 'Start a run of one of the configured agents, owned by the caller',
          description:
            'The owner is the token subject; the policy, tools, model, approvers and TTL are the agent’s ' +
            '(the configuration file), resolved when the run starts and pinned in its history. The request ' +
            'may only tighten them (`tighten`); any other field is refused with 400 naming it. 403 when the ' +
            'caller is not one of the agent’s `users`; 404 for an unknown agent. With `Idempotency-Key`, the ' +
            'run id is derived from the caller and the key: the first request starts the run (201), a retry ' +
            'with the same body answers with that run (200, header `Idempotent-Replayed: true`), also after it ' +
            'ended (for as long as the Temporal namespace retains it); the same key with another body is 409 ' +
            '`IdempotencyKeyReused` with the existing `runId` in `details`. Keys are per caller.',
          headers: StartRunHeadersSchema,
          body: StartRunBodySchema,
          response: {
            200: StartRunResponseSchema.describe('a retry: the run an earlier request with this key started'),
            201: StartRunResponseSchema.describe('the run was started'),
            ...errorResponses(400, 401, 403, 404, 409, 413, 503),
          },
        },
      },
      async (request, reply) => {
        const caller = identity(request);
        const body = request.body;
        const loaded = agents.current();
        const agent = findAgent(loaded, body.agentId);
        if (!agent) throw new ApiError('AgentNotFound', `No agent "${body.agentId}"`, { agentId: body.agentId });
        if (!mayStartRuns(agent, caller)) {
          throw new ApiError('NotAuthorized', `"${caller.sub}" may not start runs of agent "${agent.id}"`, {
            agentId: agent.id,
            sub: caller.sub,
          });
        }
        const ttl = body.tighten?.approvalTtlMs;
        const agentTtl = agent.approvalTtl ?? loaded.config.defaults?.approvalTtl ?? DEFAULT_APPROVAL_TTL_MS;
        if (ttl !== undefined && ttl > agentTtl) {
          throw new ApiError(
            'InvalidInput',
            `tighten.approvalTtlMs: may only shorten the agent's approval TTL (${agentTtl} ms), got ${ttl}`,
            { agentTtlMs: agentTtl },
          );
        }
        const key = request.headers[IDEMPOTENCY_KEY_HEADER];
        // With a key, the run id is derived from the caller (token subject) and the key: keys are per caller.
        const { runId, created } = await hitl.startRun(
          {
            userId: caller.sub,
            agentId: agent.id,
            conversationId: body.conversationId,
            messages: body.messages,
            ...(body.tighten !== undefined ? { tighten: body.tighten } : {}),
          },
          key !== undefined ? { idempotencyKey: key } : {},
        );
        reply.header('location', `/runs/${encodeURIComponent(runId)}`);
        if (!created) reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
        return reply.code(created ? 201 : 200).send({ runId });
      },
    );

    api.get(
      '/agents',
      {
        schema: {
          tags: ['agents'],
          operationId: 'listAgents',
          summary: 'The agents the caller may start runs with',
          description:
            'From the configuration file (operator configuration). `configVersion` is the content hash a run ' +
            'started now records (it changes when the agent’s configuration in the file does). It does not cover ' +
            'the tools an agent’s MCP servers list: a run pins those when it starts, and GET /runs/{runId} shows ' +
            'their hash as `toolsVersion`.',
          response: { 200: ListAgentsResponseSchema, ...errorResponses(401) },
        },
      },
      async (request) => {
        const caller = identity(request);
        const loaded = agents.current();
        return {
          agents: loaded.config.agents
            .filter((agent) => mayStartRuns(agent, caller))
            .map((agent) => summarizeAgent(loaded, agent, describeTools)),
        };
      },
    );

    api.get(
      '/runs',
      {
        schema: {
          tags: ['runs'],
          operationId: 'listRuns',
          summary: "The caller's runs (owner = token subject), newest first",
          description:
            'Lists through Temporal visibility (eventually consistent). Visibility cannot filter by the ' +
            'approvers list, so runs the caller may approve but does not own are not listed; read them by id.',
          querystring: ListRunsQuerySchema,
          response: { 200: ListRunsResponseSchema, ...errorResponses(400, 401, 503) },
        },
      },
      async (request) => {
        const { status, tool, conversationId, limit } = request.query;
        const runs = await hitl.listRuns({
          userId: sub(request),
          limit,
          ...(status !== undefined ? { status } : {}),
          ...(tool !== undefined ? { tool } : {}),
          ...(conversationId !== undefined ? { conversationId } : {}),
        });
        return { runs: runs.map(summaryDto) };
      },
    );

    api.get(
      '/runs/:runId',
      {
        schema: {
          tags: ['runs'],
          operationId: 'getRun',
          summary: 'Run state (status, pending action, transcript, audit log) with owner and approvers',
          params: RunIdParamsSchema,
          response: { 200: RunViewSchema, ...errorResponses(401, 404, 503) },
        },
      },
      async (request) => {
        const caller = identity(request);
        const access = await readableRun(request.params.runId, caller);
        const [state, config] = await Promise.all([
          hitl.getRunState(request.params.runId),
          readPinnedRunConfig(hitl, request.params.runId),
        ]);
        return {
          ...state,
          pendingAction: state.pendingAction && (await hitl.pendingActionInFull(access.runId, state.pendingAction)),
          runId: access.runId,
          userId: access.userId ?? null,
          conversationId: access.conversationId ?? null,
          ...(access.agentId !== undefined ? { agentId: access.agentId } : {}),
          ...(access.configVersion !== undefined && state.configVersion === undefined
            ? { configVersion: access.configVersion }
            : {}),
          ...(config?.toolsVersion !== undefined ? { toolsVersion: config.toolsVersion } : {}),
          approvers: access.approvers.users,
          approverClaims: access.approvers.claims,
          caller: { sub: caller.sub, owner: isOwner(access, caller.sub), approver: mayApprove(access, caller) },
          grantOffers: config ? grantOffersOf(config) : null,
        };
      },
    );

    api.get(
      '/runs/:runId/pending',
      {
        schema: {
          tags: ['runs'],
          operationId: 'getPendingAction',
          summary: 'The pending action, or null when the run is not waiting for a decision',
          params: RunIdParamsSchema,
          response: { 200: PendingResponseSchema, ...errorResponses(401, 404, 503) },
        },
      },
      async (request) => {
        await readableRun(request.params.runId, identity(request));
        const pending = await hitl.getPendingAction(request.params.runId);
        // Arguments too large to keep in the run come back whole: an approver decides on what will run.
        return { pendingAction: pending && (await hitl.pendingActionInFull(request.params.runId, pending)) };
      },
    );

    api.get(
      '/runs/:runId/messages',
      {
        schema: {
          tags: ['runs'],
          operationId: 'getRunMessages',
          summary: 'Whole messages of the run’s transcript, read from the content store, a page at a time',
          description:
            '`GET /runs/{id}` shows the latest messages only, with long contents previewed (`contentChars`, ' +
            '`messagesFrom`, `messagesTotal`); this reads them in full from position `fromSeq` (default 0), at ' +
            'most `limit` (default and maximum 500). `nextSeq` < `total` means there is more. Same access as ' +
            'the run. 404 `TranscriptUnavailable` for a run started before the content store (its state has ' +
            'every message).',
          params: RunIdParamsSchema,
          querystring: MessagesQuerySchema,
          response: { 200: MessagesPageSchema, ...errorResponses(400, 401, 403, 404, 503) },
        },
      },
      async (request) => {
        await readableRun(request.params.runId, identity(request));
        const page = await hitl.readMessages(request.params.runId, {
          fromSeq: request.query.fromSeq,
          limit: request.query.limit,
        });
        if (page.total === 0) {
          throw new ApiError(
            'TranscriptUnavailable',
            `Run ${request.params.runId} keeps no transcript in the content store; its state has every message`,
          );
        }
        return page;
      },
    );

    api.get(
      '/runs/:runId/content/:ref',
      {
        schema: {
          tags: ['runs'],
          operationId: 'getRunContent',
          summary: 'A binary block of a tool result (image, audio, binary resource), as the tool gave it',
          description:
            'A run that keeps its transcript in the content store keeps each image, audio and binary resource ' +
            'of an MCP tool result under a reference of its own; the tool message names it ' +
            '(`[image image/png, 1234 bytes, content ref sha256:…]`). This answers the bytes with the MIME type ' +
            'the tool gave (`application/octet-stream` when it gave none that is valid), `X-Content-Type-Options: ' +
            'nosniff`, a sandboxing `Content-Security-Policy`, and `Content-Disposition: attachment` for types ' +
            'other than common images and audio. Same access as the run (a stranger gets 404 RunNotFound); 404 ' +
            'ContentNotFound when the run keeps no binary content with this reference.',
          params: RunContentParamsSchema,
          response: {
            200: {
              description: 'the bytes, with the stored MIME type',
              content: { 'application/octet-stream': { schema: z.string().describe('binary') } },
            },
            ...errorResponses(400, 401, 404, 503),
          },
        },
      },
      async (request, reply) => {
        const { runId, ref } = request.params;
        await readableRun(runId, identity(request));
        const content = await hitl.readContent(runId, ref);
        // Bytes, not the schema's JSON: Fastify sends a Buffer as it is (no serializer runs).
        const bytes: FastifyReply = reply;
        return bytes
          .header('content-type', content.mimeType)
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; sandbox")
          .header('content-disposition', INLINE_CONTENT.test(content.mimeType) ? 'inline' : 'attachment')
          .header('cache-control', 'private, no-cache')
          .send(content.bytes);
      },
    );

    api.post(
      '/runs/:runId/resolve',
      {
        schema: {
          tags: ['runs'],
          operationId: 'resolveAction',
          summary: 'Resolve the pending action as the caller',
          description:
            'The approver is the token subject; an `approver` field in the body is ignored. A tool approval ' +
            'takes `decisions`, a question `answer` or `answers`, an MCP elicitation `elicitation`. Refusals: 400 ' +
            'InvalidResolution / UndecidedToolCalls / IncompleteDecision / AnswerRequired / AnswerTooLong / ' +
            'UnknownQuestionId / InvalidElicitationContent (content that does not fit the requested form; ' +
            '`details.problems` by field), and DecisionNotPermitted for a `tool_call_id` the action does not ' +
            'have or decisions on a question or an elicitation; 403 ' +
            'NotAuthorized, and DecisionNotPermitted for a decision the call does not allow; 404 RunNotFound ' +
            '(also a run the caller may neither read nor approve); 409 StaleAction / AlreadyResolved / ' +
            'ActionExpired / NoPendingAction. With `Idempotency-Key`, a retry returns the first answer.',
          params: RunIdParamsSchema,
          headers: ResolveHeadersSchema,
          body: ResolveBodySchema,
          response: { 200: ResolveResultSchema, ...errorResponses(400, 401, 403, 404, 409, 413, 503) },
        },
      },
      async (request, reply) => {
        const caller = identity(request);
        const { runId } = request.params;
        // Strangers are refused here; the run's owner and approvers are judged (and audited) by the workflow.
        const access = await readableRun(runId, caller);
        // The approver and the claims the run's rules look at come from the verified token, never the body.
        const approverClaims = approverClaimsFor(access.approvers.claims, caller.claims);
        const resolution: Resolution = {
          ...request.body,
          approver: caller.sub,
          ...(Object.keys(approverClaims).length > 0 ? { approverClaims } : {}),
        };
        const key = request.headers[IDEMPOTENCY_KEY_HEADER];
        // Keys are per caller: two users sending the same key never share an answer.
        const outcome = await hitl.resolve(
          runId,
          resolution,
          key ? { idempotencyKey: idempotentResolveId(caller.sub, key) } : {},
        );
        if (outcome.ok) return outcome.result;
        const { status, body } = refusalToHttp(outcome.refusal);
        return reply.code(status).send(body);
      },
    );

    api.post(
      '/runs/:runId/abort',
      {
        schema: {
          tags: ['runs'],
          operationId: 'abortRun',
          summary: 'Abort (cancel) the run; owner only. The run ends `aborted` shortly after.',
          params: RunIdParamsSchema,
          response: { 202: AbortResponseSchema, ...errorResponses(401, 403, 404, 409, 503) },
        },
      },
      async (request, reply) => {
        const caller = sub(request);
        const { runId } = request.params;
        // Strangers get 404; an approver who is not the owner may read the run, so is told why not.
        const access = await readableRun(runId, identity(request));
        if (!isOwner(access, caller)) {
          throw new ApiError('NotAuthorized', `Only the owner of run ${runId} may abort it`, { sub: caller });
        }
        // Temporal accepts a cancel request for an execution that was cancelled already: check first.
        const execution = await hitl.client.workflow.getHandle(runId).describe();
        if (execution.status.name !== 'RUNNING') {
          throw new ApiError('RunClosed', `Run ${runId} has already finished (${execution.status.name})`, {
            executionStatus: execution.status.name,
          });
        }
        try {
          await hitl.abort(runId);
        } catch (error) {
          // The run exists (its history was just read): it closed in the meantime.
          if (error instanceof RunNotFoundError) throw new ApiError('RunClosed', `Run ${runId} has already finished`);
          throw error;
        }
        return reply.code(202).send({ runId, abortRequested: true as const });
      },
    );

    api.get(
      '/runs/:runId/events',
      {
        schema: {
          tags: ['runs'],
          operationId: 'runEvents',
          summary: 'Server-sent events: status, pending_action, tool_result, then completed / aborted / failed',
          description:
            'Each connection starts with the current state (status, pending action, tool results so far), then ' +
            'sends changes in order; events carry ids; `: heartbeat` comments keep the connection alive; the ' +
            'stream ends after the terminal event. `?access_token=` is accepted for EventSource clients.',
          params: RunIdParamsSchema,
          querystring: SseQuerySchema,
          response: {
            200: {
              description: 'text/event-stream',
              content: { 'text/event-stream': { schema: z.string() } },
            },
            ...errorResponses(401, 404, 429, 503),
          },
        },
      },
      async (request, reply) => {
        const { runId } = request.params;
        const caller = identity(request);
        await readableRun(runId, caller);
        if (!streams.reserve(caller.sub)) {
          throw new ApiError(
            'TooManyStreams',
            `At most ${streams.maxPerCaller} event streams may be open per user; close one first`,
          );
        }
        // The token was checked when the stream opened: it must not outlive the token.
        const exp = caller.claims.exp;
        reply.hijack();
        try {
          await streamRunEvents(
            hitl,
            runId,
            reply.raw,
            streamOptions,
            streams,
            request.log,
            typeof exp === 'number' ? exp * 1000 : undefined,
          );
        } finally {
          streams.release(caller.sub);
        }
      },
    );

    api.get(
      '/grants',
      {
        schema: {
          tags: ['grants'],
          operationId: 'listGrants',
          summary: "The caller's remembered approvals (user = token subject), oldest first",
          description:
            'A grant is written when an approval with scope `session` (this conversation) or `always` (every ' +
            'conversation) was followed by a successful tool call. Later calls of that exact tool are allowed ' +
            'without asking, unless the policy denies or explicitly asks for them.',
          response: { 200: ListGrantsResponseSchema, ...errorResponses(401, 503) },
        },
      },
      async (request) => ({ grants: await hitl.listGrants(sub(request)) }),
    );

    api.post(
      '/grants/revoke',
      {
        schema: {
          tags: ['grants'],
          operationId: 'revokeGrant',
          summary: "Forget one of the caller's remembered approvals",
          description:
            'Removes the grant of `tool` in `scope` (a `session` grant names its `conversationId`; an `always` ' +
            'grant has none). Runs ask again from their next decision on. `{ revoked: 0 }` when there was no ' +
            'such grant. Only the caller’s own grants can be revoked.',
          body: RevokeGrantBodySchema,
          response: { 200: RevokeGrantResultSchema, ...errorResponses(400, 401, 413, 503) },
        },
      },
      async (request) => {
        try {
          return await hitl.revokeGrant(sub(request), request.body);
        } catch (error) {
          const failure = grantFailure(error);
          if (failure) throw new ApiError('InvalidGrant', failure.message);
          throw error;
        }
      },
    );
  };
  app.register(routes);
  return app;
}

/** An `InvalidGrant` ApplicationFailure from the grants entity (its refusal types are not run refusals). */
function grantFailure(error: unknown): { message: string } | undefined {
  const failure = error instanceof Error && 'cause' in error ? error.cause : undefined;
  if (failure instanceof Error && 'type' in failure && failure.type === INVALID_GRANT_ERROR_TYPE) {
    return { message: failure.message };
  }
  return undefined;
}

/** The built-in tools' descriptions (what a worker with the default registry pins). */
function defaultDescribeTools(): (names: readonly string[]) => ToolSpec[] {
  const registry = createDefaultToolRegistry();
  return (names) => toolSpecsOf(registry, names);
}
