import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../functions/shared/framework/observability.js';
import type { StageSettings } from './settings.js';

export interface AlarmsProps {
  readonly settings: StageSettings;
  readonly functions: Record<string, IFunction>;
  readonly api: HttpApi;
}

const PERIOD = Duration.minutes(5);

/** How long `OverduePendingRecordings` must stay above zero before anyone is woken (periods of 5 min). */
export const OVERDUE_PENDING_PERIODS = 3;

/**
 * Everything that needs a human: function errors and throttles, API 5xx, records that failed for good,
 * Vobiz refusing our credentials, and pending records the re-drive is not catching up with.
 */
export class Alarms extends Construct {
  readonly alarms: Alarm[] = [];
  readonly topic?: ITopic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { settings } = props;

    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${name}Errors`, fn.metricErrors({ period: PERIOD, statistic: 'Sum' }), {
        description: `${name} function invocations failed (unhandled errors or timeouts).`,
      });
      this.add(`${name}Throttles`, fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }), {
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
    options: { description: string; evaluationPeriods?: number },
  ): void {
    const periods = options.evaluationPeriods ?? 1;
    this.alarms.push(
      new Alarm(this, id, {
        metric,
        alarmDescription: options.description,
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        // No data means nothing happened: no errors, no failures.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}

function business(metricName: string, statistic: 'Sum' | 'Maximum'): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic,
    period: PERIOD,
  });
}
