import { randomUUID } from 'node:crypto';
import {
  createDocumentClient,
  createDynamoClient,
  createS3Client,
} from '../../functions/shared/adapters/aws-clients.js';
import { type VobizCredentials } from '../../functions/shared/config.js';
import { describeActor } from '../../functions/shared/domain/actor.js';
import { normalizePhoneNumber } from '../../functions/shared/domain/recording.js';
import { systemClock } from '../../functions/shared/ingest/ports.js';
import type { BulkDeleteFilters } from '../../functions/shared/lifecycle/ports.js';
import { buildLifecycle, readLifecycleSettings } from '../../functions/shared/wiring/lifecycle.js';
import { resolveActor } from './actor.js';
import type { CommandIo } from './command.js';
import { ERASE_USAGE, parseEraseArgs } from './cli.js';
import {
  checkRecordingIds,
  commandCredentials,
  HELP,
  setUp,
  storageEnv,
  targetEnv,
  wantsJson,
} from './command.js';
import { createProgress, formatRows, writeResult } from './output.js';
import { awsConfig } from './targets.js';

/** Credentials that can never be used: erasing with --keep-vobiz needs no Vobiz account. */
const NO_VOBIZ: VobizCredentials = { authId: 'not-configured', authToken: 'not-configured' };

/**
 * `vobiz-archive erase`: erasure by id, call or phone number, with the same use case as `DELETE
 * /recordings/{id}` (Vobiz's copy deleted too unless --keep-vobiz). One line per recording on stderr, a
 * summary on stdout. Exit code 0 when everything asked for is erased (a delete at Vobiz left to the
 * scheduled run included), 1 when something was refused (legal hold, or the delete at Vobiz for another
 * account's recording), busy or failed, 2 usage/configuration.
 */
export async function runEraseCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
): Promise<number> {
  const setup = await setUp(
    'erase',
    ERASE_USAGE,
    io,
    async () => {
      const args = parseEraseArgs(argv);
      if (args.help) return HELP;
      checkRecordingIds(args.recordingIds);
      const needs = [
        'TableName',
        'BucketName',
        ...(args.alsoVobiz ? (['VobizSecretArn', 'VobizApiBaseUrl'] as const) : []),
      ] as const;
      const { env: resolved } = await targetEnv(args.target, storageEnv(env, args), needs, io);
      return { args, env: resolved, settings: readLifecycleSettings(resolved) };
    },
    { json: wantsJson(argv) },
  );
  if (!setup.ok) return setup.exitCode;
  const { args, settings, env: resolved } = setup.value;
  const region = resolved.AWS_REGION;
  let credentials = NO_VOBIZ;
  if (args.alsoVobiz) {
    const loaded = await commandCredentials("erase (use --keep-vobiz to keep Vobiz's copy)", resolved, io);
    if (!loaded) return 2;
    credentials = loaded;
  }
  const dynamo = createDynamoClient(awsConfig(resolved, 'dynamodb'), resolved);
  const s3 = createS3Client(resolved, awsConfig(resolved, 's3'));
  const lifecycle = buildLifecycle(settings, credentials, {
    documents: createDocumentClient(dynamo),
    s3,
    clock: io.clock ?? systemClock,
    newId: () => randomUUID(),
  });
  const actor = await resolveActor(resolved, region);
  const summary = {
    erased: 0,
    alreadyErased: 0,
    wouldErase: 0,
    refused: 0,
    busy: 0,
    failed: 0,
    vobizPending: 0,
    vobizRefused: 0,
  };
  const results: { recording_id: string; outcome: string; detail?: string }[] = [];
  // One line per recording always; on a terminal also a bar (of the ids given, or a running count).
  const progress = createProgress(io.stderr);
  const total = args.recordingIds.length;
  const write = (line: string) => {
    progress.note(line);
    if (!io.stderr.isTTY) return;
    const done = results.length;
    progress.update(total > 0 ? done / total : 0, `${done}${total > 0 ? ` of ${total}` : ''} recordings`);
  };
  write(
    `erase: ${args.dryRun ? 'dry run, nothing is erased' : 'this cannot be undone'}; ` +
      `${args.alsoVobiz ? 'deleted at Vobiz too' : "Vobiz's copy kept (--keep-vobiz)"}; ` +
      `reason ${args.reason ?? '(none: dry run)'}; audited as ${describeActor(actor)}`,
  );
  const atVobiz: Record<string, string> = {
    deleted: ', deleted at Vobiz',
    absent: ', already gone at Vobiz',
    pending: ', delete at Vobiz failed for now: the scheduled lifecycle run retries it',
    refused: ', NOT deleted at Vobiz (another account, see the audit trail)',
  };

  const eraseOne = async (id: string) => {
    try {
      const result = await lifecycle.eraseRecording(id, {
        actor,
        reason: args.reason ?? '',
        alsoVobiz: args.alsoVobiz,
        dryRun: args.dryRun,
        signal: io.signal,
      });
      switch (result.outcome) {
        case 'erased':
          if (result.already) summary.alreadyErased++;
          else summary.erased++;
          if (result.vobiz === 'pending') summary.vobizPending++;
          if (result.vobiz === 'refused') summary.vobizRefused++;
          results.push({
            recording_id: id,
            outcome: result.already ? 'already_erased' : 'erased',
            ...(result.vobiz ? { detail: `vobiz ${result.vobiz}` } : {}),
          });
          write(
            `${id}: ${result.already ? 'already erased' : `erased (${result.versionsDeleted} audio version(s))`}` +
              (result.vobiz ? atVobiz[result.vobiz] : ''),
          );
          break;
        case 'would_erase':
          summary.wouldErase++;
          results.push({ recording_id: id, outcome: 'would_erase' });
          write(
            `${id}: would be erased (${result.record ? result.record.status : 'unknown here: a tombstone would be written'})`,
          );
          break;
        case 'held':
          summary.refused++;
          results.push({ recording_id: id, outcome: 'held' });
          write(`${id}: refused, on legal hold (release it first: DELETE /recordings/${id}/legal-hold)`);
          break;
        case 'busy':
          summary.busy++;
          results.push({ recording_id: id, outcome: 'busy' });
          write(`${id}: being archived right now; run again in a minute`);
          break;
      }
    } catch (error) {
      summary.failed++;
      results.push({ recording_id: id, outcome: 'failed', detail: (error as Error).message });
      write(`${id}: failed (${(error as Error).message}); run again to finish it`);
    }
  };

  try {
    if (args.recordingIds.length > 0) {
      for (const id of args.recordingIds) if (!io.signal?.aborted) await eraseOne(id);
    } else {
      const filter =
        args.callUuid !== undefined
          ? { callUuid: args.callUuid }
          : { digits: normalizePhoneNumber(args.number!) };
      const seen = new Set<string>();
      for await (const ids of lifecycle.repository.recordingIdsBy(filter)) {
        for (const id of ids) {
          if (seen.has(id) || io.signal?.aborted) continue;
          seen.add(id);
          await eraseOne(id);
        }
      }
      if (seen.size === 0) write('no archived recording matches');
      if (args.alsoVobiz) await bulkDeleteAtVobiz(lifecycle.vobiz, args, write, io.signal);
    }
  } finally {
    progress.done();
    dynamo.destroy();
    s3.destroy();
  }

  const rows: [string, number][] = args.dryRun
    ? [
        ['would erase', summary.wouldErase],
        ['already erased', summary.alreadyErased],
        ['refused: legal hold', summary.refused],
        ['busy: being archived', summary.busy],
      ]
    : [
        ['erased', summary.erased],
        ['already erased', summary.alreadyErased],
        ['refused: legal hold', summary.refused],
        ['busy: being archived', summary.busy],
        ['failed (run again)', summary.failed],
        ['Vobiz delete pending (retried)', summary.vobizPending],
        ['Vobiz delete refused', summary.vobizRefused],
      ];
  writeResult(
    io.stdout,
    args.json,
    { dry_run: args.dryRun, ...summary, interrupted: io.signal?.aborted === true, results },
    () => formatRows(rows),
  );
  if (io.signal?.aborted) io.stderr.write('interrupted: run again to finish (it is idempotent)\n');
  const troubles = summary.refused + summary.busy + summary.failed + summary.vobizRefused;
  return troubles === 0 && !io.signal?.aborted ? 0 : 1;
}

/**
 * Recordings Vobiz still has under the same call or number but the archive never saw: Vobiz's Bulk Delete
 * with that filter (numbers in both spellings, as callers and callees). It runs asynchronously at Vobiz.
 */
async function bulkDeleteAtVobiz(
  vobiz: {
    bulkDelete(
      filters: BulkDeleteFilters,
      options?: { signal?: AbortSignal },
    ): Promise<{ apiId: string | undefined }>;
  },
  args: { callUuid?: string; number?: string; dryRun: boolean },
  write: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const filters: BulkDeleteFilters[] = [];
  if (args.callUuid !== undefined) filters.push({ call_uuid: args.callUuid });
  if (args.number !== undefined) {
    const digits = normalizePhoneNumber(args.number);
    for (const form of [`+${digits}`, digits]) filters.push({ from_number: form }, { to_number: form });
  }
  for (const filter of filters) {
    const described = Object.entries(filter)
      .map(([name]) => `${name}=<given>`)
      .join('&');
    if (args.dryRun) {
      write(`Vobiz Bulk Delete ${described}: would be requested`);
      continue;
    }
    const { apiId } = await vobiz.bulkDelete(filter, { signal });
    write(
      `Vobiz Bulk Delete ${described}: requested (api_id ${apiId ?? '?'}); Vobiz removes them asynchronously`,
    );
  }
}
