import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ArchiveStack } from '../../infra/archive-stack.js';
import { resolveStageSettings, type RawSettings } from '../../infra/settings.js';

export interface Built {
  app: App;
  stack: ArchiveStack;
  template: Template;
}

/** The feature flags `cdk synth` uses, so tests build the same template. */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/** Builds the stack for a stage the way bin/app.ts does, without bundling or CloudFormation validation. */
export function buildStack(stage: string, raw: RawSettings = {}, options: { nag?: boolean } = {}): Built {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new ArchiveStack(app, `VobizRecordingArchive-${stage}`, {
    settings: resolveStageSettings(stage, raw),
  });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}
