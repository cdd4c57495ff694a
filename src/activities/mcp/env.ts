// `${ENV}` references in MCP server settings (args, env, url, headers), read when the worker connects.
import { ENV_REFERENCE } from '../../agent-config/schema';

/** Thrown when a reference names a variable the worker's environment does not have. */
export class MissingEnvError extends Error {
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is not set`);
    this.name = 'MissingEnvError';
  }
}

/** Replaces every `${NAME}` in `template` with the variable's value; a missing variable throws. */
export function expandEnvReferences(template: string, env: NodeJS.ProcessEnv = process.env): string {
  return template.replace(new RegExp(ENV_REFERENCE.source, 'g'), (_, name: string) => {
    const value = env[name];
    if (value === undefined) throw new MissingEnvError(name);
    return value;
  });
}

export function expandRecord(
  record: Record<string, string> | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  return Object.fromEntries(Object.entries(record ?? {}).map(([key, value]) => [key, expandEnvReferences(value, env)]));
}
