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
