// Model endpoints a worker can call: the environment's (HITL_MODEL_*) and the configuration file's
// `providers`. Runs name an endpoint; its URL and key stay on the worker and never enter history.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { ENV_REFERENCE, type AgentConfigSource, type ProviderConfig } from '../../agent-config';
import { Secret, type ActivitiesConfig } from '../config';
import type { ToolRegistry } from '../tools/registry';
import { ModelErrorType } from './errors';
import { OpenAICompatibleModel, type EndpointSettings } from './openai-compatible';

/** `${NAME}` references replaced from `env`; a missing variable is named in the error. */
export function expandEnv(template: string, env: NodeJS.ProcessEnv, where: string): string {
  return template.replace(ENV_REFERENCE, (_match, name: string) => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw ApplicationFailure.nonRetryable(
        `${where}: environment variable ${name} is not set on this worker`,
        ModelErrorType.NotConfigured,
      );
    }
    return value;
  });
}

/** Settings of one configured provider, with its `${ENV}` references taken from `env`. */
export function providerSettings(
  name: string,
  provider: ProviderConfig,
  env: NodeJS.ProcessEnv,
  source: string,
): EndpointSettings {
  const label = `provider "${name}" (${source} providers.${name})`;
  const headers = Object.fromEntries(
    Object.entries(provider.headers ?? {}).map(([key, value]) => [
      key,
      expandEnv(value, env, `${label} headers.${key}`),
    ]),
  );
  const baseUrl = expandEnv(provider.baseURL, env, `${label} baseURL`);
  if (!/^https?:\/\//.test(baseUrl)) {
    throw ApplicationFailure.nonRetryable(`${label}: baseURL is not an http(s) URL`, ModelErrorType.NotConfigured);
  }
  return {
    baseUrl,
    apiKey: provider.apiKey !== undefined ? new Secret(expandEnv(provider.apiKey, env, `${label} apiKey`)) : undefined,
    ...(provider.defaultModel !== undefined ? { defaultModel: provider.defaultModel } : {}),
    providerName: name,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    label,
  };
}

/**
 * One `OpenAICompatibleModel` per endpoint, built on first use and again when its settings change (an
 * edited file, or a changed environment). `get(undefined)` is the environment's endpoint.
 */
export class ModelEndpoints {
  readonly #fromEnv: OpenAICompatibleModel;
  readonly #configured = new Map<string, { key: string; model: OpenAICompatibleModel }>();

  constructor(
    settings: ActivitiesConfig['model'],
    private readonly registry: ToolRegistry,
    private readonly agents: () => AgentConfigSource,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.#fromEnv = new OpenAICompatibleModel(settings, registry);
  }

  get(endpoint: string | undefined): OpenAICompatibleModel {
    if (endpoint === undefined) return this.#fromEnv;
    const source = this.agents();
    const provider = source.current().config.providers?.[endpoint];
    if (!provider) {
      throw ApplicationFailure.nonRetryable(
        `Model provider "${endpoint}" is not configured on this worker (${source.description} has no providers.${endpoint})`,
        ModelErrorType.NotConfigured,
      );
    }
    const settings = providerSettings(endpoint, provider, this.env, source.description);
    // A digest, so the key is not kept in a second place in memory.
    const key = createHash('sha256')
      .update(JSON.stringify({ ...settings, apiKey: settings.apiKey?.reveal() }))
      .digest('hex');
    const cached = this.#configured.get(endpoint);
    if (cached?.key === key) return cached.model;
    const model = new OpenAICompatibleModel(settings, this.registry);
    this.#configured.set(endpoint, { key, model });
    return model;
  }
}
