/**
 * The console's Content-Security-Policy, shared by CloudFront (infra/console.ts) and the local stack:
 * scripts and styles only from the console's own origin, API calls only to the API and Cognito, audio
 * only from the archive bucket, no framing, no plugins, no inline code except the scripts named by
 * their hash.
 */
export interface CspSources {
  /** For a `<meta>` element, which cannot carry `frame-ancestors` (the header does). */
  meta?: boolean;
  /** Where `fetch` may go besides the console itself: the API, Cognito's endpoints. */
  connect: readonly string[];
  /** Where `<audio>` may load from: the archive bucket's presigned URLs. */
  media: readonly string[];
  /** Hashes (`'sha256-…'`) of the inline scripts index.html carries (build.ts `inlineScriptHashes`). */
  scripts?: readonly string[];
}

export function contentSecurityPolicy({ connect, media, scripts = [], meta = false }: CspSources): string {
  return [
    "default-src 'none'",
    ["script-src 'self'", ...scripts].join(' '),
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${connect.join(' ')}`.trim(),
    `media-src ${media.join(' ')}`,
    "base-uri 'none'",
    "form-action 'self'",
    ...(meta ? [] : ["frame-ancestors 'none'"]),
    "object-src 'none'",
  ].join('; ');
}
