// The dev mode's HS256 secret, kept in `.temporal/dev-jwt-secret` (mode 0600) so tokens outlive a restart
// of `npm start`, and `hitl token` can mint tokens for other users. Never used outside dev mode.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEMPORAL_DIR } from '../dev/temporal-cli';

export const DEV_SECRET_FILE = path.join(TEMPORAL_DIR, 'dev-jwt-secret');
const MIN_LENGTH = 32;

/** The secret in `file`, or undefined when there is none (or it is too short to be one we wrote). */
export function readDevSecret(file = DEV_SECRET_FILE): string | undefined {
  try {
    const secret = fs.readFileSync(file, 'utf8').trim();
    return secret.length >= MIN_LENGTH ? secret : undefined;
  } catch {
    return undefined;
  }
}

/** The secret in `file`; a new random one (written with mode 0600) when there is none. */
export function loadOrCreateDevSecret(file = DEV_SECRET_FILE): string {
  const existing = readDevSecret(file);
  if (existing !== undefined) return existing;
  const secret = randomBytes(32).toString('base64url');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return secret;
}
