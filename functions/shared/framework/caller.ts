import type { HttpEvent } from './http.js';

/** What the local stack's unsigned requests are recorded as: no IAM principal exists there. */
export const LOCAL_CALLER = 'unsigned request (local stack)';

/** Who is asking: the IAM principal API Gateway authenticated (every route but the webhook requires IAM). */
export function callerOf(event: HttpEvent): string {
  const context = event.requestContext as { authorizer?: { iam?: { userArn?: string } } };
  return context.authorizer?.iam?.userArn ?? LOCAL_CALLER;
}
