import type { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_SCHEDULES, heartbeatKeys } from '../../functions/shared/domain/heartbeat.js';
import { INDEXES } from '../../functions/shared/domain/table.js';
import { LIFECYCLE_SCHEDULE, LIFECYCLE_TIMEOUT } from '../../infra/lifecycle.js';
import { REDRIVE_SCHEDULE, REDRIVE_TIMEOUT } from '../../infra/redrive.js';
import { buildStack } from './build.js';
import { allows, RESOURCE, statementsByRole } from './iam.js';

const prod = buildStack('prod');
const roleOf = (fn: { role?: { node: { defaultChild?: unknown } } }) =>
  prod.stack.getLogicalId(fn.role!.node.defaultChild as CfnElement);

describe('what the operator commands rely on', () => {
  it('the table has the sparse held index (legal holds, read by destroy)', () => {
    const table = Object.values(prod.template.findResources('AWS::DynamoDB::Table'))[0]!;
    const held = (
      table.Properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown }[]
    ).find((index) => index.IndexName === INDEXES.held.name);
    expect(held?.KeySchema).toEqual([
      { AttributeName: 'gsi_hold_pk', KeyType: 'HASH' },
      { AttributeName: 'gsi_time_sk', KeyType: 'RANGE' },
    ]);
  });

  it('the re-drive and the scheduled lifecycle may write their heartbeat items; the audit denial does not cover them', () => {
    const statements = statementsByRole(prod.template);
    for (const [fn, job] of [
      [prod.stack.redrive.function, 'backfill-sweep'],
      [prod.stack.lifecycle.scheduled, 'lifecycle'],
    ] as const) {
      const role = statements.get(roleOf(fn))!;
      const key = heartbeatKeys(job).pk!;
      expect(allows(role, 'dynamodb:UpdateItem', RESOURCE.table, key), job).toBe(true);
      // The same role still cannot touch an audit item that way.
      expect(allows(role, 'dynamodb:UpdateItem', RESOURCE.table, 'AUDIT#0'), job).toBe(false);
    }
  });

  it('the heartbeats are judged by the schedules and timeouts the stack gives the jobs', () => {
    expect(REDRIVE_SCHEDULE.expressionString).toBe('rate(1 minute)');
    expect(HEARTBEAT_SCHEDULES['backfill-sweep']).toEqual({
      everyMs: 60_000,
      timeoutMs: REDRIVE_TIMEOUT.toMilliseconds(),
    });
    expect(LIFECYCLE_SCHEDULE.expressionString).toBe('rate(5 minutes)');
    expect(HEARTBEAT_SCHEDULES.lifecycle).toEqual({
      everyMs: 5 * 60_000,
      timeoutMs: LIFECYCLE_TIMEOUT.toMilliseconds(),
    });
  });

  it('outputs what set-secret and doctor read: the Vobiz API base URL, the secret, the webhook URL', () => {
    const outputs = prod.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.VobizApiBaseUrl!.Value).toBe('https://api.vobiz.ai');
    for (const name of [
      'VobizSecretArn',
      'WebhookUrl',
      'ArchiveWorkerFunctionName',
      'ArchiveDeadLetterQueueUrl',
    ])
      expect(outputs[name], name).toBeDefined();
  });
});
