import type { AuthConfig } from './config.js';
import type { AwsCredentials } from './sigv4.js';

/**
 * Sign-in in AWS: Cognito managed login with the authorization code flow and PKCE, then the identity
 * pool's `GetId` and `GetCredentialsForIdentity` (plain JSON calls) turn the ID token into temporary
 * AWS credentials of the role of the user's group. Tokens and credentials live in this page's memory
 * only (no script injected later can read them from storage, and nothing outlives the page); a reload
 * signs in again through managed login, which answers at once while its own session lasts. The only
 * thing kept in sessionStorage is the pending sign-in (PKCE state and verifier, where to come back to),
 * which must survive the redirect and is removed on return. Sign-out revokes the refresh token.
 */
export interface Session {
  email: string;
  groups: string[];
  credentials(): Promise<AwsCredentials>;
  /** Revokes the refresh token, then leaves for managed login's logout (which ends its session). */
  signOut(): Promise<void>;
}

interface Tokens {
  idToken: string;
  refreshToken?: string;
  /** Epoch ms when the ID token expires. */
  expiresAt: number;
}

const PENDING = 'vra.pkce';
const REFRESH_EARLY_MS = 5 * 60_000;
/** Sign-out waits at most this long for the revocation before it leaves for the logout page. */
const REVOKE_TIMEOUT_MS = 3_000;
/** Parameters managed login adds to the return URL: never part of the page to come back to. */
const SIGN_IN_PARAMETERS = ['code', 'state', 'error', 'error_description', 'error_uri'];
/** Shown instead of what the login page put in the address bar (anyone can craft that link). */
export const SIGN_IN_FAILED =
  'The login page did not sign you in. Reload to try again; if it keeps failing, ask an administrator.';

export class SignInError extends Error {
  override name = 'SignInError';
}

function base64Url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(bytes = 32): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The claims of a JWT, unverified: only for display. The identity pool verifies the token itself. */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  const padded = part
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

function redirectUri(): string {
  return `${location.origin}${location.pathname.replace(/[^/]*$/, '')}`;
}

async function tokenRequest(config: AuthConfig, body: Record<string, string>): Promise<Tokens> {
  const response = await fetch(`${config.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: config.userPoolClientId, ...body }).toString(),
  });
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof json.id_token !== 'string')
    throw new SignInError(
      `Sign-in failed: ${typeof json.error === 'string' ? json.error : `HTTP ${response.status}`}`,
    );
  return {
    idToken: json.id_token,
    refreshToken: typeof json.refresh_token === 'string' ? json.refresh_token : body.refresh_token,
    expiresAt: Date.now() + Number(json.expires_in ?? 3600) * 1000,
  };
}

async function identityCall<T>(config: AuthConfig, target: string, body: unknown): Promise<T> {
  const response = await fetch(`https://cognito-identity.${config.region}.amazonaws.com/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityService.${target}`,
    },
    body: JSON.stringify(body),
  });
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const type = str(json.__type).split('#').pop();
    throw new SignInError(
      type === 'NotAuthorizedException' || type === 'InvalidIdentityPoolConfigurationException'
        ? 'Your account has no access to the archive yet: an administrator must add you to the reviewers or admins group.'
        : `Could not get credentials (${type || `HTTP ${response.status}`}: ${str(json.message)})`,
    );
  }
  return json as T;
}

/** The page's query without what a sign-in added to it (`?` and all when nothing is left). */
export function withoutSignInParameters(search: string): string {
  const params = new URLSearchParams(search);
  for (const name of SIGN_IN_PARAMETERS) params.delete(name);
  const rest = params.toString();
  return rest ? `?${rest}` : '';
}

/** Sends the browser to managed login; remembers where to come back to. */
async function redirectToSignIn(config: AuthConfig): Promise<never> {
  const verifier = randomString(48);
  const state = randomString(16);
  const challenge = base64Url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  const returnTo = withoutSignInParameters(location.search);
  sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier, returnTo }));
  const url = new URL(`${config.domain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.userPoolClientId,
    redirect_uri: redirectUri(),
    scope: 'openid email profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
  return new Promise<never>(() => undefined); // the page is going away
}

/**
 * Returns the signed-in session, finishing a sign-in that just came back with a code, or sends the
 * browser to managed login (and never resolves).
 */
export async function signIn(config: AuthConfig): Promise<Session> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return redirectToSignIn(config);
  const pending = readPending();
  sessionStorage.removeItem(PENDING);
  // The code, state or error must not stay in the address bar (nor in a bookmark or a reload).
  history.replaceState(
    null,
    '',
    `${location.pathname}${pending?.returnTo ?? withoutSignInParameters(location.search)}`,
  );
  if (params.has('error')) throw new SignInError(SIGN_IN_FAILED);
  if (!pending || pending.state !== params.get('state')) return redirectToSignIn(config);
  let current: Tokens = await tokenRequest(config, {
    grant_type: 'authorization_code',
    code: params.get('code')!,
    redirect_uri: redirectUri(),
    code_verifier: pending.verifier,
  });

  let cached: CachedCredentials | undefined;
  let identityId: string | undefined;
  let inFlight: Promise<AwsCredentials> | undefined;

  async function freshIdToken(): Promise<string> {
    if (current.expiresAt - Date.now() > REFRESH_EARLY_MS) return current.idToken;
    if (!current.refreshToken) return redirectToSignIn(config);
    try {
      current = await tokenRequest(config, {
        grant_type: 'refresh_token',
        refresh_token: current.refreshToken,
      });
    } catch {
      return redirectToSignIn(config);
    }
    return current.idToken;
  }

  /** Revokes the refresh token (and the tokens issued with it); never holds sign-out up for long. */
  async function revoke(): Promise<void> {
    if (!current.refreshToken) return;
    await fetch(`${config.domain}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: current.refreshToken,
        client_id: config.userPoolClientId,
      }).toString(),
      signal: AbortSignal.timeout(REVOKE_TIMEOUT_MS),
    }).catch(() => undefined);
  }

  async function fetchCredentials(): Promise<AwsCredentials> {
    const idToken = await freshIdToken();
    const logins = { [`cognito-idp.${config.region}.amazonaws.com/${config.userPoolId}`]: idToken };
    identityId ??= (
      await identityCall<{ IdentityId: string }>(config, 'GetId', {
        IdentityPoolId: config.identityPoolId,
        Logins: logins,
      })
    ).IdentityId;
    const { Credentials } = await identityCall<{
      Credentials: { AccessKeyId: string; SecretKey: string; SessionToken: string; Expiration: number };
    }>(config, 'GetCredentialsForIdentity', { IdentityId: identityId, Logins: logins });
    const credentials = {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretKey,
      sessionToken: Credentials.SessionToken,
    };
    // Expiration is epoch seconds; never beyond the ID token the credentials were obtained with.
    cached = { credentials, expiresAt: Credentials.Expiration * 1000 };
    return credentials;
  }

  const claims = jwtClaims(current.idToken);
  return {
    email: str(claims.email) || str(claims['cognito:username']) || 'signed in',
    groups: Array.isArray(claims['cognito:groups'])
      ? (claims['cognito:groups'] as unknown[]).map(String)
      : [],
    credentials() {
      if (cached && cached.expiresAt - Date.now() > REFRESH_EARLY_MS)
        return Promise.resolve(cached.credentials);
      inFlight ??= fetchCredentials().finally(() => (inFlight = undefined));
      return inFlight;
    },
    signOut() {
      const url = new URL(`${config.domain}/logout`);
      url.search = new URLSearchParams({
        client_id: config.userPoolClientId,
        logout_uri: redirectUri(),
      }).toString();
      cached = undefined;
      return revoke().then(() => location.assign(url.toString()));
    },
  };
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

interface CachedCredentials {
  credentials: AwsCredentials;
  expiresAt: number;
}

function readPending(): { state: string; verifier: string; returnTo: string } | undefined {
  try {
    const value = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as {
      state?: unknown;
      verifier?: unknown;
      returnTo?: unknown;
    } | null;
    if (typeof value?.state !== 'string' || typeof value.verifier !== 'string') return undefined;
    return {
      state: value.state,
      verifier: value.verifier,
      returnTo: withoutSignInParameters(typeof value.returnTo === 'string' ? value.returnTo : ''),
    };
  } catch {
    return undefined;
  }
}
