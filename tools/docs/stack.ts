import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ArchiveStack } from '../../infra/archive-stack.js';
import { resolveStageSettings } from '../../infra/settings.js';

let cached: ReadonlySet<string> | undefined;

/**
 * The environment variables the stack sets on its functions, read from the synthesized template of a
 * default stage (no bundling, no AWS), so the docs say "(stack)" exactly where the stack sets a value.
 */
export function variablesTheStackSets(): ReadonlySet<string> {
  if (cached) return cached;
  const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...context, 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new ArchiveStack(app, 'VobizRecordingArchive-docs', {
    settings: resolveStageSettings('prod'),
  });
  const names = new Set<string>();
  for (const resource of Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))) {
    const variables = (resource.Properties as { Environment?: { Variables?: object } }).Environment
      ?.Variables;
    for (const name of Object.keys(variables ?? {})) names.add(name);
  }
  cached = names;
  return names;
}
