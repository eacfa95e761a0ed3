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
import { ARCHIVE_TRIGGER } from '../functions/shared/domain/archive-trigger.js';
import { AUDIT_COPY_PREFIXES, AUDIT_COPY_TRIGGER } from '../functions/shared/domain/audit-copy.js';
import { METRIC } from '../functions/shared/framework/observability.js';
import {
  business,
  functionErrors,
  functionThrottles,
  iteratorAge,
  PERIOD,
  queueDepth,
  type BusinessMetricName,
} from './metrics.js';
import type { StageSettings } from './settings.js';

/** The functions whose errors and throttles are alarmed: every function of the stack. */
export const ALARMED_FUNCTIONS = [
  'Webhook',
  'ArchiveWorker',
  'Lookup',
  'Redrive',
  'Lifecycle',
  'LifecycleApi',
  'AuditCopy',
  'RetryApi',
] as const;
export type AlarmedFunction = (typeof ALARMED_FUNCTIONS)[number];

export interface AlarmsProps {
  readonly settings: StageSettings;
  readonly functions: Record<AlarmedFunction, IFunction>;
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

/** Every alarm looks at periods of this length. */
export const ALARM_PERIOD_MINUTES = PERIOD.toMinutes();

/** Lifecycle failures are retried with backoff: only failures in every run for this long wake anyone. */
export const LIFECYCLE_FAILURE_PERIODS = 6;

/** How long `OverduePendingRecordings` must stay above zero before anyone is woken (periods of 5 min). */
export const OVERDUE_PENDING_PERIODS = 3;

/**
 * What an alarm tells the person it wakes, kept next to its definition: the docs' alarm tables
 * (`npm run docs`) and the alarm's own description are written from it. Markdown, one line each.
 */
export interface AlarmGuide {
  /** What happened when it fires. */
  readonly meaning: string;
  /** What to do. */
  readonly action: string;
  /** The section of docs/guides/runbook.md with more. */
  readonly runbook: string;
}

export interface AlarmDefinition extends AlarmGuide {
  /** What it watches, for the docs (Markdown). */
  readonly watches: string;
  /** How the periods are summarised (none for metric math, whose expression says it). */
  readonly statistic?: 'Sum' | 'Maximum';
  /** Fires above this value (default 0). */
  readonly threshold?: number;
  /** The threshold as the docs say it, when not the number itself. */
  readonly thresholdText?: string;
  /** Consecutive 5-minute periods above the threshold before it fires (default 1). */
  readonly periods?: number;
  /** The business metrics it watches (namespace METRICS_NAMESPACE). */
  readonly businessMetrics?: readonly string[];
  readonly metric: (props: AlarmsProps) => IMetric;
}

/** Errors and throttles, alarmed for each function: `<Function>Errors`, `<Function>Throttles`. */
export type FunctionAlarmKind = 'Errors' | 'Throttles';

const FUNCTION_ALARM_GUIDE: Record<FunctionAlarmKind, AlarmGuide> = {
  Errors: {
    meaning: 'that function crashed or timed out',
    action: 'query 1 on its log group; a configuration error names the variable',
    runbook: 'a-function-failed-errors',
  },
  Throttles: {
    meaning: 'Lambda refused invocations (concurrency exhausted)',
    action:
      "raise `webhookReservedConcurrency` or the account's concurrency limit; throttled callbacks are retried by Vobiz",
    runbook: 'throttles',
  },
};

/** Where a function's alarms mean something more specific than the generic guide above. */
const FUNCTION_ALARM_GUIDES: Record<
  AlarmedFunction,
  Partial<Record<FunctionAlarmKind, Partial<AlarmGuide>>>
> = {
  Webhook: {
    Errors: {
      meaning:
        'the webhook function crashed or timed out (errors it handles become 500 responses, see `Api5xx`)',
      action: 'query 1 on `WebhookLogGroup`; Vobiz retries callbacks that got no 2xx/4xx',
    },
  },
  ArchiveWorker: {
    Errors: {
      meaning:
        'an archive worker invocation failed as a whole (its configuration or the secret could not be loaded, a crash, a timeout)',
      action:
        'query 1 on `ArchiveWorkerLogGroup`; the mapping bisects and retries the batch, then puts it in the dead-letter queue (`ArchiveDeadLetters`)',
    },
    Throttles: {
      meaning:
        'the stream mapping wanted more invocations than `archiveConcurrency` allows (a stream with several shards)',
      action:
        'nothing is lost (the mapping retries); raise `archiveConcurrency` if `ArchiveIteratorAge` also grows',
    },
  },
  Lookup: {},
  Redrive: {},
  Lifecycle: {},
  LifecycleApi: {},
  AuditCopy: {
    Errors: {
      meaning:
        'an audit copy invocation failed (the audit bucket refused a write, a crash, a timeout); the stream mapping retries the batch',
      action:
        'query 1 on its log group (`/aws/lambda/…AuditCopy…`); the mapping bisects and retries the batch, then puts it in its dead-letter queue (`AuditCopyDeadLetters`)',
    },
  },
  RetryApi: {},
};

/** The guide of one function's errors or throttles alarm. */
export function functionAlarmGuide(fn: AlarmedFunction, kind: FunctionAlarmKind): AlarmGuide {
  return { ...FUNCTION_ALARM_GUIDE[kind], ...FUNCTION_ALARM_GUIDES[fn][kind] };
}

export const FUNCTION_ALARM_STATISTIC = 'Sum';

function businessAlarm(
  metricName: BusinessMetricName,
  statistic: 'Sum' | 'Maximum',
  definition: Omit<AlarmDefinition, 'watches' | 'statistic' | 'businessMetrics' | 'metric'>,
): AlarmDefinition {
  return {
    ...definition,
    watches: `\`${metricName}\``,
    statistic,
    businessMetrics: [metricName],
    metric: () => business(metricName, statistic),
  };
}

/**
 * Every alarm beyond the functions' errors and throttles, by construct id, in the order the docs list
 * them. The ids are the alarms' names in CloudWatch (after the stack's prefix): keep them stable.
 */
export const ALARMS: Record<string, AlarmDefinition> = {
  Api5xx: {
    watches: "the HTTP API's 5xx count",
    statistic: 'Sum',
    metric: (props) => props.api.metricServerError({ period: PERIOD, statistic: 'Sum' }),
    meaning:
      "the HTTP API answered 5xx: a function error (logged as `request failed`), a timeout or an integration failure; the webhook's callers (Vobiz) retry, lookup callers saw errors",
    action:
      'query 5 on `ApiAccessLogGroup` shows the route, query 1 the cause. A placeholder or malformed Vobiz secret shows up here; so do `503 audit_unavailable` answers on `/audio` (the lookup could not write who listened, so it handed out no link: DynamoDB throttling or an outage)',
    runbook: 'api5xx',
  },
  RecordingsFailed: businessAlarm(METRIC.failed, 'Sum', {
    meaning: 'a recording ran out of attempts and is now `failed`',
    action:
      'look at its `last_error`, fix the cause, then `vobiz-archive retry --stage <stage> <recording_id>` (or `--all-failed`)',
    runbook: 'a-recording-failed',
  }),
  VobizAuthFailed: businessAlarm(METRIC.vobizAuthFailed, 'Sum', {
    meaning:
      "Vobiz answered 401/403 to our credentials, in any call (Retrieve Recording, the audio download, the sweep's List All Recordings, a delete)",
    action: 'the auth token was rotated or is wrong: put the right one in the Vobiz secret',
    runbook: 'the-vobiz-token-changed',
  }),
  SignaturesOnlyRejected: {
    watches: `metric math on the sums: \`${METRIC.signatureRejected}\` > 0 and \`${METRIC.callbackAccepted}\` = 0`,
    businessMetrics: [METRIC.signatureRejected, METRIC.callbackAccepted],
    periods: SIGNATURES_ONLY_REJECTED_PERIODS,
    metric: () =>
      new MathExpression({
        expression: 'IF(FILL(rejected, 0) > 0 AND FILL(accepted, 0) == 0, 1, 0)',
        usingMetrics: {
          rejected: business(METRIC.signatureRejected, 'Sum'),
          accepted: business(METRIC.callbackAccepted, 'Sum'),
        },
        period: PERIOD,
        label: 'callbacks refused while none is accepted',
      }),
    meaning: 'callbacks were refused for their signature and none was accepted',
    action:
      'the token Vobiz signs with is not the one in the secret (rotated at Vobiz): update the secret. Probes alone do not trigger it while real callbacks are accepted; Vobiz retries refused callbacks, and the backfill sweep finds what its retries missed',
    runbook: 'the-vobiz-token-changed',
  },
  OverduePending: businessAlarm(METRIC.overduePending, 'Maximum', {
    periods: OVERDUE_PENDING_PERIODS,
    meaning: '`pending` records are overdue for their next attempt',
    action:
      'the re-drive is failing or not keeping up: check `RedriveErrors` and `RedriveThrottles`, then query 1 on `RedriveLogGroup`',
    runbook: 'overduepending',
  }),
  ArchiveIteratorAge: {
    watches: "the archive worker's `IteratorAge`",
    statistic: 'Maximum',
    threshold: ITERATOR_AGE_ALARM_MS,
    thresholdText: `${ITERATOR_AGE_ALARM_MS / 60_000} minutes`,
    metric: (props) => iteratorAge(props.worker.function),
    meaning: `the oldest stream record the worker has not taken is more than ${ITERATOR_AGE_ALARM_MS / 60_000} minutes old`,
    action:
      'the worker is falling behind a burst, failing, or throttled: check its errors and throttles, raise `archiveConcurrency`; the re-drive joins in for records 10 minutes old',
    runbook: 'archiveiteratorage',
  },
  ArchiveDeadLetters: {
    watches: "the dead-letter queue's visible messages",
    statistic: 'Maximum',
    metric: (props) => queueDepth(props.worker.deadLetterQueue),
    meaning: `the archive trigger gave up on a batch (${ARCHIVE_TRIGGER.maxRetryAttempts} retries) and sent its description to the dead-letter queue (\`ArchiveDeadLetterQueueUrl\`)`,
    action:
      "read the worker log around the message's time; the batch's records are still `pending` and due, so the re-drive archives them. Purge the queue once understood",
    runbook: 'archivedeadletters',
  },
  VobizDeleteRefused: businessAlarm(METRIC.vobizDeleteRefused, 'Sum', {
    meaning:
      'a recording was kept at Vobiz because its archived copy did not verify (version, size or SHA-256)',
    action:
      "`npx vobiz-archive query --stage prod '/audit?action=vobiz_delete'` (outcome `refused`, `detail` says why); the record has `vobiz_delete_blocked`. After fixing the cause, `npx vobiz-archive vobiz-cleanup --stage prod --retry-blocked`",
    runbook: 'vobizdeleterefused',
  }),
  LifecycleFailures: businessAlarm(METRIC.lifecycleFailed, 'Sum', {
    periods: LIFECYCLE_FAILURE_PERIODS,
    meaning:
      'every lifecycle run had deletes at Vobiz or expiries that failed (they are retried with backoff)',
    action:
      'query 1 on `LifecycleLogGroup`: Vobiz 429/5xx, S3 or DynamoDB errors; `vobiz_delete_error`/`expiry_error` on the records',
    runbook: 'lifecyclefailures',
  }),
  AuditCopyDeadLetters: {
    watches: "the audit copy's dead-letter queue's visible messages",
    statistic: 'Maximum',
    metric: (props) => queueDepth(props.auditCopy.deadLetterQueue),
    meaning: `audit entries could not be copied to the audit bucket after ${AUDIT_COPY_TRIGGER.maxRetryAttempts} retries (the batch's description is in \`AuditCopyDeadLetterQueueUrl\`)`,
    action:
      'read the AuditCopy log around its time (S3 errors, KMS, a bucket policy change); the entries are still in the table but not yet in the immutable bucket. Purge the queue once understood',
    runbook: 'auditcopydeadletters',
  },
  AuditEntryTampered: businessAlarm(METRIC.auditTampered, 'Sum', {
    meaning: 'an audit entry was changed or removed after it was written',
    action: `something outside the archive's functions changed the table: the evidence is under \`${AUDIT_COPY_PREFIXES.tampering}\` in the audit bucket (\`AuditBucketName\`); find who in CloudTrail and treat it as a security incident`,
    runbook: 'auditentrytampered',
  }),
};

/** The description CloudWatch shows (and the alarm e-mail carries): the guide in plain words. */
export function alarmDescription(guide: AlarmGuide): string {
  const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
  return `${sentence(guide.meaning)}. What to do: ${guide.action}. More: docs/guides/runbook.md#${guide.runbook}`;
}

/**
 * Everything that needs a human: function errors and throttles, API 5xx, records that failed for good,
 * Vobiz refusing our credentials, and pending records the re-drive is not catching up with.
 */
export class Alarms extends Construct {
  readonly alarms: Alarm[] = [];
  readonly topic?: ITopic;
  /** The functions watched, by name (the dashboard graphs the same ones). */
  readonly functions: Record<AlarmedFunction, IFunction>;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { settings } = props;
    this.functions = props.functions;

    for (const name of ALARMED_FUNCTIONS) {
      const fn = props.functions[name];
      this.add(`${name}Errors`, functionErrors(fn), { guide: functionAlarmGuide(name, 'Errors') });
      this.add(`${name}Throttles`, functionThrottles(fn), { guide: functionAlarmGuide(name, 'Throttles') });
    }
    for (const [alarmId, definition] of Object.entries(ALARMS)) {
      this.add(alarmId, definition.metric(props), {
        guide: definition,
        evaluationPeriods: definition.periods,
        threshold: definition.threshold,
      });
    }

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
    options: { guide: AlarmGuide; evaluationPeriods?: number; threshold?: number },
  ): void {
    const periods = options.evaluationPeriods ?? 1;
    this.alarms.push(
      new Alarm(this, id, {
        metric,
        alarmDescription: alarmDescription(options.guide),
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
