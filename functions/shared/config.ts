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

/**
 * One environment variable a loader reads, declared once: what it means, its default and what it
 * accepts (Markdown, for docs/reference/environment.md, which `npm run docs` generates from these
 * declarations), and how it is read. Loaders read through `read`, so what is documented is what is read.
 */
export interface EnvVar<T = unknown> {
  readonly name: string;
  readonly description: string;
  /** What an unset variable means: `required`, the default value, or what happens then. */
  readonly default: string;
  /** What it accepts; empty when the description says it all. */
  readonly accepted: string;
  read(env: Env): T;
}

/** A variable before it is named by its table (`envVars`). */
export interface EnvVarSpec<T> {
  readonly description: string;
  readonly default?: string;
  readonly accepted?: string;
  readonly read: (env: Env, name: string) => T;
}

type Named<S> = { readonly [K in keyof S]: S[K] extends EnvVarSpec<infer T> ? EnvVar<T> : never };

/** A loader's variables, named by their keys: `const ENV = envVars({ TABLE_NAME: requiredVar('…') })`. */
export function envVars<S extends Record<string, EnvVarSpec<unknown>>>(specs: S): Named<S> {
  return Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      {
        name,
        description: spec.description,
        default: spec.default ?? '',
        accepted: spec.accepted ?? '',
        read: (env: Env) => spec.read(env, name),
      } satisfies EnvVar,
    ]),
  ) as Named<S>;
}

export function requiredVar(description: string): EnvVarSpec<string> {
  return { description, default: 'required', read: required };
}

export function optionalVar(spec: {
  description: string;
  default?: string;
  accepted?: string;
}): EnvVarSpec<string | undefined> {
  return { ...spec, read: optional };
}

export function integerVar(spec: {
  description: string;
  fallback: number;
  min: number;
  max: number;
  /** The default as the docs say it, when more than the number (`30 (about 24 h)`). */
  default?: string;
}): EnvVarSpec<number> {
  return {
    description: spec.description,
    default: spec.default ?? String(spec.fallback),
    accepted: `${spec.min}–${spec.max}`,
    read: (env, name) => integer(env, name, spec.fallback, spec.min, spec.max),
  };
}

/** The variables of some tables and single variables, once each, in order (what one reader reads). */
export function variablesOf(...parts: (EnvVar | readonly EnvVar[] | Record<string, EnvVar>)[]): EnvVar[] {
  const seen = new Map<string, EnvVar>();
  for (const part of parts) {
    const variables = isEnvVar(part) ? [part] : Array.isArray(part) ? part : Object.values(part);
    for (const variable of variables as EnvVar[]) {
      const known = seen.get(variable.name);
      if (known && known !== variable) throw new Error(`${variable.name} is declared twice`);
      seen.set(variable.name, variable);
    }
  }
  return [...seen.values()];
}

function isEnvVar(value: unknown): value is EnvVar {
  return typeof (value as EnvVar).read === 'function' && typeof (value as EnvVar).name === 'string';
}

/** Read by the AWS SDK itself (and by `createS3Client`): the local stack and the tests point them at the emulators. */
export const AWS_ENV = envVars({
  AWS_REGION: optionalVar({
    description:
      "the function's region; the webhook's own AWS client reads it by name (the SDK does in the other functions)",
    default: 'set by Lambda',
    accepted: 'a region',
  }),
  AWS_DEFAULT_REGION: optionalVar({
    description: 'the region when `AWS_REGION` is unset (outside Lambda)',
    default: 'set by Lambda',
    accepted: 'a region',
  }),
  AWS_ACCESS_KEY_ID: optionalVar({
    description:
      "the function role's credentials, with `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`; unset: the SDK's default chain (profiles, SSO)",
    default: 'set by Lambda',
  }),
  AWS_SECRET_ACCESS_KEY: optionalVar({
    description: 'see `AWS_ACCESS_KEY_ID`',
    default: 'set by Lambda',
  }),
  AWS_SESSION_TOKEN: optionalVar({
    description: 'see `AWS_ACCESS_KEY_ID`',
    default: 'set by Lambda',
  }),
  AWS_ENDPOINT_URL: optionalVar({
    description: 'SDK-standard endpoint override for every service, after the per-service ones',
    default: 'unset: AWS',
    accepted: 'a URL',
  }),
  AWS_USE_FIPS_ENDPOINT: optionalVar({
    description: 'SDK-standard: use the FIPS endpoints (`dynamodb-fips`, `secretsmanager-fips`)',
    default: 'unset: the standard endpoints',
    accepted: '`true`',
  }),
  AWS_USE_DUALSTACK_ENDPOINT: optionalVar({
    description:
      "SDK-standard: dual-stack endpoints; the webhook's own client refuses it at start-up, set its `AWS_ENDPOINT_URL_<SERVICE>` instead",
    default: 'unset',
    accepted: '`true`',
  }),
  AWS_ENDPOINT_URL_SECRETS_MANAGER: optionalVar({
    description: 'SDK-standard endpoint override for Secrets Manager (tests)',
    default: 'unset: AWS',
    accepted: 'a URL',
  }),
  AWS_ENDPOINT_URL_DYNAMODB: optionalVar({
    description: 'SDK-standard endpoint override (local stack, tests)',
    default: 'unset: AWS',
    accepted: 'a URL',
  }),
  AWS_ENDPOINT_URL_S3: optionalVar({
    description:
      'SDK-standard endpoint override (local stack, tests); also switches on path-style addressing',
    default: 'unset: AWS',
    accepted: 'a URL',
  }),
});

/** Read by Powertools in every function; the stack sets most of them (infra/archive-function.ts). */
export const RUNTIME_ENV = envVars({
  POWERTOOLS_LOG_LEVEL: optionalVar({
    description: 'log level',
    default: '`INFO` (the local stack: `WARN`)',
    accepted: '`DEBUG`, `INFO`, `WARN`, `ERROR` (`SILENT` in tests)',
  }),
  POWERTOOLS_SERVICE_NAME: optionalVar({
    description: 'the service name in logs and metrics',
    default: 'set by the stack',
  }),
  POWERTOOLS_METRICS_NAMESPACE: optionalVar({
    description: 'the namespace of the business metrics',
    default: 'set by the stack',
  }),
  POWERTOOLS_METRICS_DISABLED: optionalVar({
    description: 'emit no metrics (the local stack and the tests)',
    accepted: '`true`',
  }),
});

export interface StorageConfig {
  tableName: string;
  bucketName: string;
}

export const STORAGE_ENV = envVars({
  TABLE_NAME: requiredVar('the DynamoDB table (the `TableName` output)'),
  BUCKET_NAME: requiredVar('the audio bucket (the `BucketName` output)'),
});

export function loadStorageConfig(env: Env = process.env): StorageConfig {
  return { tableName: STORAGE_ENV.TABLE_NAME.read(env), bucketName: STORAGE_ENV.BUCKET_NAME.read(env) };
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
export const AUTH_ID_ACCEPTED = '1–64 letters, digits, `_`, `-`';

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
