import { readFileSync } from 'node:fs';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ALARMED_FUNCTIONS, type AlarmedFunction } from '../../infra/alarms.js';
import { ArchiveStack } from '../../infra/archive-stack.js';
import { resolveStageSettings, SETTINGS, type RawSettings } from '../../infra/settings.js';

/** How the docs name each function of the stack. */
export const FUNCTION_LABELS: Record<AlarmedFunction, string> = {
  Webhook: 'webhook',
  ArchiveWorker: 'archive worker',
  Redrive: 're-drive',
  Lookup: 'lookup',
  Lifecycle: 'lifecycle',
  LifecycleApi: 'lifecycle API',
  AuditCopy: 'audit copy',
  RetryApi: 'retry API',
};

/**
 * A value for every setting that sets a variable only when it is given, so that the synthesized stack
 * shows where each of those variables goes. A setting with a variable missing here stops `npm run docs`.
 */
const SETTINGS_THAT_SET_EVERY_VARIABLE: RawSettings = {
  webhookPublicUrl: 'https://hooks.example.com/webhooks/vobiz/recording',
  maxAttempts: 20,
  backfillLookbackMinutes: 60,
  retentionDays: 365,
  deleteFromVobizAfterDays: 7,
  vobizSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vobiz-AbCdEf',
};

let cached: ReadonlyMap<string, readonly string[]> | undefined;

/**
 * Which functions the stack sets each environment variable on (their labels), read from the template
 * synthesized offline (no bundling, no AWS) with every variable-setting setting given.
 */
export function variablesTheStackSets(): ReadonlyMap<string, readonly string[]> {
  if (cached) return cached;
  const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...context, 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new ArchiveStack(app, 'VobizRecordingArchive-docs', {
    settings: resolveStageSettings('prod', SETTINGS_THAT_SET_EVERY_VARIABLE),
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<
    string,
    { Properties?: { Environment?: { Variables?: object } } }
  >;
  const setOn = new Map<string, string[]>();
  for (const name of ALARMED_FUNCTIONS) {
    const id = stack.getLogicalId(stack.alarms.functions[name].node.defaultChild as CfnElement);
    for (const variable of Object.keys(resources[id]?.Properties?.Environment?.Variables ?? {}))
      setOn.set(variable, [...(setOn.get(variable) ?? []), FUNCTION_LABELS[name]]);
  }
  for (const [key, definition] of Object.entries(SETTINGS)) {
    const variable = (definition as { variable?: string }).variable;
    if (variable && !setOn.has(variable))
      throw new Error(
        `the stage setting ${key} sets ${variable} on no function: give it a value in tools/docs/stack.ts`,
      );
  }
  cached = setOn;
  return setOn;
}

/** The functions a variable is set on, as the docs list them: "every function" when it is all of them. */
export function setOnText(functions: readonly string[]): string {
  return functions.length === ALARMED_FUNCTIONS.length ? 'every function' : functions.join(', ');
}
