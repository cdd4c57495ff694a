// `.temporal/dev.env`: where a running `npm start` leaves its addresses (and the dev token) for the
// tools of a second terminal. The `hitl` command reads it by itself when no TEMPORAL_ADDRESS (or Temporal
// profile) is set; a shell takes it with `source .temporal/dev.env`, which the Temporal CLI then reads too.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { processAlive } from './state-lock';
import { TEMPORAL_DIR } from './temporal-cli';

export const DEV_ENV_FILE = path.join(TEMPORAL_DIR, 'dev.env');

export interface DevEnv {
  /** The `npm start` process that wrote it. */
  ownerPid: number;
  values: Record<string, string>;
}

const OWNER_LINE = /^# owner pid (\d+)$/m;
const EXPORT_LINE = /^export ([A-Z_][A-Z0-9_]*)='((?:[^']|'\\'')*)'$/;

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Writes the file (mode 0600: it holds a token) for `ownerPid`. */
export function writeDevEnv(values: Record<string, string>, ownerPid = process.pid, file = DEV_ENV_FILE): void {
  const lines = [
    '# Written by npm start while it runs; removed when it stops. Use it in another terminal with:',
    `#   source ${path.relative(process.cwd(), file) || file}`,
    `# owner pid ${ownerPid}`,
    ...Object.entries(values).map(([key, value]) => `export ${key}=${shellQuote(value)}`),
  ];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/** The file's values, or undefined when there is none or the `npm start` that wrote it is gone. */
export function readDevEnv(file = DEV_ENV_FILE): DevEnv | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const owner = OWNER_LINE.exec(text);
  const ownerPid = owner ? Number(owner[1]) : NaN;
  if (!Number.isInteger(ownerPid) || !processAlive(ownerPid)) return undefined;
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = EXPORT_LINE.exec(line);
    if (match) values[match[1]!] = match[2]!.replace(/'\\''/g, "'");
  }
  return { ownerPid, values };
}

/** Removes the file if `ownerPid` wrote it (a later instance may have replaced it). */
export function removeDevEnv(ownerPid = process.pid, file = DEV_ENV_FILE): void {
  try {
    const owner = OWNER_LINE.exec(fs.readFileSync(file, 'utf8'));
    if (owner && Number(owner[1]) === ownerPid) fs.rmSync(file, { force: true });
  } catch {
    // not there
  }
}

/** Variables that choose a Temporal connection explicitly; with any of them set, dev.env is not used. */
const EXPLICIT_CONNECTION = ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE'];

/**
 * The environment a client of this checkout should connect with: `env` itself when it names a connection,
 * else `env` plus the address and namespace of the running `npm start` (from dev.env), and where the
 * address came from, for error messages.
 */
export function clientEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  file = DEV_ENV_FILE,
): { env: NodeJS.ProcessEnv; addressSource?: string } {
  if (EXPLICIT_CONNECTION.some((key) => env[key])) return { env };
  const dev = readDevEnv(file);
  const address = dev?.values.TEMPORAL_ADDRESS;
  if (!dev || !address) return { env };
  return {
    env: {
      ...env,
      TEMPORAL_ADDRESS: address,
      ...(dev.values.TEMPORAL_NAMESPACE ? { TEMPORAL_NAMESPACE: dev.values.TEMPORAL_NAMESPACE } : {}),
    },
    addressSource: `${path.relative(process.cwd(), file) || file}, written by npm start (pid ${dev.ownerPid})`,
  };
}
