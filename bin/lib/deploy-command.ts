import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  resolveStageSettings,
  SETTING_KEYS,
  SettingsError,
  type RawSettings,
  type StageSettings,
} from '../../infra/settings.js';
import { DEPLOY_USAGE, parseCommandLine, UsageError } from './cli.js';
import { fail, HELP, setUp, type CommandIo, wantsJson } from './command.js';
import { deployChangeSet, prepareChangeSet, type DeployOutcome } from './deploy.js';
import { inspectSecret } from './doctor-probes.js';
import { describeError, formatRows, writeResult } from './output.js';
import {
  arnParts,
  awsConfig,
  describeStack,
  REPO_ROOT,
  stageOutputs,
  TargetError,
  writeOutputsFile,
  type Target,
} from './targets.js';

/** Lambda keeps this many executions unreserved in every account. */
const UNRESERVED_FLOOR = 100;

export interface DeployArgs {
  target: Extract<Target, { kind: 'stage' }>;
  context: string[];
  settings: StageSettings;
  allow: string[];
  keepChangeSet: boolean;
  yes: boolean;
  json: boolean;
}

/** `-c key=value` pairs: known settings only (bin/app.ts refuses others too), `stage` through --stage. */
export function parseDeployArgs(
  argv: readonly string[],
  cdkJson: Record<string, unknown>,
): DeployArgs | typeof HELP {
  const { values, positionals, help, json, target } = parseCommandLine(
    argv,
    {
      context: { type: 'string', short: 'c', multiple: true },
      yes: { type: 'boolean', short: 'y', default: false },
      'allow-replacement': { type: 'string', multiple: true },
      'keep-change-set': { type: 'boolean', default: false },
    },
    'stage',
  );
  if (help) return HELP;
  if (target.kind !== 'stage') throw new UsageError('give the stage: --stage <name>');
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const context = (values.context as string[] | undefined) ?? [];
  const fromCommandLine: RawSettings = {};
  for (const pair of context) {
    const match = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(pair);
    if (!match) throw new UsageError(`-c takes key=value, got "${pair.slice(0, 60)}"`);
    if (match[1] === 'stage') throw new UsageError('give the stage with --stage, not -c stage=…');
    if (!(SETTING_KEYS as readonly string[]).includes(match[1]!))
      throw new UsageError(`-c ${match[1]}: not a setting (see the settings reference)`);
    fromCommandLine[match[1]!] = match[2];
  }
  // As bin/app.ts merges them: the stage's cdk.json settings, then -c on the command line.
  const stages = (cdkJson.context as { stages?: Record<string, RawSettings> } | undefined)?.stages ?? {};
  let settings: StageSettings;
  try {
    settings = resolveStageSettings(target.stage, { ...(stages[target.stage] ?? {}), ...fromCommandLine });
  } catch (error) {
    if (error instanceof SettingsError) throw new UsageError(error.message);
    throw error;
  }
  const allow = ((values['allow-replacement'] as string[] | undefined) ?? []).map((id) => id.trim());
  const invalid = allow.find((id) => !/^[A-Za-z0-9]{1,255}$/.test(id));
  if (invalid !== undefined)
    throw new UsageError(`--allow-replacement takes a logical id, got "${invalid.slice(0, 60)}"`);
  return {
    target,
    context,
    settings,
    allow,
    keepChangeSet: values['keep-change-set'] === true,
    yes: values.yes === true,
    json,
  };
}

/**
 * `vobiz-archive deploy`: the CDK deploy of a stage as an inspected change set, the stack policy, the
 * outputs file and a summary of what to do next. Exit code 0 deployed (or unchanged), 1 refused or
 * failed, 2 usage (settings included).
 */
export async function runDeployCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
  deps: { prepare?: typeof prepareChangeSet; pollMs?: number } = {},
): Promise<number> {
  const prepare = deps.prepare ?? prepareChangeSet;
  const setup = await setUp(
    'deploy',
    DEPLOY_USAGE,
    io,
    () => {
      const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      return parseDeployArgs(argv, cdkJson);
    },
    { json: wantsJson(argv) },
  );
  if (!setup.ok) return setup.exitCode;
  const args = setup.value;
  const { target } = args;
  const childEnv = {
    ...env,
    ...(target.region ? { AWS_REGION: target.region, AWS_DEFAULT_REGION: target.region } : {}),
  };
  const config = awsConfig({ ...childEnv, ...(target.profile ? { AWS_PROFILE: target.profile } : {}) });
  const cfn = new CloudFormationClient(config);
  const changeSetName = `vobiz-archive-${new Date(io.clock?.nowMs() ?? Date.now())
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}`;
  let outcome: DeployOutcome;
  try {
    const existing = await describeStack(cfn, target.stackName).catch((error: unknown) => {
      // Only "no such stack" means a first deploy; anything else (no credentials, no network) stops here.
      if (error instanceof TargetError && error.message.startsWith('there is no stack')) return undefined;
      throw error;
    });
    if (!existing) await preflightConcurrency(config, args.settings, io);
    io.stderr.write(
      `deploy: ${target.stackName}${existing ? ` (${existing.StackStatus})` : ' (new)'}; preparing change set ${changeSetName} with the CDK…\n`,
    );
    await prepare({
      stackName: target.stackName,
      stage: target.stage,
      changeSetName,
      context: args.context,
      approve: args.yes,
      ...(target.profile ? { profile: target.profile } : {}),
      env: childEnv,
      stderr: io.stderr,
      signal: io.signal,
    });
    outcome = await deployChangeSet(
      cfn,
      { stackName: target.stackName, changeSetName, allow: args.allow, keepChangeSet: args.keepChangeSet },
      { stderr: io.stderr, ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}) },
    );
  } catch (error) {
    cfn.destroy();
    return fail('deploy', io, error, wantsJson(argv));
  }

  if (outcome.outcome === 'refused') {
    cfn.destroy();
    writeResult(
      io.stdout,
      args.json,
      {
        stage: target.stage,
        outcome: 'refused',
        changes: outcome.changes,
        change_set: outcome.changeSetKept ? changeSetName : null,
      },
      () =>
        `deploy refused: the change set would replace or remove ${outcome.changes.length === 1 ? 'a stateful resource' : 'stateful resources'} (listed above); nothing was changed.\n` +
        (outcome.changeSetKept
          ? `The change set is kept: aws cloudformation describe-change-set --stack-name ${target.stackName} --change-set-name ${changeSetName}\n`
          : 'The change set was deleted (--keep-change-set keeps it for inspection).\n') +
        'If the replacement is intended and the data is saved elsewhere: --allow-replacement <LogicalId>.\n',
    );
    return 1;
  }
  if (outcome.outcome === 'failed') {
    cfn.destroy();
    io.stderr.write(
      `deploy: ${target.stackName} ended ${outcome.stack.StackStatus}:\n${outcome.reasons.map((r) => `  ${r}`).join('\n')}\n`,
    );
    writeResult(
      io.stdout,
      args.json,
      { stage: target.stage, outcome: 'failed', status: outcome.stack.StackStatus, reasons: outcome.reasons },
      () => '',
    );
    return 1;
  }

  const outputs = stageOutputs(outcome.stack);
  const { region, account } = arnParts(outcome.stack.StackId);
  const file = writeOutputsFile({
    stack_name: target.stackName,
    stage: target.stage,
    region: region ?? config.region ?? '',
    ...(account ? { account } : {}),
    written_at: new Date().toISOString(),
    outputs,
  });
  const secret = await secretState(config, outputs.VobizSecretArn);
  cfn.destroy();
  const next = [
    ...(secret !== 'set'
      ? [
          `vobiz-archive set-secret --stage ${target.stage}${secret === 'unknown' ? ' (could not read the secret to tell whether it is set)' : ''}`,
        ]
      : []),
    `give Vobiz the webhook URL as the recording callback (set-secret prints it too)`,
    ...(outputs.UserPoolId
      ? [`vobiz-archive console-user add <email> --group admins --stage ${target.stage}`]
      : []),
    `vobiz-archive doctor --stage ${target.stage}`,
  ];
  const rows: [string, string][] = [
    [
      'stack',
      `${target.stackName}: ${outcome.stack.StackStatus}${outcome.outcome === 'unchanged' ? ' (no changes)' : ` (${outcome.changes} changes)`}`,
    ],
    ['region', region ?? ''],
    ['webhook URL', outputs.WebhookUrl ?? ''],
    ['API URL', outputs.ApiUrl ?? ''],
    ...(outputs.ConsoleUrl ? ([['console', outputs.ConsoleUrl]] as [string, string][]) : []),
    ...(outputs.DashboardUrl ? ([['dashboard', outputs.DashboardUrl]] as [string, string][]) : []),
    ['stack policy', 'no update may replace or delete the bucket, table, user pool, key or secret'],
    ['outputs', relative(process.cwd(), file) || file],
    ['data on destroy', args.settings.throwaway ? 'deleted (throwaway stage)' : 'kept (retained stage)'],
  ];
  writeResult(
    io.stdout,
    args.json,
    {
      stage: target.stage,
      outcome: outcome.outcome,
      status: outcome.stack.StackStatus,
      region,
      outputs,
      outputs_file: file,
      stack_policy: 'set',
      secret,
      throwaway: args.settings.throwaway,
      next,
    },
    () => `${formatRows(rows)}\nNext:\n${next.map((step, i) => `  ${i + 1}. ${step}`).join('\n')}\n`,
  );
  return 0;
}

/** Whether the stage's Vobiz secret still holds the placeholder (the stack's) or real credentials. */
async function secretState(
  config: ReturnType<typeof awsConfig>,
  arn: string | undefined,
): Promise<'set' | 'placeholder' | 'unknown'> {
  if (!arn) return 'unknown';
  const secrets = new SecretsManagerClient(config);
  try {
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
    return inspectSecret(SecretString).state === 'set' ? 'set' : 'placeholder';
  } catch {
    return 'unknown';
  } finally {
    secrets.destroy();
  }
}

/**
 * A new account's Lambda concurrency limit can be as low as 10, and the stack reserves some for the
 * webhook and the archive worker: refuse before a ten-minute rollback tells the same thing.
 */
async function preflightConcurrency(
  config: ReturnType<typeof awsConfig>,
  settings: StageSettings,
  io: CommandIo,
): Promise<void> {
  const wanted = (settings.webhookReservedConcurrency ?? 0) + settings.archiveConcurrency;
  const lambda = new LambdaClient(config);
  try {
    const { AccountLimit } = await lambda.send(new GetAccountSettingsCommand({}));
    const unreserved = AccountLimit?.UnreservedConcurrentExecutions;
    if (unreserved !== undefined && unreserved - wanted < UNRESERVED_FLOOR)
      throw new TargetError(
        `the stage reserves ${wanted} Lambda executions (webhookReservedConcurrency + archiveConcurrency) but the account has ${unreserved} unreserved, and Lambda keeps ${UNRESERVED_FLOOR} free: ask AWS for a higher limit (Service Quotas) or deploy with -c webhookReservedConcurrency=none -c archiveConcurrency=<smaller>`,
      );
  } catch (error) {
    if (error instanceof TargetError) throw error;
    io.stderr.write(
      `deploy: could not read the account's Lambda limits (${describeError(error)}); going on\n`,
    );
  } finally {
    lambda.destroy();
  }
}
