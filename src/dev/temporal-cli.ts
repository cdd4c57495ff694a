import * as fs from 'node:fs';
import * as path from 'node:path';

/** Repository root (this file is src/dev/temporal-cli.ts, also when compiled to lib/src/dev). */
export const REPO_ROOT = findRepoRoot(__dirname);

/** Folder for local Temporal state: CLI binary, dev-server database, logs (git-ignored). */
export const TEMPORAL_DIR = path.join(REPO_ROOT, '.temporal');

/** Where scripts/install-temporal-cli puts the CLI. */
export const INSTALLED_CLI_PATH = path.join(TEMPORAL_DIR, 'bin', 'temporal');

export class TemporalCliNotFoundError extends Error {
  override readonly name = 'TemporalCliNotFoundError';
}

/**
 * Absolute path of the Temporal CLI: `TEMPORAL_CLI_PATH` when set, else `.temporal/bin/temporal`
 * as installed by `npm run temporal-cli`. Throws {@link TemporalCliNotFoundError} when it is missing.
 */
export function resolveTemporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    const resolved = path.resolve(fromEnv);
    if (!isExecutableFile(resolved)) {
      throw new TemporalCliNotFoundError(
        `TEMPORAL_CLI_PATH=${fromEnv} is not an executable file; fix it or unset it and run: npm run temporal-cli`,
      );
    }
    return resolved;
  }
  if (!isExecutableFile(INSTALLED_CLI_PATH)) {
    throw new TemporalCliNotFoundError(
      `Temporal CLI not found at ${INSTALLED_CLI_PATH}; run: npm run temporal-cli (or set TEMPORAL_CLI_PATH)`,
    );
  }
  return INSTALLED_CLI_PATH;
}

function isExecutableFile(file: string): boolean {
  try {
    // statSync follows the symlink: a dangling link counts as missing.
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'scripts'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start, '..', '..');
  }
}
