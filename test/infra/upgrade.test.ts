import { readdirSync, readFileSync } from 'node:fs';
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { describe, expect, it } from 'vitest';
import { STATEFUL_RESOURCE_TYPES } from '../../infra/stateful.js';
import { buildStack } from './build.js';

/**
 * Upgrading a deployed stack must never replace its state. Each fixture is a released version's
 * template (default `prod` stage, made with snapshot-release.ts); today's template is diffed against it
 * with the CDK's own diff, which knows CloudFormation's per-property update behaviour ("Update requires:
 * Replacement").
 */
const STATEFUL_TYPES = new Set<string>(STATEFUL_RESOURCE_TYPES);
const UNSAFE = new Set<ResourceImpact>([
  ResourceImpact.WILL_REPLACE,
  ResourceImpact.MAY_REPLACE,
  ResourceImpact.WILL_DESTROY,
  ResourceImpact.WILL_ORPHAN,
]);

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

const fixtures = readdirSync(new URL('fixtures/', import.meta.url)).filter((name) =>
  /^release-.*\.template\.json$/.test(name),
);
const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')) as Template;

/** Each stateful resource of `previous` that deploying `next` over it would replace, delete or orphan. */
function unsafeChanges(previous: Template, next: Template): string[] {
  const diff = fullDiff(previous, next);
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries(previous.Resources)) {
    if (!STATEFUL_TYPES.has(resource.Type)) continue;
    if (!next.Resources[logicalId]) {
      problems.push(`${logicalId} (${resource.Type}): logical id gone, so CloudFormation would delete it`);
      continue;
    }
    const change = diff.resources.get(logicalId);
    if (change && UNSAFE.has(change.changeImpact)) {
      const causes = Object.entries(change.propertyUpdates)
        .filter(([, property]) => property.changeImpact && UNSAFE.has(property.changeImpact))
        .map(([name]) => name);
      problems.push(
        `${logicalId} (${resource.Type}): ${change.changeImpact} by ${causes.join(', ') || 'type'}`,
      );
    }
  }
  return problems;
}

describe('upgrading a released stack', () => {
  const today = buildStack('prod').template.toJSON() as Template;

  it('has a released template to compare with', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  it.each(fixtures)('replaces no stateful resource of %s', (name) => {
    const previous = load(name);
    expect(
      Object.values(previous.Resources).filter((r) => STATEFUL_TYPES.has(r.Type)).length,
    ).toBeGreaterThan(3);
    expect(unsafeChanges(previous, today)).toEqual([]);
  });

  it('keeps the login domain of a released stack with consoleDomainPrefix=account; the new default would replace it', () => {
    // Cognito allows one prefix domain per user pool: creating the replacement fails the deploy.
    const previous = load(fixtures[0]!);
    const domainOf = (template: Template) =>
      Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Cognito::UserPoolDomain');
    const [[id]] = domainOf(previous) as [[string, unknown]];
    const impact = (next: Template) => fullDiff(previous, next).resources.get(id)?.changeImpact;
    const pinned = buildStack('prod', { consoleDomainPrefix: 'account' }).template.toJSON() as Template;
    expect(domainOf(pinned).map(([logicalId]) => logicalId)).toEqual([id]);
    expect(impact(pinned)).toBe(ResourceImpact.NO_CHANGE);
    expect(impact(today)).toBe(ResourceImpact.WILL_REPLACE);
  });

  it('tells a replacement, a lost logical id and a harmless update apart (the check itself can fail)', () => {
    const previous = load(fixtures[0]!);
    const bucket = (previous.Resources.RecordingsBucket as { Properties: Record<string, unknown> })
      .Properties;
    const withProperties = (properties: Record<string, unknown>): Template => ({
      Resources: {
        ...previous.Resources,
        RecordingsBucket: { Type: 'AWS::S3::Bucket', Properties: { ...bucket, ...properties } },
      },
    });
    expect(unsafeChanges(previous, withProperties({ ObjectLockEnabled: true }))).toEqual([
      'RecordingsBucket (AWS::S3::Bucket): WILL_REPLACE by ObjectLockEnabled',
    ]);
    expect(
      unsafeChanges(previous, withProperties({ ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } })),
    ).toEqual([]);
    const { RecordingsTable: _table, ...withoutTable } = previous.Resources;
    expect(unsafeChanges(previous, { Resources: withoutTable })).toEqual([
      'RecordingsTable (AWS::DynamoDB::Table): logical id gone, so CloudFormation would delete it',
    ]);
  });
});
