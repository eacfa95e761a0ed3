import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';

export interface Permission {
  action: string;
  /** The resource as it appears in the template, JSON-encoded (so `Fn::GetAtt`/`Fn::Join` can be compared). */
  resource: string;
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** Every (action, resource) pair the execution role of `fn` is allowed, across all policies attached to it. */
export function permissionsOf(template: Template, stack: Stack, fn: IFunction): Permission[] {
  const roleId = stack.getLogicalId(fn.role!.node.defaultChild as CfnElement);
  const policies = template.findResources('AWS::IAM::Policy');
  const result: Permission[] = [];
  for (const policy of Object.values(policies)) {
    const roles = (policy.Properties.Roles ?? []) as { Ref?: string }[];
    if (!roles.some((role) => role.Ref === roleId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
      if (statement.Effect !== 'Allow') continue;
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const action of actions)
        for (const resource of resources) result.push({ action, resource: JSON.stringify(resource) });
    }
  }
  const role = template.findResources('AWS::IAM::Role')[roleId];
  if (role?.Properties.ManagedPolicyArns) throw new Error(`${roleId} has managed policies attached`);
  return result;
}

export function actionsOf(permissions: Permission[]): Set<string> {
  return new Set(permissions.map((p) => p.action));
}

export function resourcesFor(permissions: Permission[], action: string): string[] {
  return permissions.filter((p) => p.action === action).map((p) => p.resource);
}

/** Template forms of the resources the roles are scoped to. */
export const RESOURCE = {
  table: JSON.stringify({ 'Fn::GetAtt': ['RecordingsTable', 'Arn'] }),
  tableIndexes: JSON.stringify({
    'Fn::Join': ['', [{ 'Fn::GetAtt': ['RecordingsTable', 'Arn'] }, '/index/*']],
  }),
  audio: JSON.stringify({
    'Fn::Join': ['', [{ 'Fn::GetAtt': ['RecordingsBucket', 'Arn'] }, '/recordings/*']],
  }),
};

export interface RawStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** Every statement (Allow and Deny, with conditions) of every policy attached to a role, by role logical id. */
export function statementsByRole(template: Template): Map<string, RawStatement[]> {
  const byRole = new Map<string, RawStatement[]>();
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    for (const role of (policy.Properties.Roles ?? []) as { Ref?: string }[]) {
      if (!role.Ref) continue;
      const list = byRole.get(role.Ref) ?? [];
      list.push(...(policy.Properties.PolicyDocument.Statement as RawStatement[]));
      byRole.set(role.Ref, list);
    }
  }
  return byRole;
}

function matches(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return regex.test(value);
}

/**
 * Whether these statements allow `action` on the resource (in its template form) for an item whose
 * partition key is `leadingKey` (and, when given, whose request names these `attributes`), as IAM
 * decides it: some Allow matches and no Deny does. `dynamodb:LeadingKeys` (StringLike) and
 * `dynamodb:Attributes` (ForAnyValue:StringEquals, only when `attributes` is given) are evaluated; any
 * other condition counts as met on an Allow and as unmet on a Deny, so the answer errs towards "allowed"
 * (the safe side when proving that nothing is).
 */
export function allows(
  statements: readonly RawStatement[],
  action: string,
  resource: string,
  leadingKey: string,
  attributes?: readonly string[],
): boolean {
  const applies = (statement: RawStatement, unknownConditionHolds: boolean) => {
    const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    if (!actions.some((a) => matches(a, action))) return false;
    if (!resources.some((r) => JSON.stringify(r) === resource || r === '*')) return false;
    for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
      for (const [key, value] of Object.entries(keys)) {
        const patterns = Array.isArray(value) ? value : [value];
        if (key === 'dynamodb:LeadingKeys' && operator.endsWith('StringLike')) {
          if (!patterns.some((p) => matches(p, leadingKey))) return false;
        } else if (
          key === 'dynamodb:Attributes' &&
          operator === 'ForAnyValue:StringEquals' &&
          attributes !== undefined
        ) {
          if (!attributes.some((attribute) => patterns.includes(attribute))) return false;
        } else if (!unknownConditionHolds) return false;
      }
    }
    return true;
  };
  return (
    statements.some((s) => s.Effect === 'Allow' && applies(s, true)) &&
    !statements.some((s) => s.Effect === 'Deny' && applies(s, false))
  );
}
