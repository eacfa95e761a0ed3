import { MethodNotAllowedError, NotFoundError, ValidationError } from '../shared/domain/errors.js';
import type { HttpEvent } from '../shared/framework/http.js';

export type LifecycleRoute =
  | { name: 'hold'; recordingId: string }
  | { name: 'release'; recordingId: string }
  | { name: 'erase'; recordingId: string };

type Name = LifecycleRoute['name'];

/** Each route template and the methods it serves; every other method on it is a 405. */
const TEMPLATES: Record<string, Partial<Record<string, Name>>> = {
  '/recordings/{recording_id}/legal-hold': { PUT: 'hold', DELETE: 'release' },
  '/recordings/{recording_id}': { DELETE: 'erase' },
};

/**
 * Which lifecycle route an event is for, from the matched `routeKey` (API Gateway) or, for a catch-all
 * route, from the method and path. `ANY …/legal-hold` comes here too so that other methods get a 405
 * with `Allow` and the project's error body.
 */
export function resolveLifecycleRoute(event: HttpEvent): LifecycleRoute {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? '';
  const routeKey = event.routeKey;
  let template: string | undefined;
  let recordingId = event.pathParameters?.recording_id ?? '';
  let effective = method;
  if (routeKey && routeKey !== '$default') {
    const [keyMethod = '', keyTemplate = ''] = routeKey.split(' ', 2);
    template = keyTemplate;
    if (keyMethod !== 'ANY') effective = keyMethod.toUpperCase();
  } else {
    const segments = (event.rawPath ?? '').split('/').slice(1);
    if (segments[0] === 'recordings' && segments[1] && segments.length <= 3) {
      if (segments.length === 2) template = '/recordings/{recording_id}';
      else if (segments[2] === 'legal-hold') template = '/recordings/{recording_id}/legal-hold';
      recordingId = decodeSegment(segments[1]);
    }
  }
  const methods = template === undefined ? undefined : TEMPLATES[template];
  if (!methods) throw new NotFoundError(`no route for ${method} ${event.rawPath ?? ''}`);
  const name = methods[effective];
  if (!name) {
    const allow = Object.keys(methods);
    throw new MethodNotAllowedError(
      `${effective} is not allowed on ${template}; use ${allow.join(' or ')}`,
      allow,
    );
  }
  return { name, recordingId };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ValidationError('recording_id is not a valid URL path segment');
  }
}
