/**
 * Configuration is read from the environment once per container and fails fast with a message that
 * names the variable: a misconfigured function should die at cold start, not on the first callback.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`Missing required environment variable ${name}`);
  return value;
}

export function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

export interface StorageConfig {
  tableName: string;
  bucketName: string;
}

export function loadStorageConfig(env: Env = process.env): StorageConfig {
  return { tableName: required(env, 'TABLE_NAME'), bucketName: required(env, 'BUCKET_NAME') };
}

/**
 * An allowed media origin (where audio may be *downloaded* from): exact (`http://127.0.0.1:4010`) or a
 * wildcard (`https://*.vobiz.ai`) that matches subdomains at any depth (`media.vobiz.ai`,
 * `a.b.vobiz.ai`) but not the bare domain. Where the Vobiz *credentials* may go is narrower: see
 * `isVobizOrigin`.
 */
export interface OriginPattern {
  protocol: 'http:' | 'https:';
  host: string; // without the `*.`
  wildcard: boolean;
  port: string; // '' for the protocol's default
}

export const DEFAULT_MEDIA_ORIGINS = 'https://*.vobiz.ai';

export function parseOriginPatterns(value: string): OriginPattern[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new ConfigError('ALLOWED_MEDIA_ORIGINS must list at least one origin');
  return entries.map((entry) => {
    const match = /^(https?):\/\/(\*\.)?([a-z0-9.-]+|\[[0-9a-f:]+\])(?::(\d{1,5}))?\/?$/i.exec(entry);
    if (!match) {
      throw new ConfigError(
        `ALLOWED_MEDIA_ORIGINS entry "${entry}" is not an origin like https://*.vobiz.ai or http://127.0.0.1:4010`,
      );
    }
    const protocol = `${match[1]!.toLowerCase()}:` as 'http:' | 'https:';
    const port = match[4] ?? '';
    const defaultPort = protocol === 'https:' ? '443' : '80';
    return {
      protocol,
      wildcard: Boolean(match[2]),
      host: match[3]!.toLowerCase(),
      port: port === defaultPort ? '' : port,
    };
  });
}

/** The URL, or undefined when it does not parse or carries a user name or password. */
function parseUrlWithoutUserinfo(rawUrl: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return undefined;
  }
  return url.username || url.password ? undefined : url;
}

/** Whether a URL (from the Retrieve Recording response) may be downloaded. Never matches userinfo URLs. */
export function isAllowedOrigin(rawUrl: string, patterns: readonly OriginPattern[]): boolean {
  const url = parseUrlWithoutUserinfo(rawUrl);
  if (!url) return false;
  const host = url.hostname.toLowerCase();
  return patterns.some(
    (p) =>
      p.protocol === url.protocol &&
      p.port === url.port &&
      (p.wildcard ? host.endsWith(`.${p.host}`) && host.length > p.host.length + 1 : host === p.host),
  );
}

/**
 * Whether Vobiz's API credentials may be sent to this URL's origin: `https://vobiz.ai` or exactly one
 * label under it (`https://media.vobiz.ai`) on the default port, or the origin of the configured API base
 * URL (the local simulator serves the API and the audio). Never a URL with userinfo.
 */
export function isVobizOrigin(rawUrl: string, apiBaseUrl: string): boolean {
  const url = parseUrlWithoutUserinfo(rawUrl);
  if (!url) return false;
  if (url.origin === new URL(apiBaseUrl).origin) return true;
  return url.protocol === 'https:' && url.port === '' && /^([a-z0-9-]+\.)?vobiz\.ai$/.test(url.hostname);
}

/**
 * What the stack writes into the Vobiz secret it creates (infra/vobiz-secret.ts) until the operator puts
 * the real value (`vobiz-archive set-secret`); it fails AUTH_ID_PATTERN, so the functions refuse it.
 */
export const VOBIZ_SECRET_PLACEHOLDER_AUTH_ID = 'REPLACE ME: your Vobiz auth_id';

/** Auth ids become part of S3 keys and URL paths. */
export const AUTH_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface VobizCredentials {
  authId: string;
  authToken: string;
  parentAuthToken?: string;
}

export function validateCredentials(credentials: VobizCredentials, source: string): VobizCredentials {
  if (!AUTH_ID_PATTERN.test(credentials.authId))
    throw new ConfigError(`${source}: auth_id has an unexpected format`);
  if (!credentials.authToken) throw new ConfigError(`${source}: auth_token is empty`);
  return credentials;
}

export function parseBaseUrl(value: string, name: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('protocol');
    return url.toString().replace(/\/+$/, '');
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${value}"`);
  }
}
