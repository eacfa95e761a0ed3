import { MethodNotAllowedError, NotFoundError, ValidationError } from '../shared/domain/errors.js';
import type { HttpEvent } from '../shared/framework/http.js';

export type Route =
  | { name: 'list' }
  | { name: 'audit' }
  | { name: 'get'; recordingId: string }
  | { name: 'audio'; recordingId: string };

type RouteName = Route['name'];

const ROUTE_KEYS: Record<string, RouteName> = {
  '/recordings': 'list',
  '/recordings/{recording_id}': 'get',
  '/recordings/{recording_id}/audio': 'audio',
  '/audit': 'audit',
};

/**
 * The methods each path supports, for `405` answers. `DELETE /recordings/{recording_id}` (erasure) is
 * served by the lifecycle API function on its own route; the lookup answers only the others, but the
 * resource supports it, so its `Allow` says so.
 */
const ALLOWED_METHODS: Record<RouteName, readonly string[]> = {
  list: ['GET'],
  audit: ['GET'],
  get: ['GET', 'DELETE'],
  audio: ['GET'],
};

/**
 * Which lookup route an event is for. API Gateway names the matched route in `routeKey` and gives the
 * decoded path parameters; a catch-all (`$default`) route, like the local gateway's, gives only the
 * method and raw path, which are matched here the same way.
 */
export function resolveRoute(event: HttpEvent): Route {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? '';
  const routeKey = event.routeKey;
  if (routeKey && routeKey !== '$default') {
    const [keyMethod = '', template = ''] = routeKey.split(' ', 2);
    const name = ROUTE_KEYS[template];
    if (!name) throw new NotFoundError(`no route for ${routeKey}`);
    const effectiveMethod = keyMethod === 'ANY' ? method : keyMethod.toUpperCase();
    if (effectiveMethod !== 'GET') throw notAllowed(effectiveMethod, template, name);
    return name === 'list' || name === 'audit'
      ? { name }
      : { name, recordingId: event.pathParameters?.recording_id ?? '' };
  }
  const path = stripStage(event.rawPath ?? '', event.requestContext?.stage);
  const segments = path.split('/').slice(1);
  let route: Route | undefined;
  if (segments.length === 1 && segments[0] === 'recordings') route = { name: 'list' };
  else if (segments.length === 1 && segments[0] === 'audit') route = { name: 'audit' };
  else if (
    segments[0] === 'recordings' &&
    segments[1] &&
    (segments.length === 2 || (segments.length === 3 && segments[2] === 'audio'))
  ) {
    route = { name: segments.length === 2 ? 'get' : 'audio', recordingId: decodeSegment(segments[1]) };
  }
  if (!route) throw new NotFoundError(`no route for ${method} ${path}`);
  if (method !== 'GET') throw notAllowed(method, path, route.name);
  return route;
}

function notAllowed(method: string, path: string, route: RouteName): MethodNotAllowedError {
  const allowed = ALLOWED_METHODS[route];
  return new MethodNotAllowedError(`${method} is not allowed on ${path}; use ${allowed.join(' or ')}`, [
    ...allowed,
  ]);
}

function stripStage(path: string, stage: string | undefined): string {
  if (!stage || stage === '$default') return path;
  const prefix = `/${stage}`;
  return path === prefix || path.startsWith(`${prefix}/`) ? path.slice(prefix.length) || '/' : path;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ValidationError('recording_id is not a valid URL path segment');
  }
}

export { queryParameters } from '../shared/framework/http.js';
