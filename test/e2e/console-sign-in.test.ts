import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HTTPRequest, Page } from 'puppeteer-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createConsoleFiles } from '../../local/console-files.js';
import { launchChromium, type RunningBrowser } from '../support/browser.js';

/**
 * The console's AWS mode in Chromium: managed login (authorization code + PKCE), the identity pool's
 * GetId / GetCredentialsForIdentity, and SigV4-signed API calls. Cognito and the API are stand-ins
 * answered by request interception; each API request's signature is recomputed with the AWS SDK's
 * signer and must match.
 */
const AUTH = {
  region: 'us-east-1',
  userPoolId: 'us-east-1_TestPool1',
  userPoolClientId: 'console-client-0001',
  identityPoolId: 'us-east-1:11111111-2222-3333-4444-555555555555',
  domain: 'https://vobiz-archive-test.auth.us-east-1.amazoncognito.com',
};
const API = 'https://abc123.execute-api.us-east-1.amazonaws.com';
const IDENTITY = 'https://cognito-identity.us-east-1.amazonaws.com';
const CREDENTIALS = {
  accessKeyId: 'ASIATESTTESTTEST0001',
  secretAccessKey: 'dGVzdC1zZWNyZXQtYWNjZXNzLWtleS0wMTIzNDU2Nzg5',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE/session+token=',
};
const RECORD = {
  recording_id: 'rec-signed-1',
  status: 'stored',
  add_time_ms: Date.UTC(2026, 10, 20, 9, 30),
  from_number: '+919812340060',
  to_number: '918000000001',
  recording_duration_ms: 61_000,
  recording_format: 'mp3',
  size_bytes: 244_000,
};

let server: Server;
let origin: string;
let chromium: RunningBrowser;
let page: Page;

interface Seen {
  authorize?: URLSearchParams;
  token?: URLSearchParams;
  revoke?: URLSearchParams;
  logout?: URLSearchParams;
  identity: { target: string; body: Record<string, unknown> }[];
  api: { method: string; url: string; body?: string; authorization: string; verified: boolean }[];
}
let seen: Seen;
let groups: string[];

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'test' })}.${part(claims)}.c2lnbmF0dXJl`;
}

const cors = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': '*',
  'access-control-allow-methods': '*',
};

async function verifySignature(request: HTTPRequest): Promise<boolean> {
  const headers = request.headers();
  const url = new URL(request.url());
  const signedNames = /SignedHeaders=([^,]+)/.exec(headers.authorization ?? '')?.[1]?.split(';') ?? [];
  const signed: Record<string, string> = {};
  for (const name of signedNames) signed[name] = name === 'host' ? url.host : (headers[name] ?? '');
  const date = headers['x-amz-date'] ?? '';
  const expected = await new SignatureV4({
    credentials: CREDENTIALS,
    region: AUTH.region,
    service: 'execute-api',
    sha256: Sha256,
    applyChecksum: false,
  }).sign(
    {
      method: request.method(),
      protocol: 'https:',
      hostname: url.hostname,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: signed,
      body: request.postData() ?? '',
    },
    {
      signingDate: new Date(
        `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
      ),
    },
  );
  return expected.headers.authorization === headers.authorization;
}

async function answer(request: HTTPRequest): Promise<void> {
  const url = new URL(request.url());
  if (url.origin === origin || request.isInterceptResolutionHandled()) return request.continue();
  if (request.method() === 'OPTIONS') return request.respond({ status: 204, headers: cors });
  if (url.origin === AUTH.domain && url.pathname === '/oauth2/authorize') {
    seen.authorize = url.searchParams;
    const back = new URL(url.searchParams.get('redirect_uri')!);
    back.search = new URLSearchParams({ code: 'the-code', state: url.searchParams.get('state')! }).toString();
    return request.respond({ status: 302, headers: { location: back.toString() } });
  }
  if (url.origin === AUTH.domain && url.pathname === '/oauth2/revoke') {
    seen.revoke = new URLSearchParams(request.postData() ?? '');
    return request.respond({ status: 200, headers: cors, body: '' });
  }
  if (url.origin === AUTH.domain && url.pathname === '/logout') {
    seen.logout = url.searchParams;
    return request.respond({ status: 200, contentType: 'text/html', body: '<p>Signed out</p>' });
  }
  if (url.origin === AUTH.domain && url.pathname === '/oauth2/token') {
    seen.token = new URLSearchParams(request.postData() ?? '');
    const claims = { email: 'asha@example.com', 'cognito:groups': groups, exp: Date.now() / 1000 + 3600 };
    return request.respond({
      status: 200,
      headers: cors,
      contentType: 'application/json',
      body: JSON.stringify({
        id_token: jwt(claims),
        refresh_token: 'refresh',
        expires_in: 3600,
        token_type: 'Bearer',
      }),
    });
  }
  if (url.origin === IDENTITY) {
    const target = request.headers()['x-amz-target'] ?? '';
    seen.identity.push({ target, body: JSON.parse(request.postData() ?? '{}') as Record<string, unknown> });
    const json = (status: number, body: unknown) =>
      request.respond({
        status,
        headers: cors,
        contentType: 'application/x-amz-json-1.1',
        body: JSON.stringify(body),
      });
    if (target.endsWith('GetId')) return json(200, { IdentityId: 'us-east-1:identity-0001' });
    if (groups.length === 0)
      return json(400, {
        __type: 'NotAuthorizedException',
        message: 'Token is not from a supported provider',
      });
    return json(200, {
      IdentityId: 'us-east-1:identity-0001',
      Credentials: {
        AccessKeyId: CREDENTIALS.accessKeyId,
        SecretKey: CREDENTIALS.secretAccessKey,
        SessionToken: CREDENTIALS.sessionToken,
        Expiration: Math.floor(Date.now() / 1000) + 3600,
      },
    });
  }
  if (url.origin === API) {
    const verified = await verifySignature(request);
    seen.api.push({
      method: request.method(),
      url: request.url(),
      body: request.postData(),
      authorization: request.headers().authorization ?? '',
      verified,
    });
    if (!verified)
      return request.respond({
        status: 403,
        headers: cors,
        contentType: 'application/json',
        body: '{"message":"Forbidden"}',
      });
    const body =
      url.pathname === '/recordings'
        ? { items: [RECORD], next_cursor: null }
        : url.pathname === '/audit'
          ? { items: [], next_cursor: null }
          : url.pathname.endsWith('/legal-hold')
            ? {
                recording_id: RECORD.recording_id,
                status: 'stored',
                legal_hold: true,
                legal_hold_at: new Date().toISOString(),
                legal_hold_by: 'arn:aws:sts::1:assumed-role/admins/CognitoIdentityCredentials',
                legal_hold_reason: 'CASE-9',
                already_held: false,
              }
            : url.pathname.endsWith('/audio')
              ? {
                  url: 'https://audio.example/rec-signed-1.mp3',
                  expires_at: new Date(Date.now() + 900_000).toISOString(),
                }
              : RECORD;
    return request.respond({
      status: 200,
      headers: cors,
      contentType: 'application/json',
      body: JSON.stringify(body),
    });
  }
  return request.abort();
}

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const files = createConsoleFiles({
    mediaOrigin: 'https://audio.example',
    config: { apiUrl: API, region: AUTH.region, auth: AUTH, stage: 'signed' },
    connect: [API, IDENTITY, AUTH.domain],
  });
  server.on('request', (req, res) => {
    const response = files.handle(req.method ?? 'GET', (req.url ?? '/').split('?')[0]!, req.url ?? '/');
    if (!response) return void res.writeHead(404).end();
    res.writeHead(response.statusCode, response.headers).end(response.body);
  });
  chromium = await launchChromium();
}, 60_000);

beforeEach(async () => {
  // The previous test's page first: a request it still had in flight must not count for this one.
  await page?.close();
  seen = { identity: [], api: [] };
  groups = ['reviewers'];
  page = await chromium.browser.newPage();
  await page.setRequestInterception(true);
  page.on('request', (request) => void answer(request));
});

afterAll(async () => {
  await chromium?.close();
  server?.close();
});

describe('the console signed in through Cognito', () => {
  it('signs in with PKCE, gets identity pool credentials and signs every API call with them', async () => {
    await page.goto(`${origin}/console/?number=%2B919812340060`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('tbody tr');

    const authorize = seen.authorize!;
    expect(authorize.get('response_type')).toBe('code');
    expect(authorize.get('client_id')).toBe(AUTH.userPoolClientId);
    expect(authorize.get('redirect_uri')).toBe(`${origin}/console/`);
    expect(authorize.get('code_challenge_method')).toBe('S256');
    const token = seen.token!;
    expect(token.get('grant_type')).toBe('authorization_code');
    expect(token.get('code')).toBe('the-code');
    expect(createHash('sha256').update(token.get('code_verifier')!).digest('base64url')).toBe(
      authorize.get('code_challenge'),
    );

    const provider = `cognito-idp.us-east-1.amazonaws.com/${AUTH.userPoolId}`;
    expect(seen.identity.map((call) => call.target)).toEqual([
      'AWSCognitoIdentityService.GetId',
      'AWSCognitoIdentityService.GetCredentialsForIdentity',
    ]);
    expect(seen.identity[0]!.body).toMatchObject({ IdentityPoolId: AUTH.identityPoolId });
    expect(Object.keys(seen.identity[1]!.body.Logins as object)).toEqual([provider]);

    expect(seen.api.length).toBeGreaterThanOrEqual(2); // calls from and to the number
    for (const call of seen.api) {
      expect(call.verified, call.url).toBe(true);
      expect(call.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=ASIATESTTESTTEST0001\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=[^,]*x-amz-security-token/,
      );
    }
    // Back on the page the person asked for, without the code in the address bar.
    expect(new URL(page.url()).search).toBe('?number=%2B919812340060');
    expect(await page.$eval('.user', (el) => el.textContent)).toContain('asha@example.com (reviewers)');
    expect(await page.$$eval('tbody tr', (rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual([
      RECORD.recording_id,
    ]);

    // Tokens and credentials stay in the page's memory: nothing of them in the tab's or the site's storage.
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    expect(stored).toBe('{}');
    const cookies = await page.cookies();
    expect(cookies).toEqual([]);

    // A second page load signs in again through managed login (its session answers at once, as here).
    seen.authorize = undefined;
    seen.identity = [];
    await page.goto(`${origin}/console/?id=${RECORD.recording_id}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('dl.facts');
    expect(seen.authorize).toBeDefined();
    expect(new URL(page.url()).search).toBe(`?id=${RECORD.recording_id}`);
    expect(seen.api.map((call) => call.url)).toEqual(
      expect.arrayContaining([
        `${API}/recordings/${RECORD.recording_id}`,
        `${API}/recordings/${RECORD.recording_id}/audio`,
      ]),
    );
    expect(seen.api.every((call) => call.verified)).toBe(true);
  });

  it('revokes the refresh token on sign-out, then leaves for the managed login logout', async () => {
    await page.goto(`${origin}/console/`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('.user');
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'networkidle0' }),
      page.$$eval('button.link', (buttons) =>
        (buttons.find((b) => b.textContent === 'Sign out') as HTMLButtonElement).click(),
      ),
    ]);
    expect(Object.fromEntries(seen.revoke!)).toEqual({ token: 'refresh', client_id: AUTH.userPoolClientId });
    expect(seen.logout?.get('client_id')).toBe(AUTH.userPoolClientId);
    expect(page.url()).toMatch(new RegExp(`^${AUTH.domain}/logout`));
  });

  it('does not carry a stale code or state into the page it comes back to', async () => {
    await page.goto(`${origin}/console/?number=%2B919812340060&code=stale&state=stale`, {
      waitUntil: 'networkidle0',
    });
    await page.waitForSelector('tbody tr');
    expect(seen.token?.get('code')).toBe('the-code');
    expect(new URL(page.url()).search).toBe('?number=%2B919812340060');
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }))).toBe('{}');
  });

  it('shows a fixed message when the login page reports an error, never the text in the link', async () => {
    const crafted = 'Your account is locked. Call +1 555 0100 now';
    await page.goto(
      `${origin}/console/?error=access_denied&error_description=${encodeURIComponent(crafted)}`,
      { waitUntil: 'networkidle0' },
    );
    await page.waitForSelector('.notice-error');
    const message = await page.$eval('.notice-error', (el) => el.textContent);
    expect(message).toContain('The login page did not sign you in.');
    expect(message).not.toContain('Call +1');
    expect(new URL(page.url()).search).toBe('');
    expect(seen.api).toEqual([]);
  });

  it('shows an administrator the actions and the audit log, and signs a hold with its JSON body', async () => {
    groups = ['admins'];
    await page.goto(`${origin}/console/?id=${RECORD.recording_id}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('section.admin-actions');
    expect(await page.$$eval('nav.views a', (a) => a.map((e) => e.textContent))).toEqual([
      'Search',
      'Audit log',
    ]);
    expect(await page.$('section.listened')).not.toBeNull();
    await page.click('button[data-action="hold"]');
    await page.type('#hold-reason', 'CASE-9');
    await page.click('form[data-form="hold"] button[type="submit"]');
    await page.waitForSelector('.outcome .notice');
    const hold = seen.api.find((call) => call.method === 'PUT')!;
    expect(hold).toMatchObject({
      url: `${API}/recordings/${RECORD.recording_id}/legal-hold`,
      body: '{"reason":"CASE-9"}',
      verified: true,
    });
    expect(seen.api.every((call) => call.verified)).toBe(true);
    expect(seen.api.map((call) => new URL(call.url).pathname)).toContain('/audit');
  });

  it('shows a reviewer no actions and no audit log, and asks for nothing an administrator would', async () => {
    await page.goto(`${origin}/console/?id=${RECORD.recording_id}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('dl.facts');
    expect(await page.$('section.admin-actions')).toBeNull();
    expect(await page.$('section.listened')).toBeNull();
    expect(await page.$$eval('nav.views a', (a) => a.map((e) => e.textContent))).toEqual(['Search']);
    // (The stand-in audio cannot play, so the player asks for a fresh link once: the same call again.)
    expect(
      [...new Set(seen.api.map((call) => `${call.method} ${new URL(call.url).pathname}`))].sort(),
    ).toEqual([`GET /recordings/${RECORD.recording_id}`, `GET /recordings/${RECORD.recording_id}/audio`]);
  });

  it('tells a signed-in person without a group that an administrator must add them', async () => {
    groups = [];
    await page.goto(`${origin}/console/`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('.notice-error');
    const message = await page.$eval('.notice-error', (el) => el.textContent);
    expect(message).toContain('Sign-in did not work.');
    expect(message).toContain('an administrator must add you to the reviewers or admins group');
    expect(seen.api).toEqual([]);
  });
});
