import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRIC } from '../functions/shared/framework/observability.js';
import { business, functionErrors, functionThrottles, iteratorAge, PERIOD, queueDepth } from './metrics.js';
import type { StageSettings } from './settings.js';

export interface AlarmsProps {
  readonly settings: StageSettings;
  readonly functions: Record<string, IFunction>;
  readonly api: HttpApi;
  /** The stream-triggered archive worker and the queue its trigger gives batches up to. */
  readonly worker: { readonly function: IFunction; readonly deadLetterQueue: IQueue };
  /** The audit copy's trigger gives batches up to this queue. */
  readonly auditCopy: { readonly deadLetterQueue: IQueue };
}

/** The age of the oldest stream record the worker has not taken yet: past this, it is falling behind. */
export const ITERATOR_AGE_ALARM_MS = 10 * 60_000;

/**
 * Refused callbacks and no accepted one, for this many 5-minute periods: every callback fails its
 * signature, which is what a rotated or wrong auth token looks like (a probe alone does not trigger it
 * while real callbacks keep being accepted).
 */
export const SIGNATURES_ONLY_REJECTED_PERIODS = 3;

/** Lifecycle failures are retried with backoff: only failures in every run for this long wake anyone. */
export const LIFECYCLE_FAILURE_PERIODS = 6;

/** How long `OverduePendingRecordings` must stay above zero before anyone is woken (periods of 5 min). */
export const OVERDUE_PENDING_PERIODS = 3;

/**
 * Everything that needs a human: function errors and throttles, API 5xx, records that failed for good,
 * Vobiz refusing our credentials, and pending records the re-drive is not catching up with.
 */
export class Alarms extends Construct {
  readonly alarms: Alarm[] = [];
  readonly topic?: ITopic;
  /** The functions watched, by name (the dashboard graphs the same ones). */
  readonly functions: Record<string, IFunction>;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { settings } = props;
    this.functions = props.functions;

    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${name}Errors`, functionErrors(fn), {
        description: `${name} function invocations failed (unhandled errors or timeouts).`,
      });
      this.add(`${name}Throttles`, functionThrottles(fn), {
        description: `${name} function was throttled (reserved or account concurrency exhausted).`,
      });
    }
    this.add('Api5xx', props.api.metricServerError({ period: PERIOD, statistic: 'Sum' }), {
      description: 'The HTTP API answered 5xx (webhook: Vobiz will retry; lookup: callers saw errors).',
    });
    this.add('RecordingsFailed', business(METRIC.failed, 'Sum'), {
      description:
        'A recording ran out of attempts and is now status=failed; it needs a look (see last_error).',
    });
    this.add('VobizAuthFailed', business(METRIC.vobizAuthFailed, 'Sum'), {
      description: 'Vobiz rejected our credentials (401/403): fix the Vobiz secret.',
    });
    this.add('OverduePending', business(METRIC.overduePending, 'Maximum'), {
      description:
        'Pending recordings are overdue for their next attempt: the re-drive is not keeping up or is failing.',
      evaluationPeriods: OVERDUE_PENDING_PERIODS,
    });
    this.add('VobizDeleteRefused', business(METRIC.vobizDeleteRefused, 'Sum'), {
      description:
        'A recording was kept at Vobiz because its archived copy did not verify (version, size or SHA-256): see vobiz_delete_blocked on the record and the lifecycle log.',
    });
    this.add('LifecycleFailures', business(METRIC.lifecycleFailed, 'Sum'), {
      description:
        'Deletes at Vobiz or expiries keep failing (they are retried with backoff): Vobiz, S3 or DynamoDB errors in the lifecycle log.',
      evaluationPeriods: LIFECYCLE_FAILURE_PERIODS,
    });
    this.add(
      'SignaturesOnlyRejected',
      new MathExpression({
        expression: 'IF(FILL(rejected, 0) > 0 AND FILL(accepted, 0) == 0, 1, 0)',
        usingMetrics: {
          rejected: business(METRIC.signatureRejected, 'Sum'),
          accepted: business(METRIC.callbackAccepted, 'Sum'),
        },
        period: PERIOD,
        label: 'callbacks refused while none is accepted',
      }),
      {
        description:
          'Every callback fails its signature and none is accepted: the Vobiz auth token changed or is wrong. Update the secret (docs/guides/runbook.md, "The Vobiz token changed").',
        evaluationPeriods: SIGNATURES_ONLY_REJECTED_PERIODS,
      },
    );
    this.add('ArchiveIteratorAge', iteratorAge(props.worker.function), {
      description:
        'The archive worker is more than 10 minutes behind the stream: raise archiveConcurrency, or look at its errors and throttles.',
      threshold: ITERATOR_AGE_ALARM_MS,
    });
    this.add('ArchiveDeadLetters', queueDepth(props.worker.deadLetterQueue), {
      description:
        'The archive trigger gave up on a batch (the records stay pending; the re-drive retries them). Read the worker log, then purge the queue.',
    });

    this.add(
      'AuditCopyDeadLetters',
      props.auditCopy.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: PERIOD,
        statistic: 'Maximum',
      }),
      {
        description:
          'Audit entries could not be copied to the audit bucket: read the AuditCopy log, fix the cause, then copy the entries named in the queue.',
      },
    );
    this.add('AuditEntryTampered', business(METRIC.auditTampered, 'Sum'), {
      description:
        'An audit entry was changed or removed after it was written: the evidence is under tampering/ in the audit bucket.',
    });

    if (settings.alarmEmail || settings.alarmTopicArn) {
      const topic = settings.alarmTopicArn
        ? Topic.fromTopicArn(this, 'Topic', settings.alarmTopicArn)
        : new Topic(this, 'Topic', {
            displayName: `vobiz-recording-archive ${settings.stageName} alarms`,
            enforceSSL: true,
          });
      if (settings.alarmEmail) topic.addSubscription(new EmailSubscription(settings.alarmEmail));
      const action = new SnsAction(topic);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
      this.topic = topic;
    }
  }

  private add(
    id: string,
    metric: IMetric,
    options: { description: string; evaluationPeriods?: number; threshold?: number },
  ): void {
    const periods = options.evaluationPeriods ?? 1;
    this.alarms.push(
      new Alarm(this, id, {
        metric,
        alarmDescription: options.description,
        threshold: options.threshold ?? 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        // No data means nothing happened: no errors, no failures.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
