import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ArchiveStack } from '../infra/archive-stack.js';
import { resolveStageSettings, SETTING_KEYS, type RawSettings } from '../infra/settings.js';

/**
 * The only infra file that reads context. Settings come from, in increasing priority: the stage's
 * defaults, `context.stages.<stage>` in cdk.json, and `-c key=value` on the command line.
 *   npx cdk deploy -c stage=prod -c alarmEmail=ops@example.com
 */
const app = new App();
const stage = String(app.node.tryGetContext('stage') ?? 'prod');
const fromCdkJson =
  (app.node.tryGetContext('stages') as Record<string, RawSettings> | undefined)?.[stage] ?? {};
const fromCommandLine: RawSettings = {};
for (const key of SETTING_KEYS) {
  const value: unknown = app.node.tryGetContext(key);
  if (value !== undefined) fromCommandLine[key] = value;
}
const settings = resolveStageSettings(stage, { ...fromCdkJson, ...fromCommandLine });

// Environment-agnostic on purpose: synth needs no credentials and performs no lookups.
new ArchiveStack(app, `VobizRecordingArchive-${stage}`, {
  settings,
  description: `Vobiz recording archive (${stage}): signed webhook, DynamoDB index, S3 audio, IAM lookup API`,
  tags: { project: 'vobiz-recording-archive', stage },
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
