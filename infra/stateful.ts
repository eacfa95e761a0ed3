import type { Change } from '@aws-sdk/client-cloudformation';

/**
 * The resource types that hold the archive's state: replacing one gives an empty resource (a new
 * bucket, a new table, a user pool without its users, a key that cannot decrypt the old data, a secret
 * without the token) while every function is pointed at it. No deploy may replace or remove them.
 */
export const STATEFUL_RESOURCE_TYPES = [
  'AWS::S3::Bucket',
  'AWS::DynamoDB::Table',
  'AWS::Cognito::UserPool',
  'AWS::Cognito::IdentityPool',
  'AWS::KMS::Key',
  'AWS::SecretsManager::Secret',
] as const;

export interface StackPolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Principal: '*';
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string[]>>;
}

export interface StackPolicy {
  Statement: StackPolicyStatement[];
}

/**
 * The stack policy `vobiz-archive deploy` sets: every update allowed, except replacing or deleting a
 * resource of a stateful type. It also binds a plain `cdk deploy` (CloudFormation applies it to every
 * update), but not a stack deletion. `allow` names logical ids let through for one deploy on purpose.
 */
export function statefulStackPolicy(options: { allow?: readonly string[] } = {}): StackPolicy {
  const allow = options.allow ?? [];
  return {
    Statement: [
      { Effect: 'Allow', Action: 'Update:*', Principal: '*', Resource: '*' },
      {
        Effect: 'Deny',
        Action: ['Update:Replace', 'Update:Delete'],
        Principal: '*',
        ...(allow.length > 0
          ? { NotResource: allow.map((id) => `LogicalResourceId/${id}`) }
          : { Resource: '*' }),
        Condition: { StringEquals: { ResourceType: [...STATEFUL_RESOURCE_TYPES] } },
      },
    ],
  };
}

/** A change in a change set that would lose state, and why CloudFormation says so. */
export interface StatefulChange {
  logicalId: string;
  type: string;
  physicalId?: string;
  /** `replace`: Replacement True (always) or Conditional (depends on values known only then); `remove`. */
  action: 'replace' | 'remove';
  replacement?: 'True' | 'Conditional';
  /** The properties whose change forces the replacement (`ObjectLockEnabled (Always)`). */
  causes: string[];
}

/**
 * The changes of a change set (DescribeChangeSet's `Changes`, every page) that replace or remove a
 * stateful resource, except the logical ids in `allow`. Empty: the change set is safe to execute.
 */
export function statefulChanges(
  changes: readonly Change[],
  options: { allow?: readonly string[] } = {},
): StatefulChange[] {
  const stateful = new Set<string>(STATEFUL_RESOURCE_TYPES);
  const allow = new Set(options.allow ?? []);
  const found: StatefulChange[] = [];
  for (const change of changes) {
    const rc = change.ResourceChange;
    if (!rc?.ResourceType || !stateful.has(rc.ResourceType) || !rc.LogicalResourceId) continue;
    if (allow.has(rc.LogicalResourceId)) continue;
    const base = {
      logicalId: rc.LogicalResourceId,
      type: rc.ResourceType,
      ...(rc.PhysicalResourceId ? { physicalId: rc.PhysicalResourceId } : {}),
    };
    if (rc.Action === 'Remove') {
      found.push({ ...base, action: 'remove', causes: [] });
    } else if (rc.Replacement === 'True' || rc.Replacement === 'Conditional') {
      const causes = (rc.Details ?? [])
        .filter((d) => d.Target?.RequiresRecreation && d.Target.RequiresRecreation !== 'Never')
        .map((d) => `${d.Target!.Name ?? d.Target!.Attribute ?? '?'} (${d.Target!.RequiresRecreation})`);
      found.push({ ...base, action: 'replace', replacement: rc.Replacement, causes: [...new Set(causes)] });
    }
  }
  return found;
}

/** One line per stateful change, for the refusal. */
export function describeStatefulChange(change: StatefulChange): string {
  const what =
    change.action === 'remove'
      ? 'would be removed'
      : `would be replaced (Replacement: ${change.replacement}${change.causes.length ? `; caused by ${change.causes.join(', ')}` : ''})`;
  return `${change.logicalId} (${change.type}${change.physicalId ? ` ${change.physicalId}` : ''}) ${what}`;
}
