/** The console's runtime configuration: a JSON block in `index.html`, written at deploy time. */
export interface AuthConfig {
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  identityPoolId: string;
  /** The user pool's managed login domain, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  domain: string;
}

export interface ConsoleConfig {
  /** Base URL of the lookup API; empty means the console's own origin (the local stack). */
  apiUrl: string;
  region: string;
  /** Cognito sign-in; `null` locally, where requests go unsigned to the same origin. */
  auth: AuthConfig | null;
  stage?: string;
}

export class ConfigError extends Error {}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new ConfigError(`config: ${name} must be a string`);
  return value;
}

export function parseConfig(raw: unknown): ConsoleConfig {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('config is not a JSON object');
  const value = raw as Record<string, unknown>;
  const apiUrl = text(value.apiUrl ?? '', 'apiUrl').replace(/\/+$/, '');
  if (apiUrl !== '' && !/^https?:\/\/[^/]+$/.test(apiUrl))
    throw new ConfigError(
      'config: apiUrl must be an origin like https://abc.execute-api.eu-west-1.amazonaws.com',
    );
  let auth: AuthConfig | null = null;
  if (value.auth !== null && value.auth !== undefined) {
    const a = value.auth as Record<string, unknown>;
    auth = {
      region: text(a.region, 'auth.region'),
      userPoolId: text(a.userPoolId, 'auth.userPoolId'),
      userPoolClientId: text(a.userPoolClientId, 'auth.userPoolClientId'),
      identityPoolId: text(a.identityPoolId, 'auth.identityPoolId'),
      domain: text(a.domain, 'auth.domain').replace(/\/+$/, ''),
    };
  }
  return {
    apiUrl,
    region: text(value.region ?? auth?.region ?? 'us-east-1', 'region'),
    auth,
    ...(typeof value.stage === 'string' ? { stage: value.stage } : {}),
  };
}

/** The text of the configuration block `index.html` carries (`<script type="application/json" id="config">`). */
export function configFromBlock(text: string | null | undefined): ConsoleConfig {
  if (!text) throw new ConfigError('index.html carries no configuration');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError('the configuration in index.html is not valid JSON');
  }
  return parseConfig(raw);
}
