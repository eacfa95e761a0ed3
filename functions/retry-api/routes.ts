import { MethodNotAllowedError, NotFoundError, ValidationError } from '../shared/domain/errors.js';
import type { HttpEvent } from '../shared/framework/http.js';

export const RETRY_TEMPLATE = '/recordings/{recording_id}/retry';
const ALLOW = ['POST'];

/**
 * The recording a `POST /recordings/{id}/retry` is for, from the matched `routeKey` (API Gateway) or, for
 * a catch-all route, from the method and path. Other methods (the stack's `ANY` route) are a 405.
 */
export function resolveRetryRoute(event: HttpEvent): { recordingId: string } {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? '';
  const routeKey = event.routeKey;
  let recordingId: string;
  let effective = method;
  if (routeKey && routeKey !== '$default') {
    const [keyMethod = '', template = ''] = routeKey.split(' ', 2);
    if (template !== RETRY_TEMPLATE) throw new NotFoundError(`no route for ${routeKey}`);
    if (keyMethod !== 'ANY') effective = keyMethod.toUpperCase();
    recordingId = event.pathParameters?.recording_id ?? '';
  } else {
    const segments = (event.rawPath ?? '').split('/').slice(1);
    if (segments.length !== 3 || segments[0] !== 'recordings' || !segments[1] || segments[2] !== 'retry')
      throw new NotFoundError(`no route for ${method} ${event.rawPath ?? ''}`);
    recordingId = decodeSegment(segments[1]);
  }
  if (effective !== 'POST')
    throw new MethodNotAllowedError(`${effective} is not allowed on ${RETRY_TEMPLATE}; use POST`, ALLOW);
  return { recordingId };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ValidationError('recording_id is not a valid URL path segment');
  }
}
