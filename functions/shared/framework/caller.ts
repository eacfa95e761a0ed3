import type { Actor } from '../domain/actor.js';
import type { HttpEvent } from './http.js';

/** What a request without an IAM authorizer (only the local stack serves one) is recorded as. */
export const UNSIGNED_CALLER = 'unsigned request (local stack)';

const MAX_FIELD = 256;

/** The user pool subject in a Cognito `amr` entry: `cognito-idp.<region>.amazonaws.com/<pool>:CognitoSignIn:<sub>`. */
const SIGN_IN = /^cognito-idp\.[^/]+\/[^:]+:CognitoSignIn:([A-Za-z0-9-]{1,128})$/;

/**
 * Who is asking, from the IAM authorizer's context API Gateway (HTTP API, payload 2.0) adds to every
 * SigV4-signed request: `requestContext.authorizer.iam.userArn`, and for credentials from a Cognito
 * identity pool `cognitoIdentity.identityId` and the `amr` entry naming the user pool subject. Only the
 * request context is read, never a header, so a caller cannot claim to be someone else.
 */
export function callerOf(event: HttpEvent): Actor {
  const context = event.requestContext as { authorizer?: { iam?: unknown } } | undefined;
  const iam = (context?.authorizer?.iam ?? {}) as {
    userArn?: unknown;
    cognitoIdentity?: { identityId?: unknown; amr?: unknown } | null;
  };
  const arn = text(iam.userArn) ?? UNSIGNED_CALLER;
  const identityId = text(iam.cognitoIdentity?.identityId);
  const amr = Array.isArray(iam.cognitoIdentity?.amr) ? iam.cognitoIdentity.amr : [];
  const sub = amr
    .map((entry) => (typeof entry === 'string' ? SIGN_IN.exec(entry)?.[1] : undefined))
    .find((value) => value !== undefined);
  return {
    arn,
    ...(identityId ? { cognito_identity_id: identityId } : {}),
    ...(sub ? { user_sub: sub } : {}),
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= MAX_FIELD ? value : undefined;
}
