import { setTimeout as sleep } from 'node:timers/promises';
import { CloudFormationClient, DeleteStackCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { DynamoHolds } from '../../functions/shared/adapters/dynamo-holds.js';
import { STATEFUL_RESOURCE_TYPES } from '../../infra/stateful.js';
import { DESTROY_USAGE, parseCommandLine, UsageError } from './cli.js';
import { fail, HELP, setUp, type CommandIo, wantsJson } from './command.js';
import { watchStack } from './deploy.js';
import { stackResources } from './doctor-probes.js';
import { formatRows, writeResult } from './output.js';
import { ask } from './prompt.js';
import { awsConfig, describeStack, removeOutputsFile, stageOutputs, type Target } from './targets.js';

/** What a deletion does to each resource that holds data, from the deployed template. */
export interface DataFate {
  logicalId: string;
  type: string;
  physicalId?: string;
  fate: 'deleted' | 'kept';
}

const DATA_TYPES = new Set<string>([...STATEFUL_RESOURCE_TYPES, 'AWS::Logs::LogGroup']);

/**
 * The fate of every data resource on DeleteStack: `DeletionPolicy: Retain` (or RetainExceptOnCreate)
 * keeps it, anything else deletes it; the deployed template is the truth, whatever the code says now.
 */
export function dataFates(
  template: { Resources?: Record<string, { Type?: string; DeletionPolicy?: string }> },
  physicalIds: ReadonlyMap<string, string>,
): DataFate[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type && DATA_TYPES.has(resource.Type))
    .map(([logicalId, resource]) => ({
      logicalId,
      type: resource.Type!,
      ...(physicalIds.get(logicalId) ? { physicalId: physicalIds.get(logicalId)! } : {}),
      fate: /^Retain/.test(resource.DeletionPolicy ?? '') ? ('kept' as const) : ('deleted' as const),
    }));
}

const NOUNS: Record<string, string> = {
  'AWS::S3::Bucket': 'bucket',
  'AWS::DynamoDB::Table': 'table',
  'AWS::Cognito::UserPool': 'user pool (the console users)',
  'AWS::Cognito::IdentityPool': 'identity pool',
  'AWS::KMS::Key': 'KMS key (scheduled for deletion)',
  'AWS::SecretsManager::Secret': 'secret',
  'AWS::Logs::LogGroup': 'log group',
};

function describeFate(fate: DataFate): string {
  return `${NOUNS[fate.type] ?? fate.type} ${fate.physicalId ?? fate.logicalId}`;
}

/**
 * `vobiz-archive destroy`: deletes a stage's stack after checking that no recording is on legal hold,
 * saying what goes and what stays, and a typed confirmation. Exit code 0 deleted, 1 refused (holds) or
 * failed, 2 usage (including no confirmation possible).
 */
export async function runDestroyCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
  options: { pollMs?: number } = {},
): Promise<number> {
  const setup = await setUp(
    'destroy',
    DESTROY_USAGE,
    io,
    () => {
      const { values, positionals, help, json, target } = parseCommandLine(
        argv,
        { yes: { type: 'boolean', short: 'y', default: false } },
        'stage',
      );
      if (help) return HELP;
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const yes = values.yes === true;
      if (!yes && !io.stdin?.isTTY)
        throw new UsageError('no terminal to confirm on: pass --yes to delete without asking');
      return { target: target as Extract<Target, { kind: 'stage' }>, yes, json };
    },
    { json: wantsJson(argv) },
  );
  if (!setup.ok) return setup.exitCode;
  const { target, yes, json } = setup.value;
  const resolvedEnv = {
    ...env,
    ...(target.region ? { AWS_REGION: target.region } : {}),
    ...(target.profile ? { AWS_PROFILE: target.profile } : {}),
  };
  const cfn = new CloudFormationClient(awsConfig(resolvedEnv));
  const dynamo = new DynamoDBClient(awsConfig(resolvedEnv, 'dynamodb'));
  try {
    const stack = await describeStack(cfn, target.stackName);
    const outputs = stageOutputs(stack);
    if (outputs.TableName) {
      const held = await new DynamoHolds(createDocumentClient(dynamo), outputs.TableName).held(20);
      if (held.ids.length > 0) {
        writeResult(
          io.stdout,
          json,
          { stage: target.stage, outcome: 'refused', held: held.ids, more: held.more },
          () => '',
        );
        io.stderr.write(
          `destroy: refused: ${held.more ? 'more than ' : ''}${held.ids.length} recording${held.ids.length === 1 && !held.more ? ' is' : 's are'} on legal hold (${held.ids.slice(0, 5).join(', ')}${held.ids.length > 5 || held.more ? ', …' : ''}).\n` +
            `Release each hold first (vobiz-archive query --stage ${target.stage} DELETE /recordings/<recording_id>/legal-hold), or keep the stage.\n`,
        );
        return 1;
      }
    }
    const physical = new Map(
      (await stackResources(cfn, target.stackName)).map((r) => [
        r.LogicalResourceId ?? '',
        r.PhysicalResourceId ?? '',
      ]),
    );
    const { TemplateBody } = await cfn.send(
      new GetTemplateCommand({ StackName: target.stackName, TemplateStage: 'Original' }),
    );
    const fates = dataFates(JSON.parse(TemplateBody ?? '{}') as Parameters<typeof dataFates>[0], physical);
    const deleted = fates.filter((f) => f.fate === 'deleted');
    const kept = fates.filter((f) => f.fate === 'kept');
    io.stderr.write(
      `destroy: ${target.stackName} (${stack.StackStatus})\n` +
        (deleted.length > 0
          ? `Deletes, with everything in them:\n${deleted.map((f) => `  ${describeFate(f)}`).join('\n')}\n`
          : '') +
        (kept.length > 0
          ? `Keeps (they stay in the account and keep costing; a new deploy of the stage does not adopt them):\n${kept.map((f) => `  ${describeFate(f)}`).join('\n')}\n`
          : 'Keeps nothing: every recording and record of this stage is gone for good.\n') +
        'The functions, the API, the console, the alarms and the schedules are deleted.\n',
    );
    if (!yes) {
      const answer = await ask(io, io.stdin!, `Type the stage name (${target.stage}) to delete it: `);
      if (answer?.trim() !== target.stage) {
        io.stderr.write('destroy: not confirmed; nothing was deleted\n');
        return 1;
      }
    }
    const startedAt = new Date();
    await cfn.send(new DeleteStackCommand({ StackName: target.stackName }));
    io.stderr.write('deleting…\n');
    const watched = await watchStack(cfn, target.stackName, startedAt, {
      stderr: io.stderr,
      pause: (ms) => sleep(ms),
      pollMs: options.pollMs,
    });
    if (watched.stack && watched.stack.StackStatus !== 'DELETE_COMPLETE') {
      io.stderr.write(
        `destroy: ${target.stackName} ended ${watched.stack.StackStatus}:\n${watched.failures.map((f) => `  ${f}`).join('\n')}\n`,
      );
      return 1;
    }
    removeOutputsFile(target.stage);
    writeResult(
      io.stdout,
      json,
      {
        stage: target.stage,
        outcome: 'deleted',
        deleted: deleted.map(describeFate),
        kept: kept.map(describeFate),
      },
      () =>
        formatRows([
          ['deleted', target.stackName],
          ['data deleted', deleted.length > 0 ? deleted.map(describeFate).join('; ') : 'none'],
          ['data kept', kept.length > 0 ? kept.map(describeFate).join('; ') : 'none'],
        ]),
    );
    return 0;
  } catch (error) {
    return fail('destroy', io, error, wantsJson(argv));
  } finally {
    cfn.destroy();
    dynamo.destroy();
  }
}
