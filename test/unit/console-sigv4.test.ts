import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { signRequest, uriEncode, type SigningContext } from '../../console/src/sigv4.js';

/** The credentials, time, region and service of AWS's SigV4 test suite. */
const SUITE: SigningContext = {
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  region: 'us-east-1',
  service: 'service',
  date: new Date('2015-08-30T12:36:00Z'),
};
const HOST = 'https://example.amazonaws.com';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SCOPE = 'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

describe('browser SigV4 against the AWS SigV4 test suite', () => {
  it('get-vanilla', async () => {
    const signed = await signRequest({ method: 'GET', url: `${HOST}/` }, SUITE);
    expect(signed.canonicalRequest).toBe(
      [
        'GET',
        '/',
        '',
        'host:example.amazonaws.com',
        'x-amz-date:20150830T123600Z',
        '',
        'host;x-amz-date',
        EMPTY,
      ].join('\n'),
    );
    expect(signed.stringToSign).toBe(
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63',
    );
    expect(signed.headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=${SCOPE}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    );
    expect(signed.headers['x-amz-date']).toBe('20150830T123600Z');
  });

  it('get-vanilla-query-order-key-case: the query is sorted by key', async () => {
    const signed = await signRequest({ method: 'GET', url: `${HOST}/?Param2=value2&Param1=value1` }, SUITE);
    expect(signed.canonicalRequest.split('\n')[2]).toBe('Param1=value1&Param2=value2');
    expect(signed.signature).toBe('b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500');
  });

  it('post-vanilla', async () => {
    const signed = await signRequest({ method: 'POST', url: `${HOST}/` }, SUITE);
    expect(signed.signature).toBe('5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b');
  });

  it('post-x-www-form-urlencoded: the content type is signed and the body hashed', async () => {
    const signed = await signRequest(
      {
        method: 'POST',
        url: `${HOST}/`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'Param1=value1',
      },
      SUITE,
    );
    expect(signed.canonicalRequest).toBe(
      [
        'POST',
        '/',
        '',
        'content-type:application/x-www-form-urlencoded',
        'host:example.amazonaws.com',
        'x-amz-date:20150830T123600Z',
        '',
        'content-type;host;x-amz-date',
        '9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
      ].join('\n'),
    );
    expect(signed.stringToSign.split('\n')[3]).toBe(
      '42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281',
    );
    expect(signed.headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=${SCOPE}, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a`,
    );
  });

  it('post-header-key-sort and get-header-value-trim: names lower-cased and sorted, values trimmed', async () => {
    const sorted = await signRequest(
      { method: 'POST', url: `${HOST}/`, headers: { 'My-Header1': 'value1' } },
      SUITE,
    );
    expect(sorted.signature).toBe('c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c');
    const trimmed = await signRequest(
      {
        method: 'GET',
        url: `${HOST}/`,
        headers: { 'My-Header2': ' "a   b   c" ', 'My-Header1': ' value1 ' },
      },
      SUITE,
    );
    expect(trimmed.signature).toBe('acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736');
  });

  it('get-unreserved: unreserved characters stay as they are', async () => {
    const signed = await signRequest(
      { method: 'GET', url: `${HOST}/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz` },
      SUITE,
    );
    expect(signed.signature).toBe('07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f');
  });
});

describe('browser SigV4 as the console uses it', () => {
  const context: SigningContext = {
    credentials: {
      accessKeyId: 'ASIAEXAMPLEEXAMPLE01',
      secretAccessKey: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I',
      sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE+/=token',
    },
    region: 'ap-south-1',
    service: 'execute-api',
    date: new Date('2026-11-24T09:15:30.123Z'),
  };

  it.each([
    ['/recordings', 'from_number=%2B919876543210&since=2025-11-01&limit=25'],
    ['/recordings/693a45e2-2cd3-4817-9612-2e5b86cca41e/audio', 'download=true'],
    ['/recordings/a%20b', ''],
    ['/recordings', 'cursor=eyJ2IjoxfQ_-&status=stored'],
  ])('signs %s?%s exactly as the AWS SDK does, session token included', async (path, query) => {
    const url = `https://abc123.execute-api.ap-south-1.amazonaws.com${path}${query ? `?${query}` : ''}`;
    const ours = await signRequest({ method: 'GET', url, headers: { accept: 'application/json' } }, context);
    const parsed = new URL(url);
    const sdk = await new SignatureV4({
      credentials: context.credentials,
      region: context.region,
      service: context.service,
      sha256: Sha256,
      applyChecksum: false, // API Gateway needs no x-amz-content-sha256; the console does not send it
    }).sign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: parsed.hostname,
        path: parsed.pathname,
        query: Object.fromEntries(parsed.searchParams),
        headers: { host: parsed.hostname, accept: 'application/json' },
      },
      { signingDate: context.date },
    );
    expect(ours.headers['x-amz-security-token']).toBe(context.credentials.sessionToken);
    expect(ours.headers.authorization).toBe(sdk.headers.authorization);
  });

  it('encodes as RFC 3986 asks, including the characters encodeURIComponent leaves alone', () => {
    expect(uriEncode("a+b c!'()*~")).toBe('a%2Bb%20c%21%27%28%29%2A~');
  });
});
