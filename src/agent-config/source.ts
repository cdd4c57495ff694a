// Where a process gets its configuration: the file, read again when it changes (new runs see the edit;
// runs already started keep the configuration pinned in their history).
import { statSync } from 'node:fs';
import {
  configFileFromEnv,
  ConfigError,
  displayName,
  emptyConfig,
  loadConfigFile,
  type LoadConfigOptions,
  type LoadedConfig,
} from './load';

export interface AgentConfigSource {
  /** The configuration now: the last good version of the file. */
  current(): LoadedConfig;
  /** For messages: the file, or "no configuration file". */
  readonly description: string;
}

/** A configuration that never changes (tests, or a process given one). */
export function staticConfigSource(loaded: LoadedConfig): AgentConfigSource {
  return { current: () => loaded, description: loaded.file ? displayName(loaded.file) : 'no configuration file' };
}

function fingerprint(file: string): string {
  try {
    const stats = statSync(file);
    return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/**
 * The file, validated at creation (a bad file throws `ConfigError`: the process does not start), then
 * re-read whenever its size, time or inode changes. An edit that does not validate is reported once
 * through `onError` and ignored: the process keeps the last good configuration.
 */
export class FileConfigSource implements AgentConfigSource {
  readonly description: string;
  #loaded: LoadedConfig;
  #fingerprint: string;
  #failedFingerprint: string | undefined;

  constructor(
    readonly file: string,
    private readonly options: LoadConfigOptions & { onError?: (error: ConfigError) => void },
  ) {
    this.description = displayName(file);
    this.#fingerprint = fingerprint(file);
    this.#loaded = loadConfigFile(file, options);
  }

  current(): LoadedConfig {
    const now = fingerprint(this.file);
    if (now === this.#fingerprint || now === this.#failedFingerprint) return this.#loaded;
    try {
      this.#loaded = loadConfigFile(this.file, this.options);
      this.#fingerprint = now;
      this.#failedFingerprint = undefined;
    } catch (error) {
      this.#failedFingerprint = now;
      const problem = error instanceof ConfigError ? error : new ConfigError(String(error));
      (this.options.onError ?? defaultOnError)(problem);
    }
    return this.#loaded;
  }
}

function defaultOnError(error: ConfigError): void {
  console.error(`configuration not reloaded, keeping the last good one: ${error.message}`);
}

/**
 * The configuration from the environment (`HITL_CONFIG`, else `./hitl.config.yaml` if present;
 * `HITL_LIBRECHAT_CONFIG`). Throws `ConfigError` for a bad file: callers stop with its one-line message.
 */
export function configSourceFromEnv(
  options: LoadConfigOptions & { env?: NodeJS.ProcessEnv; onError?: (error: ConfigError) => void },
): AgentConfigSource {
  const { file, libreChatFile } = configFileFromEnv(options.env);
  const loadOptions = { ...options, ...(libreChatFile !== undefined ? { libreChatFile } : {}) };
  if (file === undefined) return staticConfigSource(emptyConfig(loadOptions));
  return new FileConfigSource(file, loadOptions);
}
