import { describe, expect, it } from 'vitest';
import {
  computeSignature,
  signatureBaseUrl,
  verifySignatures,
} from '../../functions/shared/domain/signature.js';

import { parent, token, url, v2Nonce, v3Nonce, VECTORS } from '../support/signature-vectors.js';

/** Every header Vobiz sends on a sub-account callback: two nonce headers, no MA nonce headers. */
const allHeaders = {
  'x-vobiz-signature-v3': VECTORS.V3,
  'x-vobiz-signature-v3-nonce': v3Nonce,
  'x-vobiz-signature-v2': VECTORS.V2,
  'x-vobiz-signature-v2-nonce': v2Nonce,
  'x-vobiz-signature-ma-v3': VECTORS['MA-V3'],
  'x-vobiz-signature-ma-v2': VECTORS['MA-V2'],
};

const verify = (headers: Record<string, string>, parentAuthToken?: string) =>
  verifySignatures({ baseUrl: url, authToken: token, parentAuthToken, headers });

describe('Vobiz signatures: fixed vectors', () => {
  it('computes all four schemes exactly as the independently computed vectors', () => {
    expect(computeSignature('V3', token, url, v3Nonce)).toBe(VECTORS.V3);
    expect(computeSignature('V2', token, url, v2Nonce)).toBe(VECTORS.V2);
    expect(computeSignature('MA-V3', parent, url, v3Nonce)).toBe(VECTORS['MA-V3']);
    expect(computeSignature('MA-V2', parent, url, v2Nonce)).toBe(VECTORS['MA-V2']);
  });

  it('verifies every scheme of a sub-account callback, MA signatures over the V3/V2 nonce values', () => {
    expect(verify(allHeaders, parent)).toEqual({
      ok: true,
      verified: [
        { scheme: 'V3', nonce: v3Nonce },
        { scheme: 'V2', nonce: v2Nonce },
        { scheme: 'MA-V3', nonce: v3Nonce },
        { scheme: 'MA-V2', nonce: v2Nonce },
      ],
    });
  });

  it.each([
    ['MA-V3', { 'x-vobiz-signature-ma-v3': VECTORS['MA-V3'], 'x-vobiz-signature-v3-nonce': v3Nonce }],
    ['MA-V2', { 'x-vobiz-signature-ma-v2': VECTORS['MA-V2'], 'x-vobiz-signature-v2-nonce': v2Nonce }],
  ] as const)(
    'verifies an %s-only callback, which carries only the plain nonce header',
    (scheme, headers) => {
      expect(verify(headers, parent)).toEqual({
        ok: true,
        verified: [{ scheme, nonce: scheme === 'MA-V3' ? v3Nonce : v2Nonce }],
      });
    },
  );

  it('does not read MA nonce headers, which Vobiz does not send', () => {
    const result = verify(
      { 'x-vobiz-signature-ma-v3': VECTORS['MA-V3'], 'x-vobiz-signature-ma-v3-nonce': v3Nonce },
      parent,
    );
    expect(result).toEqual({
      ok: false,
      reason: 'MA-V3 nonce (x-vobiz-signature-v3-nonce) missing or malformed',
    });
  });

  it('checks MA signatures only with a configured parent token, and never with the account token', () => {
    const maOnly = { 'x-vobiz-signature-ma-v3': VECTORS['MA-V3'], 'x-vobiz-signature-v3-nonce': v3Nonce };
    expect(verify(maOnly).ok).toBe(false);
    // An MA header signed with the sub-account token (a V2 signature copied over) is not a parent signature.
    const forged = { 'x-vobiz-signature-ma-v2': VECTORS.V2, 'x-vobiz-signature-v2-nonce': v2Nonce };
    expect(verify(forged, parent)).toEqual({ ok: false, reason: 'MA-V2 signature does not match' });
  });

  it('refuses a signature made with another token, URL or nonce', () => {
    const v3 = (signature: string, nonce = v3Nonce) => ({
      'x-vobiz-signature-v3': signature,
      'x-vobiz-signature-v3-nonce': nonce,
    });
    expect(verify(v3(VECTORS['MA-V3'])).ok).toBe(false); // the parent token's signature
    expect(verifySignatures({ baseUrl: `${url}x`, authToken: token, headers: v3(VECTORS.V3) }).ok).toBe(
      false,
    );
    expect(verify(v3(VECTORS.V3, '11111111111111111111')).ok).toBe(false);
    expect(verify(v3(VECTORS.V3, v2Nonce)).ok).toBe(false);
    // V2 and V3 sign different payloads for the same nonce.
    expect(verify({ 'x-vobiz-signature-v2': VECTORS.V3, 'x-vobiz-signature-v2-nonce': v3Nonce }).ok).toBe(
      false,
    );
  });

  it('refuses missing headers and missing or malformed nonces', () => {
    expect(verify({})).toEqual({ ok: false, reason: 'no Vobiz signature header' });
    expect(verify({ 'x-vobiz-signature-v3': VECTORS.V3 }).ok).toBe(false);
    expect(verify({ 'x-vobiz-signature-v3': VECTORS.V3, 'x-vobiz-signature-v3-nonce': '../x' }).ok).toBe(
      false,
    );
    expect(
      verify({ 'x-vobiz-signature-v3': VECTORS.V3, 'x-vobiz-signature-v3-nonce': `${v3Nonce},${v3Nonce}` })
        .ok,
    ).toBe(false);
  });
});

describe('Vobiz signatures: strict decoding', () => {
  const good = VECTORS.V3;
  const v3 = (signature: string) =>
    verify({ 'x-vobiz-signature-v3': signature, 'x-vobiz-signature-v3-nonce': v3Nonce });

  it('accepts the canonical value, with the whitespace HTTP allows around it', () => {
    expect(v3(good).ok).toBe(true);
    expect(v3(` ${good} `).ok).toBe(true);
  });

  // Each of these decodes to the right 32 bytes with Buffer.from(value, 'base64').
  it.each([
    ['junk inserted', `${good.slice(0, 10)}!${good.slice(10)}`],
    ['junk appended', `${good}junk`],
    ['characters appended after the padding', `${good}AAAA`],
    ['non-zero padding bits', `${good.slice(0, 42)}5=`],
    ['no padding', good.slice(0, 43)],
    ['the URL-safe alphabet', good.replace('/', '_')],
    ['an embedded space', `${good.slice(0, 10)} ${good.slice(10)}`],
  ])('refuses a signature with %s', (_case, value) => {
    expect(Buffer.from(value, 'base64').equals(Buffer.from(good, 'base64'))).toBe(true);
    expect(v3(value)).toEqual({
      ok: false,
      reason: 'V3 signature is not base64 of a 32-byte HMAC-SHA256',
    });
  });

  it.each([
    ['too short', 'c2hvcnQ='],
    ['too long', Buffer.concat([Buffer.from(good, 'base64'), Buffer.from([0])]).toString('base64')],
    ['empty', ''],
  ])('refuses a signature of the wrong length (%s)', (_case, value) => {
    expect(v3(value).ok).toBe(false);
  });

  it('checks every entry of a comma-separated header, whichever position the good value has', () => {
    const other = VECTORS.V2;
    expect(v3(`${good},${other}`).ok).toBe(true);
    expect(v3(`${other}, ${good}`).ok).toBe(true);
    expect(v3(`${other},junk,${good}`).ok).toBe(true);
    expect(v3(`${other},${other}`)).toEqual({ ok: false, reason: 'V3 signature does not match' });
    expect(v3(`junk,${good}junk`)).toEqual({
      ok: false,
      reason: 'V3 signature is not base64 of a 32-byte HMAC-SHA256',
    });
    expect(v3(',').ok).toBe(false);
  });
});

describe('signatureBaseUrl', () => {
  it('strips the query string and fragment from the signed URL', () => {
    expect(signatureBaseUrl(`${url}?a=1&b=2`)).toBe(url);
    expect(signatureBaseUrl(`${url}#x`)).toBe(url);
    expect(signatureBaseUrl(url)).toBe(url);
  });
});
