import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { INDEXES } from '../functions/shared/domain/table.js';
import { ArchiveFunction } from './archive-function.js';
import type { DataStore } from './data-store.js';
import type { StageSettings } from './settings.js';
import type { VobizSecret } from './vobiz-secret.js';

export const REDRIVE_ENTRY = fileURLToPath(new URL('../functions/redrive/handler.ts', import.meta.url));

/** Lambda's maximum, as the archive worker's: a large recording's retry can finish in one run. */
export const REDRIVE_TIMEOUT = Duration.minutes(15);
export const REDRIVE_SCHEDULE = Schedule.rate(Duration.minutes(1));

export interface RedriveProps {
  readonly settings: StageSettings;
  readonly store: DataStore;
  readonly vobizSecret: VobizSecret;
  /** `MAX_ATTEMPTS`; leave unset to share the functions' default (30 attempts, about 24 h) with the worker. */
  readonly maxAttempts?: number;
  /** `BACKFILL_LOOKBACK_MINUTES` (default 120; 0 switches the sweep off). */
  readonly backfillLookbackMinutes?: number;
  /** `REDRIVE_BATCH_SIZE` (default 50). */
  readonly batchSize?: number;
}

/**
 * The scheduled re-drive: every minute it sweeps Vobiz's recent list for recordings whose callback never
 * arrived, then retries due `pending` records with the same archive code as the archive worker.
 *
 * No reserved concurrency, on purpose: every attempt holds a lease taken with a conditional write, so
 * overlapping runs never work on the same recording; overlap is what lets a backlog of long uploads
 * drain faster than one 15-minute run at a time, and a cap would turn each overlap into a throttle
 * (alarmed) without adding safety. Each run is bounded instead (batch, 4 at a time, sweep ≤ 2 min).
 */
export class Redrive extends Construct {
  readonly function: ArchiveFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: RedriveProps) {
    super(scope, id);
    const { settings, store } = props;

    this.function = new ArchiveFunction(this, 'Function', {
      entry: REDRIVE_ENTRY,
      description: 'Re-drive: finish pending recordings, backfill missed callbacks (every minute)',
      timeout: REDRIVE_TIMEOUT,
      // Up to 4 uploads in flight, each ~3 parts in memory.
      memorySize: 512,
      settings,
    });

    this.function
      .bind('TABLE_NAME', store.table.tableName, (fn) => {
        store.grantTable(fn, 'ingest');
        this.grantRecoveryReads(fn, store);
      })
      .bind('BUCKET_NAME', store.bucket.bucketName, (fn) => store.grantAudio(fn, 'ingest'))
      .bind('VOBIZ_SECRET_ARN', props.vobizSecret.secretArn, (fn) => props.vobizSecret.grantRead(fn))
      .bind('VOBIZ_API_BASE_URL', settings.vobizApiBaseUrl)
      .bind('ALLOWED_MEDIA_ORIGINS', settings.allowedMediaOrigins);
    if (props.maxAttempts !== undefined) this.function.bind('MAX_ATTEMPTS', String(props.maxAttempts));
    if (props.backfillLookbackMinutes !== undefined)
      this.function.bind('BACKFILL_LOOKBACK_MINUTES', String(props.backfillLookbackMinutes));
    if (props.batchSize !== undefined) this.function.bind('REDRIVE_BATCH_SIZE', String(props.batchSize));

    // A run that fails is not replayed later: the next minute's run does the same work on fresh data.
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    this.rule = new Rule(this, 'Schedule', {
      description: 'Runs the vobiz-recording-archive re-drive and backfill sweep',
      schedule: REDRIVE_SCHEDULE,
      targets: [new LambdaFunction(this.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
  }

  /** Query on the `due` index only (not every index), and BatchGetItem on the table for the sweep. */
  private grantRecoveryReads(grantee: IGrantable, store: DataStore): void {
    Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: [`${store.table.tableArn}/index/${INDEXES.due.name}`],
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:BatchGetItem'],
      resourceArns: [store.table.tableArn],
    });
  }
}
