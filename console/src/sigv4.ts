/**
 * AWS Signature Version 4 for the browser, on WebCrypto: what the console signs its API calls with,
 * using the temporary credentials of the Cognito identity pool. No AWS SDK (it would triple the bundle).
 * Tested against AWS's published SigV4 test-suite vectors (test/unit/console-sigv4.test.ts).
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignableRequest {
  method: string;
  url: string;
  /** Extra headers to sign and send (e.g. `content-type`); `host` and `x-amz-*` are added. */
  headers?: Record<string, string>;
  body?: string;
}

export interface SigningContext {
  credentials: AwsCredentials;
  region: string;
  service: string;
  date?: Date;
  /**
   * Encode each path segment a second time, as every service but S3 expects (API Gateway among them).
   * The published test vectors use plain paths, where this makes no difference.
   */
  doubleEncodePath?: boolean;
}

export interface SignedRequest {
  /** The headers to send: the given ones plus `x-amz-date`, `x-amz-security-token` and `authorization`. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

async function hmac(key: ArrayBuffer | Uint8Array<ArrayBuffer>, text: string): Promise<ArrayBuffer> {
  const imported = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return crypto.subtle.sign('HMAC', imported, encoder.encode(text));
}

/** RFC 3986 encoding: everything but `A–Z a–z 0–9 - _ . ~` percent-encoded (uppercase hex). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalPath(pathname: string, doubleEncode: boolean): string {
  if (pathname === '') return '/';
  return pathname
    .split('/')
    .map((segment) => {
      const once = uriEncode(safeDecode(segment));
      return doubleEncode ? uriEncode(once) : once;
    })
    .join('/');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function canonicalQuery(search: string): string {
  const pairs: [string, string][] = [];
  for (const [key, value] of new URLSearchParams(search)) pairs.push([uriEncode(key), uriEncode(value)]);
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** `20150830T123600Z` */
export function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

const signingKeys = new Map<string, Promise<ArrayBuffer>>();

function signingKey(secret: string, day: string, region: string, service: string): Promise<ArrayBuffer> {
  const cacheKey = `${secret}\n${day}\n${region}\n${service}`;
  let key = signingKeys.get(cacheKey);
  if (!key) {
    key = (async () => {
      const kDate = await hmac(encoder.encode(`AWS4${secret}`), day);
      const kRegion = await hmac(kDate, region);
      const kService = await hmac(kRegion, service);
      return hmac(kService, 'aws4_request');
    })();
    if (signingKeys.size > 8) signingKeys.clear(); // credentials rotate hourly: keep only a few
    signingKeys.set(cacheKey, key);
  }
  return key;
}

export async function signRequest(request: SignableRequest, context: SigningContext): Promise<SignedRequest> {
  const url = new URL(request.url);
  const date = context.date ?? new Date();
  const timestamp = amzDate(date);
  const day = timestamp.slice(0, 8);
  const headers: Record<string, string> = { ...request.headers, 'x-amz-date': timestamp };
  if (context.credentials.sessionToken) headers['x-amz-security-token'] = context.credentials.sessionToken;

  // The browser sends Host itself (it cannot be set on fetch); it is signed all the same.
  const signed = new Map<string, string>([['host', url.host]]);
  for (const [name, value] of Object.entries(headers))
    signed.set(name.toLowerCase(), value.trim().replace(/\s+/g, ' '));
  const names = [...signed.keys()].sort();
  const canonicalHeaders = names.map((name) => `${name}:${signed.get(name)}\n`).join('');
  const signedHeaders = names.join(';');

  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(url.pathname, context.doubleEncodePath ?? true),
    canonicalQuery(url.search),
    canonicalHeaders,
    signedHeaders,
    await sha256Hex(request.body ?? ''),
  ].join('\n');
  const scope = `${day}/${context.region}/${context.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', timestamp, scope, await sha256Hex(canonicalRequest)].join('\n');
  const key = await signingKey(context.credentials.secretAccessKey, day, context.region, context.service);
  const signature = hex(await hmac(key, stringToSign));
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${context.credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign, signature };
}
