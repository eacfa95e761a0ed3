import { buildConsole, inlineScriptHashes, withConfig, type ConsoleFile } from '../console/build.js';
import { contentSecurityPolicy } from '../console/csp.js';
import { groupAllows, isConsoleGroup, LOCAL_GROUP_HEADER } from '../console/src/groups.js';
import type { GatewayRequest, GatewayResponse } from './gateway.js';

/**
 * Serves the recordings console from the local gateway at `/console/`, as CloudFront does in AWS:
 * hashed assets cached for a year, `index.html` (which carries the configuration) never, the same
 * security headers (the CSP lets audio come from the local S3 server). The configuration has no sign-in:
 * requests go unsigned to the gateway's own origin.
 */
export const CONSOLE_PATH = '/console';

export interface ConsoleFilesOptions {
  /** Origin of the presigned audio links (the S3 server). */
  mediaOrigin: string;
  files?: readonly ConsoleFile[];
  /** Another configuration (tests: a sign-in against a stand-in Cognito). */
  config?: Record<string, unknown>;
  /** Origins `fetch` may reach besides the console's own (the CSP's connect-src). */
  connect?: readonly string[];
}

export function securityHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  };
}

export function createConsoleFiles(options: ConsoleFilesOptions) {
  const files = new Map<string, ConsoleFile>();
  const config = options.config ?? { apiUrl: '', region: 'us-east-1', auth: null, stage: 'local' };
  for (const file of options.files ?? buildConsole()) {
    files.set(
      file.path,
      file.path === 'index.html'
        ? { ...file, body: Buffer.from(withConfig(file.body.toString('utf8'), config)) }
        : file,
    );
  }
  const headers = securityHeaders(
    contentSecurityPolicy({
      connect: options.connect ?? [],
      media: [options.mediaOrigin],
      scripts: inlineScriptHashes(files.get('index.html')?.body.toString('utf8') ?? ''),
    }),
  );

  return {
    /** The gateway's `local` hook: an answer for `/console` paths, undefined for everything else. */
    handle(method: string, rawPath: string, url: string): GatewayResponse | undefined {
      if (rawPath !== CONSOLE_PATH && !rawPath.startsWith(`${CONSOLE_PATH}/`)) return undefined;
      if (method !== 'GET' && method !== 'HEAD') {
        return {
          statusCode: 405,
          headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' },
          body: Buffer.from('Method not allowed\n'),
        };
      }
      // Relative asset URLs need the trailing slash; the query (search, open recording) is kept.
      if (rawPath === CONSOLE_PATH) {
        const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
        return { statusCode: 308, headers: { location: `${CONSOLE_PATH}/${query}` }, body: Buffer.alloc(0) };
      }
      const name = rawPath.slice(CONSOLE_PATH.length + 1) || 'index.html';
      const file = files.get(name);
      if (!file) {
        return {
          statusCode: 404,
          headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
          body: Buffer.from(`Not found: ${rawPath}\n`),
        };
      }
      return {
        statusCode: 200,
        headers: {
          ...headers,
          'content-type': file.contentType,
          'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        },
        body: file.body,
      };
    },
  };
}

/**
 * The local stand-in for the console roles' IAM policies: a request that names a group in
 * LOCAL_GROUP_HEADER (the local console acting as a reviewer or an administrator) is refused with API
 * Gateway's own 403 when that group's role could not invoke the route; requests without the header
 * (curl, the CLI, tests) are not restricted, as the local stack has no sign-in at all.
 */
export function localGroupRefusal(request: GatewayRequest, rawPath: string): GatewayResponse | undefined {
  let group: string | undefined;
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2)
    if (request.rawHeaders[i]!.toLowerCase() === LOCAL_GROUP_HEADER)
      group = request.rawHeaders[i + 1]!.trim();
  if (group === undefined) return undefined;
  if (isConsoleGroup(group) && groupAllows(group, request.method, rawPath)) return undefined;
  return {
    statusCode: 403,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"message":"Forbidden"}'),
  };
}
