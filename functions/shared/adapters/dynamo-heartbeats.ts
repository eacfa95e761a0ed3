import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  heartbeatKeys,
  type Heartbeat,
  type HeartbeatJob,
  type HeartbeatOutcome,
} from '../domain/heartbeat.js';

/** The heartbeat items (see domain/heartbeat.ts): written by the scheduled jobs, read by `doctor`. */
export class DynamoHeartbeats {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** One UpdateItem per run; `last_ok_at` moves only when the run was `ok`. */
  async record(
    job: HeartbeatJob,
    run: { at: string; outcome: HeartbeatOutcome; detail?: string },
  ): Promise<void> {
    const ok = run.outcome === 'ok';
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: heartbeatKeys(job),
        // Names for every attribute: DynamoDB's reserved words are many and not worth guessing.
        UpdateExpression:
          `SET #job = :job, #lastRun = :at, #outcome = :outcome${ok ? ', #lastOk = :at' : ''}` +
          (run.detail ? ', #detail = :detail' : ' REMOVE #detail'),
        ExpressionAttributeNames: {
          '#job': 'job',
          '#lastRun': 'last_run_at',
          '#outcome': 'outcome',
          '#detail': 'detail',
          ...(ok ? { '#lastOk': 'last_ok_at' } : {}),
        },
        ExpressionAttributeValues: {
          ':job': job,
          ':at': run.at,
          ':outcome': run.outcome,
          ...(run.detail ? { ':detail': run.detail.slice(0, 300) } : {}),
        },
      }),
    );
  }

  async read(job: HeartbeatJob): Promise<Heartbeat | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: heartbeatKeys(job), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { job: _job, last_run_at, outcome, detail, last_ok_at } = Item as Record<string, string>;
    return {
      job,
      last_run_at: last_run_at!,
      outcome: outcome as HeartbeatOutcome,
      ...(detail ? { detail } : {}),
      ...(last_ok_at ? { last_ok_at } : {}),
    };
  }
}

/**
 * Records a run's heartbeat and never fails the run for it: a job that did its work must not be retried
 * (or alarm) because its heartbeat could not be written; `doctor` then reports it late, which is true.
 */
export async function recordHeartbeat(
  heartbeats: Pick<DynamoHeartbeats, 'record'> | undefined,
  job: HeartbeatJob,
  run: { at: string; outcome: HeartbeatOutcome; detail?: string },
  onError: (error: unknown) => void,
): Promise<void> {
  if (!heartbeats) return;
  try {
    await heartbeats.record(job, run);
  } catch (error) {
    onError(error);
  }
}
