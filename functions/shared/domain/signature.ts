import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Vobiz callback signatures (see shared/vobiz/facts.md): HMAC-SHA256 keyed with the auth token over the
 * called URL without its query string, plus a nonce. The body is not signed and there is no timestamp,
 * so the caller must also refuse replayed nonces.
 */
export type SignatureScheme = 'V3' | 'V2' | 'MA-V3' | 'MA-V2';

const SCHEMES: readonly { scheme: SignatureScheme; header: string; parent: boolean }[] = [
  { scheme: 'V3', header: 'x-vobiz-signature-v3', parent: false },
  { scheme: 'V2', header: 'x-vobiz-signature-v2', parent: false },
  { scheme: 'MA-V3', header: 'x-vobiz-signature-ma-v3', parent: true },
  { scheme: 'MA-V2', header: 'x-vobiz-signature-ma-v2', parent: true },
];

/** Documented as a random 20-digit number; accepted a little wider, but bounded, since it becomes a key. */
const NONCE_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
const HMAC_SHA256_BYTES = 32;

export function signedPayload(scheme: SignatureScheme, baseUrl: string, nonce: string): string {
  return scheme.endsWith('V3') ? `${baseUrl}.${nonce}` : `${baseUrl}${nonce}`;
}

export function computeSignature(
  scheme: SignatureScheme,
  token: string,
  baseUrl: string,
  nonce: string,
): string {
  return createHmac('sha256', token)
    .update(signedPayload(scheme, baseUrl, nonce))
    .digest('base64');
}

/** The URL Vobiz signed: scheme, host and path, without query string or fragment. */
export function signatureBaseUrl(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

export interface VerifiedSignature {
  scheme: SignatureScheme;
  nonce: string;
}

export type SignatureCheck = { ok: true; verified: VerifiedSignature[] } | { ok: false; reason: string };

/**
 * Checks every signature header present and succeeds when at least one verifies (one valid HMAC proves
 * the sender holds the token). Returns the nonces of all verified signatures so each is consumed once,
 * whichever header a replay keeps.
 */
export function verifySignatures(input: {
  headers: Readonly<Record<string, string | undefined>>;
  baseUrl: string;
  authToken: string;
  parentAuthToken?: string | undefined;
}): SignatureCheck {
  const verified: VerifiedSignature[] = [];
  const failures: string[] = [];
  for (const { scheme, header, parent } of SCHEMES) {
    const signature = input.headers[header];
    if (signature === undefined) continue;
    const token = parent ? input.parentAuthToken : input.authToken;
    // An MA signature is only checkable with a configured parent token; without one it is ignored.
    if (!token) continue;
    const nonce = input.headers[`${header}-nonce`];
    if (nonce === undefined || !NONCE_PATTERN.test(nonce)) {
      failures.push(`${scheme} nonce missing or malformed`);
    } else if (!equalsInConstantTime(signature, computeSignature(scheme, token, input.baseUrl, nonce))) {
      failures.push(`${scheme} signature does not match`);
    } else {
      verified.push({ scheme, nonce });
    }
  }
  if (verified.length > 0) return { ok: true, verified };
  return { ok: false, reason: failures.length > 0 ? failures.join('; ') : 'no Vobiz signature header' };
}

function equalsInConstantTime(givenBase64: string, expectedBase64: string): boolean {
  const expected = Buffer.from(expectedBase64, 'base64');
  const given = Buffer.from(givenBase64.trim(), 'base64');
  // Lengths are public (always 32 for HMAC-SHA256); comparing equal-length buffers keeps timing flat.
  if (given.length !== HMAC_SHA256_BYTES) return false;
  return timingSafeEqual(given, expected);
}
