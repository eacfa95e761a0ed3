/**
 * Who acted, as the audit trail, `erased_by` and `legal_hold_by` record it. `arn` is the IAM principal
 * API Gateway authenticated (an assumed-role ARN is shared by every console user, so the Cognito
 * identity id and the user pool subject tell them apart); the operator commands put the caller's ARN
 * (or `operator <user>@<host>`) there, scheduled work `system`.
 */
export interface Actor {
  arn: string;
  /** The Cognito identity pool identity (`<region>:<uuid>`) of a console user. */
  cognito_identity_id?: string;
  /** The user pool subject (`sub`) the console user signed in as. */
  user_sub?: string;
}

export const SYSTEM_ACTOR: Actor = { arn: 'system' };

/**
 * An actor as stored: entries and records written before actors were objects hold the ARN as a plain
 * string; both read back as an `Actor`.
 */
export function actorOf(value: unknown): Actor | undefined {
  if (typeof value === 'string') return { arn: value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { arn, cognito_identity_id, user_sub } = value as Record<string, unknown>;
  if (typeof arn !== 'string') return undefined;
  return {
    arn,
    ...(typeof cognito_identity_id === 'string' ? { cognito_identity_id } : {}),
    ...(typeof user_sub === 'string' ? { user_sub } : {}),
  };
}

/** One line for logs and command output: the ARN, and the console user when there is one. */
export function describeActor(actor: Actor): string {
  return actor.user_sub ? `${actor.arn} (user ${actor.user_sub})` : actor.arn;
}
