import {
  AUTH_ID_ACCEPTED,
  ConfigError,
  envVars,
  optionalVar,
  validateCredentials,
  type VobizCredentials,
} from '../config.js';

export const CREDENTIALS_ENV = envVars({
  VOBIZ_SECRET_ARN: optionalVar({
    description:
      '(AWS) Secrets Manager secret `{auth_id, auth_token, parent_auth_token?}`, read at cold start, cached for 5 minutes and re-read (at most once a minute) when Vobiz refuses it or a signature does not verify',
    accepted: 'a secret ARN',
  }),
  VOBIZ_AUTH_ID: optionalVar({
    description: '(local) the Vobiz auth id, used when `VOBIZ_SECRET_ARN` is unset',
    accepted: AUTH_ID_ACCEPTED,
  }),
  VOBIZ_AUTH_TOKEN: optionalVar({ description: '(local) the auth token, with `VOBIZ_AUTH_ID`' }),
  VOBIZ_PARENT_AUTH_TOKEN: optionalVar({
    description:
      "(local) the parent account's auth token, for sub-accounts whose callbacks carry `-MA-` signatures",
  }),
});

/**
 * Reads a Secrets Manager secret's `SecretString`: through the SDK (aws-clients.ts) in most functions,
 * through the webhook's own signed request (aws-json.ts), which keeps the SDK out of its cold start.
 */
export type ReadSecret = (secretArn: string) => Promise<string | undefined>;

/**
 * Vobiz credentials: from the Secrets Manager secret named by `VOBIZ_SECRET_ARN` in AWS (JSON
 * `{auth_id, auth_token, parent_auth_token?}`), or from `VOBIZ_AUTH_ID`/`VOBIZ_AUTH_TOKEN` locally.
 * The result is cached by the caller for the life of the container.
 */
export async function loadVobizCredentials(
  env: Record<string, string | undefined>,
  readSecret: ReadSecret,
): Promise<VobizCredentials> {
  const secretArn = CREDENTIALS_ENV.VOBIZ_SECRET_ARN.read(env);
  if (secretArn) {
    const secretString = await readSecret(secretArn);
    let parsed: unknown;
    try {
      parsed = JSON.parse(secretString ?? '');
    } catch {
      throw new ConfigError(
        'VOBIZ_SECRET_ARN: the secret is not JSON {"auth_id", "auth_token", "parent_auth_token"?}',
      );
    }
    const value = parsed as Record<string, unknown>;
    if (typeof value.auth_id !== 'string' || typeof value.auth_token !== 'string') {
      throw new ConfigError('VOBIZ_SECRET_ARN: the secret must hold string fields auth_id and auth_token');
    }
    const parent =
      typeof value.parent_auth_token === 'string' && value.parent_auth_token
        ? value.parent_auth_token
        : undefined;
    return validateCredentials(
      { authId: value.auth_id, authToken: value.auth_token, parentAuthToken: parent },
      'VOBIZ_SECRET_ARN',
    );
  }
  const authId = CREDENTIALS_ENV.VOBIZ_AUTH_ID.read(env);
  const authToken = CREDENTIALS_ENV.VOBIZ_AUTH_TOKEN.read(env);
  if (!authId || !authToken) {
    throw new ConfigError('Set VOBIZ_SECRET_ARN (AWS) or VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN (local)');
  }
  return validateCredentials(
    { authId, authToken, parentAuthToken: CREDENTIALS_ENV.VOBIZ_PARENT_AUTH_TOKEN.read(env) },
    'VOBIZ_AUTH_ID/VOBIZ_AUTH_TOKEN',
  );
}

/** Where the current Vobiz credentials come from; `refresh` re-reads them after Vobiz refused them. */
export interface CredentialsSource {
  current(): Promise<VobizCredentials>;
  /** Re-reads the credentials (rate-limited); true when they changed. */
  refresh(): Promise<boolean>;
}

/** Credentials that never change (tests, scripts). */
export function staticCredentials(credentials: VobizCredentials): CredentialsSource {
  return { current: () => Promise.resolve(credentials), refresh: () => Promise.resolve(false) };
}

export interface CachedCredentialsOptions {
  /** A value older than this is read again before use, so every container sees a rotated token in time. */
  maxAgeMs?: number;
  /** `refresh()` reads the secret at most this often, however many requests are refused. */
  minRefreshIntervalMs?: number;
  nowMs?: () => number;
}

/**
 * Vobiz credentials cached per container with a bounded lifetime. After a token change at Vobiz, a warm
 * container would otherwise keep failing: a 401/403 from Vobiz (or a callback signature that does not
 * verify) calls `refresh()`, which re-reads the secret at most once a minute.
 */
export class CachedCredentials implements CredentialsSource {
  private value: Promise<VobizCredentials> | undefined;
  private good: VobizCredentials | undefined;
  private loadedAtMs = 0;
  private lastRefreshMs = Number.NEGATIVE_INFINITY;
  private readonly maxAgeMs: number;
  private readonly minRefreshIntervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly load: () => Promise<VobizCredentials>,
    options: CachedCredentialsOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 60_000;
    this.now = options.nowMs ?? Date.now;
  }

  current(): Promise<VobizCredentials> {
    if (!this.value || this.now() - this.loadedAtMs >= this.maxAgeMs) return this.reload();
    return this.value;
  }

  async refresh(): Promise<boolean> {
    if (this.now() - this.lastRefreshMs < this.minRefreshIntervalMs) return false;
    this.lastRefreshMs = this.now();
    const before = this.good;
    const after = await this.reload();
    return (
      !before ||
      before.authId !== after.authId ||
      before.authToken !== after.authToken ||
      before.parentAuthToken !== after.parentAuthToken
    );
  }

  private reload(): Promise<VobizCredentials> {
    this.loadedAtMs = this.now();
    const previous = this.good;
    const loading: Promise<VobizCredentials> = this.load().then(
      (value) => {
        this.good = value;
        return value;
      },
      (error: unknown) => {
        // A failed read is not cached: the next use tries again. Until then a transient failure
        // (Secrets Manager throttled) keeps the last good value; a malformed secret is never hidden.
        if (this.value === loading) this.value = undefined;
        if (previous && !(error instanceof ConfigError)) return previous;
        throw error;
      },
    );
    this.value = loading;
    return loading;
  }
}

/**
 * A function's Vobiz credentials: read once at cold start (so a missing or malformed secret fails
 * there), then cached with a bounded lifetime and refreshed after Vobiz refuses them.
 */
export async function loadCachedCredentials(
  env: Record<string, string | undefined>,
  readSecret: ReadSecret,
): Promise<{ source: CredentialsSource; credentials: VobizCredentials }> {
  const source = new CachedCredentials(() => loadVobizCredentials(env, readSecret));
  return { source, credentials: await source.current() };
}
