import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  computeSignature,
  signatureBaseUrl,
  verifySignatures,
} from '../../functions/shared/domain/signature.js';

const url = 'https://hooks.example.com/webhooks/vobiz/recording';
const token = 'auth-token';
const parent = 'parent-token';
const nonce = '12345678901234567890';

function hmac(key: string, data: string) {
  return createHmac('sha256', key).update(data).digest('base64');
}

describe('Vobiz signatures', () => {
  it('computes V3 over url + "." + nonce and V2 over url + nonce, as documented', () => {
    expect(computeSignature('V3', token, url, nonce)).toBe(hmac(token, `${url}.${nonce}`));
    expect(computeSignature('V2', token, url, nonce)).toBe(hmac(token, `${url}${nonce}`));
    expect(computeSignature('MA-V3', parent, url, nonce)).toBe(hmac(parent, `${url}.${nonce}`));
  });

  it('strips the query string and fragment from the signed URL', () => {
    expect(signatureBaseUrl(`${url}?a=1&b=2`)).toBe(url);
    expect(signatureBaseUrl(`${url}#x`)).toBe(url);
    expect(signatureBaseUrl(url)).toBe(url);
  });

  it('verifies V3 and V2 headers and returns every verified nonce', () => {
    const result = verifySignatures({
      baseUrl: url,
      authToken: token,
      headers: {
        'x-vobiz-signature-v3': hmac(token, `${url}.${nonce}`),
        'x-vobiz-signature-v3-nonce': nonce,
        'x-vobiz-signature-v2': hmac(token, `${url}99999999999999999999`),
        'x-vobiz-signature-v2-nonce': '99999999999999999999',
      },
    });
    expect(result).toEqual({
      ok: true,
      verified: [
        { scheme: 'V3', nonce },
        { scheme: 'V2', nonce: '99999999999999999999' },
      ],
    });
  });

  it('refuses a signature made with another token, URL or nonce', () => {
    const headers = (sig: string, n = nonce) => ({
      'x-vobiz-signature-v3': sig,
      'x-vobiz-signature-v3-nonce': n,
    });
    expect(
      verifySignatures({ baseUrl: url, authToken: token, headers: headers(hmac('other', `${url}.${nonce}`)) })
        .ok,
    ).toBe(false);
    expect(
      verifySignatures({ baseUrl: url, authToken: token, headers: headers(hmac(token, `${url}x.${nonce}`)) })
        .ok,
    ).toBe(false);
    expect(
      verifySignatures({
        baseUrl: url,
        authToken: token,
        headers: headers(hmac(token, `${url}.${nonce}`), '11111111111111111111'),
      }).ok,
    ).toBe(false);
  });

  it('refuses missing headers, missing or malformed nonces, and signatures of the wrong length', () => {
    expect(verifySignatures({ baseUrl: url, authToken: token, headers: {} })).toEqual({
      ok: false,
      reason: 'no Vobiz signature header',
    });
    const sig = hmac(token, `${url}.${nonce}`);
    expect(
      verifySignatures({ baseUrl: url, authToken: token, headers: { 'x-vobiz-signature-v3': sig } }).ok,
    ).toBe(false);
    expect(
      verifySignatures({
        baseUrl: url,
        authToken: token,
        headers: { 'x-vobiz-signature-v3': sig, 'x-vobiz-signature-v3-nonce': '../x' },
      }).ok,
    ).toBe(false);
    expect(
      verifySignatures({
        baseUrl: url,
        authToken: token,
        headers: { 'x-vobiz-signature-v3': 'c2hvcnQ=', 'x-vobiz-signature-v3-nonce': nonce },
      }).ok,
    ).toBe(false);
  });

  it('checks MA signatures only with a configured parent token', () => {
    const headers = {
      'x-vobiz-signature-ma-v3': hmac(parent, `${url}.${nonce}`),
      'x-vobiz-signature-ma-v3-nonce': nonce,
    };
    expect(verifySignatures({ baseUrl: url, authToken: token, parentAuthToken: parent, headers })).toEqual({
      ok: true,
      verified: [{ scheme: 'MA-V3', nonce }],
    });
    expect(verifySignatures({ baseUrl: url, authToken: token, headers }).ok).toBe(false);
    // An MA header signed with the sub-account token is not a parent signature.
    const forged = {
      'x-vobiz-signature-ma-v2': hmac(token, `${url}${nonce}`),
      'x-vobiz-signature-ma-v2-nonce': nonce,
    };
    expect(
      verifySignatures({ baseUrl: url, authToken: token, parentAuthToken: parent, headers: forged }).ok,
    ).toBe(false);
  });
});
