import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Vobiz callback signatures (see shared/vobiz/facts.md): HMAC-SHA256 keyed with the auth token over the
 * called URL without its query string, plus a nonce. The body is not signed and there is no timestamp,
 * so the caller must also refuse replayed nonces.
 */
export type SignatureScheme = 'V3' | 'V2' | 'MA-V3' | 'MA-V2';

const V3_NONCE = 'x-vobiz-signature-v3-nonce';
const V2_NONCE = 'x-vobiz-signature-v2-nonce';

/**
 * Vobiz sends no MA nonce headers: the parent-account signatures are computed over the same nonce as
 * their sub-account counterpart, so MA-V3 reads the V3 nonce and MA-V2 the V2 nonce.
 */
const SIGNATURE_HEADERS: Readonly<
  Record<SignatureScheme, { signature: string; nonce: string; parent: boolean }>
> = {
  V3: { signature: 'x-vobiz-signature-v3', nonce: V3_NONCE, parent: false },
  V2: { signature: 'x-vobiz-signature-v2', nonce: V2_NONCE, parent: false },
  'MA-V3': { signature: 'x-vobiz-signature-ma-v3', nonce: V3_NONCE, parent: true },
  'MA-V2': { signature: 'x-vobiz-signature-ma-v2', nonce: V2_NONCE, parent: true },
};
const SCHEMES: readonly SignatureScheme[] = ['V3', 'V2', 'MA-V3', 'MA-V2'];

/** Documented as a random 20-digit number; accepted a little wider, but bounded, since it becomes a key. */
const NONCE_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
/** Canonical base64 of 32 bytes: 43 characters and one `=`; the decoder's leniency is checked separately. */
const HMAC_SHA256_BASE64 = /^[A-Za-z0-9+/]{43}=$/;
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
  for (const scheme of SCHEMES) {
    const names = SIGNATURE_HEADERS[scheme];
    const signature = input.headers[names.signature];
    if (signature === undefined) continue;
    const token = names.parent ? input.parentAuthToken : input.authToken;
    // An MA signature is only checkable with a configured parent token; without one it is ignored.
    if (!token) continue;
    const nonce = input.headers[names.nonce];
    if (nonce === undefined || !NONCE_PATTERN.test(nonce)) {
      failures.push(`${scheme} nonce (${names.nonce}) missing or malformed`);
      continue;
    }
    const expected = Buffer.from(computeSignature(scheme, token, input.baseUrl, nonce), 'base64');
    const match = matchesAny(signature, expected);
    if (match === 'match') verified.push({ scheme, nonce });
    else if (match === 'mismatch') failures.push(`${scheme} signature does not match`);
    else failures.push(`${scheme} signature is not base64 of a 32-byte HMAC-SHA256`);
  }
  if (verified.length > 0) return { ok: true, verified };
  return { ok: false, reason: failures.length > 0 ? failures.join('; ') : 'no Vobiz signature header' };
}

/** The 32 bytes a header entry encodes, or undefined unless it is their one canonical base64 spelling. */
function decodeSignature(entry: string): Buffer | undefined {
  if (!HMAC_SHA256_BASE64.test(entry)) return undefined;
  // Node's decoder ignores non-zero padding bits; the round trip refuses those other spellings.
  const bytes = Buffer.from(entry, 'base64');
  return bytes.length === HMAC_SHA256_BYTES && bytes.toString('base64') === entry ? bytes : undefined;
}

/**
 * API Gateway joins a repeated header's values with commas, so a header may hold a list. Every entry is
 * compared in constant time, without stopping at the first match, and any one matching verifies.
 */
function matchesAny(header: string, expected: Buffer): 'match' | 'mismatch' | 'malformed' {
  const placeholder = Buffer.alloc(HMAC_SHA256_BYTES);
  let matched = false;
  let wellFormed = false;
  for (const entry of header.split(',')) {
    const given = decodeSignature(entry.trim());
    wellFormed ||= given !== undefined;
    // A malformed entry is compared too (against zeros, and never counted), so timing is per entry only.
    if (timingSafeEqual(given ?? placeholder, expected) && given !== undefined) matched = true;
  }
  return matched ? 'match' : wellFormed ? 'mismatch' : 'malformed';
}
