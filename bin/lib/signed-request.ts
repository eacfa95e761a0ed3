import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

type HttpRequest = Parameters<SignatureV4['sign']>[0];

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SignedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

/**
 * Signs a request to the archive's HTTP API with SigV4 (service `execute-api`), the way the
 * `/recordings` routes' IAM authorizer expects. Pure: credentials and clock come from the caller.
 */
export async function signApiRequest(options: {
  url: string;
  method?: string;
  region: string;
  credentials: Credentials;
  signingDate?: Date;
}): Promise<SignedRequest> {
  const url = new URL(options.url);
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const existing = query[key];
    query[key] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const request: HttpRequest = {
    method: (options.method ?? 'GET').toUpperCase(),
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers: { host: url.host, accept: 'application/json' },
  };
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign(request, { signingDate: options.signingDate });
  return { url: url.toString(), method: signed.method, headers: signed.headers };
}

/** `https://{id}.execute-api.{region}.amazonaws.com` names its region; a custom domain does not. */
export function regionFromApiUrl(apiUrl: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(apiUrl).hostname)?.[1];
}

/** Joins the base URL and a route path (`/recordings?...`), keeping any base path (custom domain mappings). */
export function joinUrl(base: string, path: string): string {
  const normalizedPath = path.startsWith('/') ? path : `/${path}`;
  return `${base.replace(/\/+$/, '')}${normalizedPath}`;
}
