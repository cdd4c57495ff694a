// Reads and validates the configuration file: YAML (the `yaml` package), then the zod schema, then the
// references between its parts. A bad file is one line naming the key path and the problem.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { parseMcpToolName } from '../contracts';
import { matchesToolPattern } from '../policy';
import { HitlConfigFileSchema, LibreChatConfigSchema, type HitlConfigFile, type ToolApprovalConfig } from './schema';

export const DEFAULT_CONFIG_FILE = 'hitl.config.yaml';
/** Largest configuration file read (bytes). */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** The file could not be used. `message` is one line: `<file>: <key path>: <problem> (line n)`. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A validated configuration, ready to resolve agents from. */
export interface LoadedConfig {
  /** The file it came from, or undefined when there is none (no agents). */
  file: string | undefined;
  config: HitlConfigFile;
  /** The defaults every agent's `toolApproval` is merged over (the file's, or LibreChat's). */
  toolApproval: ToolApprovalConfig;
  /** Where `toolApproval` came from, for messages: `hitl.config.yaml` or `librechat.yaml`. */
  toolApprovalSource: string | undefined;
}

export interface LoadConfigOptions {
  /** Tool names an agent may list (the worker's built-in tools). */
  knownTools: ReadonlySet<string>;
  /** A LibreChat `librechat.yaml` whose `endpoints.agents.toolApproval` becomes the defaults. */
  libreChatFile?: string;
}

/** How a file is named in messages: relative to the working directory when it is inside it. */
export function displayName(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** `agents[1].toolApproval.mode`, `providers.openai.apiKey`, `toolOptions["a b"]`. */
export function formatKeyPath(keys: readonly PropertyKey[]): string {
  let out = '';
  for (const key of keys) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(String(key))) out += out === '' ? String(key) : `.${String(key)}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(top level)' : out;
}

interface Problem {
  path: PropertyKey[];
  message: string;
}

/** Zod issues as problems with the path of the key at fault; enum and type messages made short. */
function problemsOf(error: z.ZodError): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) problems.push({ path: [...issue.path, key], message: 'unknown key' });
        break;
      case 'invalid_value':
        problems.push({ path: issue.path, message: `expected ${issue.values.map((v) => String(v)).join('|')}` });
        break;
      case 'invalid_union': {
        // A principal or duration: say what the branch of the right type expected, not "Invalid input".
        const inner = issue.errors.flat().find((i) => i.code !== 'invalid_type') ?? issue.errors.flat()[0];
        problems.push({ path: issue.path, message: inner ? stripPrefix(inner.message) : 'invalid value' });
        break;
      }
      default:
        problems.push({ path: issue.path, message: stripPrefix(issue.message) });
    }
  }
  return problems;
}

function stripPrefix(message: string): string {
  return message.replace(/^Invalid input: /, '').replace(/received/, 'got');
}

/** Where the key (or item) at `keys` starts: the key itself for a mapping entry, else the item. */
function offsetOf(doc: Document, keys: readonly PropertyKey[]): number | undefined {
  const parentKeys = keys.slice(0, -1) as (string | number)[];
  const parent = parentKeys.length === 0 ? doc.contents : doc.getIn(parentKeys, true);
  const last = keys[keys.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(last));
    if (pair && isNode(pair.key) && pair.key.range) return pair.key.range[0];
  } else if (isSeq(parent) && typeof last === 'number') {
    const item = parent.items[last];
    if (isNode(item) && item.range) return item.range[0];
  }
  return undefined;
}

/** ` (line n)` for the YAML key at `keys` (or its nearest ancestor), when the document knows it. */
function lineOf(doc: Document | undefined, lines: LineCounter | undefined, keys: readonly PropertyKey[]): string {
  if (!doc || !lines) return '';
  for (let depth = keys.length; depth > 0; depth -= 1) {
    const offset = offsetOf(doc, keys.slice(0, depth));
    if (offset !== undefined) return ` (line ${lines.linePos(offset).line})`;
  }
  return '';
}

function oneLine(
  file: string,
  problems: readonly Problem[],
  doc?: Document,
  lines?: LineCounter,
  prefix: PropertyKey[] = [],
): ConfigError {
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  const where = formatKeyPath([...prefix, ...first.path]);
  return new ConfigError(`${displayName(file)}: ${where}: ${first.message}${lineOf(doc, lines, first.path)}${more}`);
}

/** Parses YAML text; syntax errors become one line with the position. */
function parseYaml(file: string, text: string): { doc: Document; lines: LineCounter; value: unknown } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}` : 'YAML';
    const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${displayName(file)}: ${where}: ${message}`);
  }
  return { doc, lines, value: doc.toJS({ maxAliasCount: 100 }) as unknown };
}

function readText(file: string): string {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${displayName(file)}: cannot read the file (${code ?? String(error)})`);
  }
  if (text.length > MAX_CONFIG_BYTES)
    throw new ConfigError(`${displayName(file)}: larger than ${MAX_CONFIG_BYTES} bytes`);
  return text.toString('utf8');
}

/** The checks between parts that the schema alone cannot make. */
function crossReferenceProblems(config: HitlConfigFile, knownTools: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  const providers = Object.keys(config.providers ?? {});
  const seen = new Map<string, number>();
  config.agents.forEach((agent, index) => {
    const at = (...keys: PropertyKey[]): PropertyKey[] => ['agents', index, ...keys];
    const earlier = seen.get(agent.id);
    if (earlier !== undefined)
      problems.push({ path: at('id'), message: `duplicate agent id "${agent.id}" (also agents[${earlier}])` });
    else seen.set(agent.id, index);

    const provider = agent.model.provider;
    if (provider !== 'scripted' && !providers.includes(provider)) {
      const declared = providers.length > 0 ? `declared: ${providers.join(', ')}` : 'no providers are declared';
      problems.push({
        path: at('model', 'provider'),
        message: `unknown provider "${provider}" (scripted, or a key of providers; ${declared})`,
      });
    }
    const servers = Object.keys(config.mcpServers ?? {});
    agent.tools.forEach((tool, toolIndex) => {
      if (knownTools.has(tool)) return;
      // MCP tools: `<tool>_mcp_<server>` or a glob such as `*_mcp_<server>`, of a server in mcpServers (its
      // tools are listed when a run starts).
      const mcp = parseMcpToolName(tool);
      if (mcp !== undefined && servers.includes(mcp.server)) return;
      const hint =
        mcp !== undefined
          ? `"${mcp.server}" is not a key of mcpServers${servers.length > 0 ? ` (declared: ${servers.join(', ')})` : ''}`
          : `known tools: ${[...knownTools].sort().join(', ')}, or <tool>_mcp_<server>`;
      problems.push({ path: at('tools', toolIndex), message: `unknown tool "${tool}" (${hint})` });
    });
    if (new Set(agent.tools).size !== agent.tools.length) {
      problems.push({ path: at('tools'), message: 'lists a tool twice' });
    }
    if (agent.mcpAnnotations === 'follow' && !agent.tools.some((tool) => parseMcpToolName(tool) !== undefined)) {
      problems.push({
        path: at('mcpAnnotations'),
        message: 'follow has no effect: the agent names no MCP tools (<tool>_mcp_<server> in tools)',
      });
    }
    for (const tool of Object.keys(agent.toolOptions ?? {})) {
      if (!agent.tools.some((entry) => matchesToolPattern(entry, tool)))
        problems.push({ path: at('toolOptions', tool), message: "not one of this agent's tools" });
    }
    (agent.approvers ?? []).forEach((principal, i) => {
      if (principal === '*')
        problems.push({
          path: at('approvers', i),
          message: '"*" is not allowed here: name the approvers (owner, user ids or claim rules)',
        });
    });
  });
  return problems;
}

/** Reads `endpoints.agents.toolApproval` of a LibreChat `librechat.yaml`. */
export function loadLibreChatToolApproval(file: string): ToolApprovalConfig {
  const { doc, lines, value } = parseYaml(file, readText(file));
  const parsed = LibreChatConfigSchema.safeParse(value);
  if (!parsed.success) throw oneLine(file, problemsOf(parsed.error), doc, lines);
  return parsed.data.endpoints.agents.toolApproval;
}

/** Validates a configuration held in memory (tests, or a file already read). */
export function parseConfig(value: unknown, options: LoadConfigOptions & { file?: string }): LoadedConfig {
  return validate(options.file ?? DEFAULT_CONFIG_FILE, value, options);
}

function validate(
  file: string,
  value: unknown,
  options: LoadConfigOptions,
  doc?: Document,
  lines?: LineCounter,
): LoadedConfig {
  const parsed = HitlConfigFileSchema.safeParse(value ?? {});
  if (!parsed.success) throw oneLine(file, problemsOf(parsed.error), doc, lines);
  const problems = crossReferenceProblems(parsed.data, options.knownTools);
  if (problems.length > 0) throw oneLine(file, problems, doc, lines);

  let toolApproval = parsed.data.toolApproval ?? {};
  let toolApprovalSource: string | undefined = parsed.data.toolApproval ? displayName(file) : undefined;
  if (options.libreChatFile !== undefined) {
    if (parsed.data.toolApproval) {
      throw new ConfigError(
        `${displayName(file)}: toolApproval: also given by ${displayName(options.libreChatFile)} (HITL_LIBRECHAT_CONFIG); keep one`,
      );
    }
    toolApproval = loadLibreChatToolApproval(options.libreChatFile);
    toolApprovalSource = `${displayName(options.libreChatFile)} endpoints.agents.toolApproval`;
  }
  return { file: path.resolve(file), config: parsed.data, toolApproval, toolApprovalSource };
}

/** Reads and validates one configuration file. */
export function loadConfigFile(file: string, options: LoadConfigOptions): LoadedConfig {
  const { doc, lines, value } = parseYaml(file, readText(file));
  return validate(file, value, options, doc, lines);
}

/** No file: no agents (inline v1 runs still work), defaults from LibreChat when given. */
export function emptyConfig(options: LoadConfigOptions): LoadedConfig {
  const loaded = validate(DEFAULT_CONFIG_FILE, {}, options);
  return { ...loaded, file: undefined };
}

/**
 * The file named by `HITL_CONFIG` (which must exist), else `./hitl.config.yaml` when it exists, else
 * none. `HITL_LIBRECHAT_CONFIG` names a `librechat.yaml` whose toolApproval block becomes the defaults.
 */
export function configFileFromEnv(env: NodeJS.ProcessEnv = process.env): {
  file: string | undefined;
  libreChatFile: string | undefined;
} {
  const named = env.HITL_CONFIG?.trim();
  const libreChatFile = env.HITL_LIBRECHAT_CONFIG?.trim() || undefined;
  if (named) return { file: path.resolve(named), libreChatFile };
  const fallback = path.resolve(DEFAULT_CONFIG_FILE);
  return { file: existsSync(fallback) ? fallback : undefined, libreChatFile };
}
