// Bearer JWT authentication for the HTTP API (jose). The caller's identity is the token's `sub`.
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import type { JWTVerifyGetKey, JWTVerifyOptions } from 'jose' with { 'resolution-mode': 'import' };

type Jose = typeof JoseModule;

// jose is an ES module; this CommonJS package loads it once, on first use.
let josePromise: Promise<Jose> | undefined;
function loadJose(): Promise<Jose> {
  josePromise ??= import('jose');
  return josePromise;
}

/** Shortest HS256 secret accepted (RFC 7518 §3.2: a key at least as long as the hash output). */
export const MIN_SECRET_LENGTH = 32;
const MAX_SUBJECT_LENGTH = 256;
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

interface CommonAuthConfig {
  /** Required `iss` claim, when set. */
  issuer?: string;
  /** Required `aud` claim, when set. */
  audience?: string;
  /** Clock skew tolerated on `exp`/`nbf`, in seconds. Default 5. */
  clockToleranceSeconds?: number;
}

/** How bearer tokens are verified: an HS256 shared secret, or the public keys of a JWKS URL. */
export type AuthConfig =
  (CommonAuthConfig & { kind: 'secret'; secret: string }) | (CommonAuthConfig & { kind: 'jwks'; jwksUrl: string });

/** The authenticated caller. */
export interface Identity {
  /** The token's `sub`: the owner / approver identity used everywhere in the API. */
  sub: string;
  /** Every claim of the verified token (`role`, `groups`…), for the agents' claim rules. */
  claims: Readonly<Record<string, unknown>>;
}

/** A token was missing, malformed, wrongly signed, expired, or had no usable `sub`. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
}

export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError';
}

/**
 * Auth config from `HITL_JWT_SECRET` (HS256) or `HITL_JWKS_URL`, plus optional `HITL_JWT_ISSUER` and
 * `HITL_JWT_AUDIENCE`. Returns undefined when neither key source is set; throws on a bad combination.
 */
export function loadAuthConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AuthConfig | undefined {
  const value = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const secret = value('HITL_JWT_SECRET');
  const jwksUrl = value('HITL_JWKS_URL');
  const common: CommonAuthConfig = {};
  const issuer = value('HITL_JWT_ISSUER');
  const audience = value('HITL_JWT_AUDIENCE');
  if (issuer !== undefined) common.issuer = issuer;
  if (audience !== undefined) common.audience = audience;
  if (secret !== undefined && jwksUrl !== undefined) {
    throw new AuthConfigError('Set either HITL_JWT_SECRET or HITL_JWKS_URL, not both');
  }
  if (secret !== undefined) {
    const config: AuthConfig = { kind: 'secret', secret, ...common };
    validateAuthConfig(config);
    return config;
  }
  if (jwksUrl !== undefined) {
    const config: AuthConfig = { kind: 'jwks', jwksUrl, ...common };
    validateAuthConfig(config);
    // An identity provider signs tokens for many applications: without an audience, a token it issued for any
    // of them would be accepted here as a user.
    if (audience === undefined) {
      throw new AuthConfigError(
        'HITL_JWKS_URL needs HITL_JWT_AUDIENCE: the audience (aud) the identity provider puts in tokens for this API',
      );
    }
    return config;
  }
  return undefined;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function validateAuthConfig(config: AuthConfig): void {
  if (config.kind === 'secret' && config.secret.length < MIN_SECRET_LENGTH) {
    throw new AuthConfigError(`HITL_JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters long`);
  }
  if (config.kind === 'jwks') {
    let url: URL;
    try {
      url = new URL(config.jwksUrl);
    } catch {
      throw new AuthConfigError(`HITL_JWKS_URL is not a URL: ${config.jwksUrl}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new AuthConfigError(`HITL_JWKS_URL must be an http(s) URL: ${config.jwksUrl}`);
    }
    // Whoever can change the keys on the way can mint tokens: plain http only to this host.
    if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
      throw new AuthConfigError(`HITL_JWKS_URL must be https (http only for a loopback host): ${config.jwksUrl}`);
    }
  }
}

export type Authenticate = (token: string) => Promise<Identity>;

/** A verifier for one auth config; the JWKS (if any) is fetched lazily and cached by jose. */
export function createAuthenticator(config: AuthConfig): Authenticate {
  validateAuthConfig(config);
  const options: JWTVerifyOptions = {
    algorithms: config.kind === 'secret' ? ['HS256'] : ASYMMETRIC_ALGORITHMS,
    clockTolerance: config.clockToleranceSeconds ?? 5,
    requiredClaims: ['sub', 'exp'],
  };
  if (config.issuer !== undefined) options.issuer = config.issuer;
  if (config.audience !== undefined) options.audience = config.audience;

  let jwks: JWTVerifyGetKey | undefined;
  const secretKey = config.kind === 'secret' ? new TextEncoder().encode(config.secret) : undefined;
  const jwksUrl = config.kind === 'jwks' ? new URL(config.jwksUrl) : undefined;

  return async (token: string): Promise<Identity> => {
    const jose = await loadJose();
    let claims: Record<string, unknown> = {};
    try {
      if (secretKey !== undefined) {
        claims = (await jose.jwtVerify(token, secretKey, options)).payload;
      } else if (jwksUrl !== undefined) {
        jwks ??= jose.createRemoteJWKSet(jwksUrl);
        claims = (await jose.jwtVerify(token, jwks, options)).payload;
      }
    } catch (error) {
      throw new AuthError(describeJoseError(error));
    }
    const sub = claims.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) {
      throw new AuthError('The token has no usable "sub" claim');
    }
    return { sub, claims };
  };
}

function describeJoseError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'The token has expired';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'The token signature is invalid';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `The token was refused: ${error instanceof Error ? error.message : 'claim check failed'}`;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'The token is signed with an algorithm this server does not accept';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'No key of the JWKS matches the token';
    case 'ERR_JWKS_TIMEOUT':
      return 'The JWKS could not be fetched in time';
    default:
      return 'The token is malformed or cannot be verified';
  }
}

export interface IssueTokenOptions {
  issuer?: string;
  audience?: string;
  /** Extra claims (e.g. `{ role: 'approver' }`) for trying the agents' claim rules. */
  claims?: Record<string, unknown>;
}

/**
 * Signs an HS256 token for `sub` that expires `ttl` from now (seconds, or a span like "12h").
 * For development and tests: production tokens come from the identity provider.
 */
export async function issueDevToken(
  secret: string,
  sub: string,
  ttl: number | string,
  options: IssueTokenOptions = {},
): Promise<string> {
  const jose = await loadJose();
  const now = Math.floor(Date.now() / 1000);
  const jwt = new jose.SignJWT({ ...options.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(typeof ttl === 'number' ? now + Math.trunc(ttl) : ttl);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  return match?.[1];
}
