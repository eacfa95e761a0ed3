import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { DynamoHolds } from '../../functions/shared/adapters/dynamo-holds.js';
import { DynamoLifecycleRepository } from '../../functions/shared/adapters/dynamo-lifecycle.js';
import { required } from '../../functions/shared/config.js';
import { LIFECYCLE_INDEX_USAGE, parseLifecycleIndexArgs } from './cli.js';
import { HELP, setUp, storageEnv, targetEnv, type CommandIo, wantsJson } from './command.js';
import { createProgress, formatRows, writeResult } from './output.js';
import { awsConfig } from './targets.js';

/**
 * `vobiz-archive lifecycle-index`: once after upgrading a stack that archived recordings before the
 * lifecycle (or the legal-hold index) existed, puts those records into the lifecycle's indexes so that
 * retention, the scheduled delete at Vobiz and destroy's hold check see them. Idempotent. Exit code 0
 * when done, 1 when interrupted, 2 usage/configuration.
 */
export async function runLifecycleIndexCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
): Promise<number> {
  const setup = await setUp(
    'lifecycle-index',
    LIFECYCLE_INDEX_USAGE,
    io,
    async () => {
      const args = parseLifecycleIndexArgs(argv);
      if (args.help) return HELP;
      const { env: resolved } = await targetEnv(args.target, storageEnv(env, args), ['TableName'], io);
      return { args, env: resolved, tableName: required(resolved, 'TABLE_NAME') };
    },
    { json: wantsJson(argv) },
  );
  if (!setup.ok) return setup.exitCode;
  const { args, tableName, env: resolved } = setup.value;
  const dynamo = new DynamoDBClient(awsConfig(resolved, 'dynamodb'));
  const documents = createDocumentClient(dynamo);
  const repository = new DynamoLifecycleRepository(documents, tableName);
  const holds = new DynamoHolds(documents, tableName);
  const progress = createProgress(io.stderr);
  const counts = { examined: 0, indexed: 0, heldExamined: 0, heldIndexed: 0 };
  const verb = args.dryRun ? 'would index' : 'indexed';
  try {
    for await (const page of repository.indexExisting({ dryRun: args.dryRun })) {
      counts.examined += page.examined;
      counts.indexed += page.indexed;
      progress.update(0, `examined ${counts.examined} stored and expired records, ${verb} ${counts.indexed}`);
      if (io.signal?.aborted) break;
    }
    if (!io.signal?.aborted)
      for await (const page of holds.indexUnindexed({ dryRun: args.dryRun })) {
        counts.heldExamined += page.examined;
        counts.heldIndexed += page.indexed;
        progress.update(
          0,
          `legal holds: examined ${counts.heldExamined} stored records, ${verb} ${counts.heldIndexed}`,
        );
        if (io.signal?.aborted) break;
      }
  } finally {
    progress.done();
    dynamo.destroy();
  }
  writeResult(
    io.stdout,
    args.json,
    {
      dry_run: args.dryRun,
      examined: counts.examined,
      indexed: counts.indexed,
      held_indexed: counts.heldIndexed,
      interrupted: io.signal?.aborted === true,
    },
    () =>
      formatRows([
        ['examined', counts.examined],
        [verb, counts.indexed],
        [`held ${verb}`, counts.heldIndexed],
      ]),
  );
  if (io.signal?.aborted) {
    io.stderr.write('interrupted: run again to finish (it is idempotent)\n');
    return 1;
  }
  return 0;
}
