import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SIGN_IN_FAILED, signIn, SignInError, withoutSignInParameters } from '../../../console/src/auth.js';

/** The browser's globals the sign-in uses, in memory: address bar, history, this tab's storage, fetch. */
const AUTH = {
  region: 'us-east-1',
  userPoolId: 'us-east-1_Pool',
  userPoolClientId: 'client-1',
  identityPoolId: 'us-east-1:pool',
  domain: 'https://login.example',
};
const ORIGIN = 'https://console.example';

let storage: Map<string, string>;
let address: URL;
let assigned: string[];
let requests: { url: string; body: string }[];
let revokeFails: boolean;

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(claims)}.sig`;
}

beforeEach(() => {
  storage = new Map();
  assigned = [];
  requests = [];
  revokeFails = false;
  address = new URL(`${ORIGIN}/console/`);
  vi.stubGlobal('sessionStorage', {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => void storage.set(key, value),
    removeItem: (key: string) => void storage.delete(key),
  });
  vi.stubGlobal('location', {
    get search() {
      return address.search;
    },
    get pathname() {
      return address.pathname;
    },
    get origin() {
      return address.origin;
    },
    assign: (url: string) => void assigned.push(url),
  });
  vi.stubGlobal('history', {
    replaceState: (_state: unknown, _title: string, url: string) => void (address = new URL(url, address)),
  });
  vi.stubGlobal('fetch', (url: string, init: { body?: string }) => {
    requests.push({ url, body: init.body ?? '' });
    const json = (body: unknown) => Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
    if (url.endsWith('/oauth2/token'))
      return json({
        id_token: jwt({ email: 'asha@example.com' }),
        refresh_token: 'the-refresh-token',
        expires_in: 3600,
      });
    if (url.endsWith('/oauth2/revoke'))
      return revokeFails
        ? Promise.reject(new TypeError('network'))
        : Promise.resolve(new Response('', { status: 200 }));
    if (url.startsWith('https://cognito-identity.'))
      return json({
        IdentityId: 'id-1',
        Credentials: {
          AccessKeyId: 'ASIA1',
          SecretKey: 'secret',
          SessionToken: 'session',
          Expiration: Date.now() / 1000 + 3600,
        },
      });
    return Promise.reject(new Error(`unexpected ${url}`));
  });
});
afterEach(() => vi.unstubAllGlobals());

/** Starts a sign-in from `search`, then comes back from managed login with `back` (state filled in). */
async function signInFrom(search: string, back: (state: string) => string) {
  address = new URL(`${ORIGIN}/console/${search}`);
  void signIn(AUTH);
  await vi.waitFor(() => expect(assigned).toHaveLength(1));
  const state = new URL(assigned[0]!).searchParams.get('state')!;
  assigned = [];
  address = new URL(`${ORIGIN}/console/${back(state)}`);
  return signIn(AUTH);
}

describe('console sign-in', () => {
  it('strips the sign-in parameters from a page address, keeping the rest', () => {
    expect(withoutSignInParameters('?number=%2B91&code=old&state=s&error=x&error_description=y')).toBe(
      '?number=%2B91',
    );
    expect(withoutSignInParameters('?code=old&state=s')).toBe('');
    expect(withoutSignInParameters('')).toBe('');
  });

  it('comes back to the page asked for without a stale code or state in it', async () => {
    const session = await signInFrom(
      '?number=%2B919812340060&code=stale&state=stale',
      (state) => `?code=new&state=${state}`,
    );
    expect(address.search).toBe('?number=%2B919812340060');
    expect(new URLSearchParams(requests[0]!.body).get('code')).toBe('new');
    expect(session.email).toBe('asha@example.com');
  });

  it('keeps tokens and credentials in memory only: nothing but the pending sign-in ever reaches storage', async () => {
    const written: string[] = [];
    const setItem = (key: string, value: string) => {
      written.push(key);
      storage.set(key, value);
    };
    vi.stubGlobal('sessionStorage', { ...sessionStorage, setItem });
    const session = await signInFrom('', (state) => `?code=c&state=${state}`);
    await session.credentials();
    expect(new Set(written)).toEqual(new Set(['vra.pkce']));
    expect(storage.size).toBe(0);
  });

  it('shows a fixed message for an error from the login page, never what the link says, and clears the address', async () => {
    const crafted = 'Your account is locked. Call +1 555 0100 to unlock it';
    await expect(
      signInFrom(
        '?number=%2B91',
        () => `?error=access_denied&error_description=${encodeURIComponent(crafted)}`,
      ),
    ).rejects.toThrow(new SignInError(SIGN_IN_FAILED));
    expect(address.search).toBe('?number=%2B91');
  });

  it('revokes the refresh token before leaving for the logout page, and leaves even if revocation fails', async () => {
    for (const fails of [false, true]) {
      requests = [];
      assigned = [];
      revokeFails = fails;
      const session = await signInFrom('', (state) => `?code=c&state=${state}`);
      await session.signOut();
      const revoke = requests.find((r) => r.url === `${AUTH.domain}/oauth2/revoke`);
      expect(Object.fromEntries(new URLSearchParams(revoke!.body))).toEqual({
        token: 'the-refresh-token',
        client_id: AUTH.userPoolClientId,
      });
      expect(assigned.map((url) => new URL(url).pathname)).toEqual(['/logout']);
    }
  });
});
