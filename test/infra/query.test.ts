import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { joinUrl, regionFromApiUrl, signApiRequest } from '../../bin/lib/signed-request.js';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const signingDate = new Date('2026-01-15T12:00:00Z');
const url = 'https://abc123.execute-api.eu-west-1.amazonaws.com/recordings?call_uuid=c-1&limit=10';

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const rfc3986 = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 written out from the AWS documentation, to check the signer against. */
function referenceSignature(
  request: { url: string; method: string; headers: Record<string, string> },
  signedHeaders: string[],
): string {
  const target = new URL(request.url);
  const query = [...target.searchParams]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const lower = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${lower[name]!.trim()}\n`).join('');
  const canonicalRequest = [
    request.method,
    target.pathname,
    query,
    canonicalHeaders,
    signedHeaders.join(';'),
    sha256(''),
  ].join('\n');
  const amzDate = lower['x-amz-date']!;
  const scope = `${amzDate.slice(0, 8)}/eu-west-1/execute-api/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, amzDate.slice(0, 8));
  for (const part of ['eu-west-1', 'execute-api', 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('query: SigV4 signing', () => {
  it('signs for execute-api in the given region with the given credentials and time', async () => {
    const signed = await signApiRequest({ url, region: 'eu-west-1', credentials, signingDate });
    expect(signed.method).toBe('GET');
    expect(signed.headers['x-amz-date']).toBe('20260115T120000Z');
    expect(signed.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20260115\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
  });

  it('produces the signature the SigV4 specification defines (query sorted and encoded)', async () => {
    const signed = await signApiRequest({
      url: `${url}&from_number=%2B911234567890`,
      region: 'eu-west-1',
      credentials,
      signingDate,
    });
    const [, headerList, signature] = /SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(
      signed.headers.authorization!,
    )!;
    expect(signature).toBe(referenceSignature(signed, headerList!.split(';')));
  });

  it('includes the session token of temporary credentials', async () => {
    const signed = await signApiRequest({
      url,
      region: 'eu-west-1',
      credentials: { ...credentials, sessionToken: 'TOKEN' },
      signingDate,
    });
    expect(signed.headers['x-amz-security-token']).toBe('TOKEN');
    expect(signed.headers.authorization).toContain('x-amz-security-token');
  });

  it('changes the signature when the query changes', async () => {
    const a = await signApiRequest({ url, region: 'eu-west-1', credentials, signingDate });
    const b = await signApiRequest({
      url: url.replace('limit=10', 'limit=11'),
      region: 'eu-west-1',
      credentials,
      signingDate,
    });
    expect(a.headers.authorization).not.toBe(b.headers.authorization);
  });
});

describe('query: finding the API', () => {
  it('reads the region from an execute-api URL, not from a custom domain', () => {
    expect(regionFromApiUrl('https://abc123.execute-api.ap-south-1.amazonaws.com')).toBe('ap-south-1');
    expect(regionFromApiUrl('https://archive.example.com')).toBeUndefined();
  });

  it('joins base URL and route without doubling slashes', () => {
    expect(joinUrl('https://h.example/', '/recordings?limit=1')).toBe('https://h.example/recordings?limit=1');
    expect(joinUrl('https://h.example/v1', 'recordings/r-1/audio')).toBe(
      'https://h.example/v1/recordings/r-1/audio',
    );
  });
});
