import { Aws, Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AlarmStatusWidget,
  Dashboard as CloudWatchDashboard,
  GraphWidget,
  SearchExpression,
  Shading,
  TextWidget,
  type IMetric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, VOBIZ_ERROR_STATUSES } from '../functions/shared/framework/observability.js';
import type { Alarms } from './alarms.js';
import {
  business,
  functionErrors,
  functionThrottles,
  iteratorAge,
  PERIOD,
  queueDepth,
  vobizErrors,
} from './metrics.js';
import type { StageSettings } from './settings.js';
import { WEBHOOK_PATH, WEBHOOK_ROUTE_KEY } from './webhook.js';

export interface DashboardProps {
  readonly settings: Pick<StageSettings, 'stageName'>;
  readonly api: HttpApi;
  readonly webhook: IFunction;
  readonly worker: { readonly function: IFunction; readonly deadLetterQueue: IQueue };
  /** The audit trail's copy to the Object Lock bucket: its dead-letter queue. */
  readonly auditCopy: { readonly deadLetterQueue: IQueue };
  /** The alarms (their states in one widget) and the functions they watch (errors and throttles). */
  readonly alarms: Alarms;
}

/** Vobiz wants the callback answered within this long. */
const VOBIZ_ANSWER_LIMIT_MS = 3_000;

/**
 * One CloudWatch dashboard for the stage: callbacks in (answers, latency, accepted and refused),
 * recordings out (archived, bytes, pending, failed, dead letters), Vobiz's errors by status, the
 * lifecycle's actions, the audit trail's copy, every function's errors and throttles, and the state of every alarm. Every
 * metric comes from infra/metrics.ts, the alarms' own definitions, or from CDK's methods.
 */
export class Dashboard extends Construct {
  readonly dashboard: CloudWatchDashboard;
  /** The dashboard in the CloudWatch console (a stack output). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const { api, alarms } = props;
    const functions = Object.entries(alarms.functions);

    this.dashboard = new CloudWatchDashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(24),
    });
    this.url = `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.dashboard.dashboardName}`;

    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          `# Vobiz recording archive: ${props.settings.stageName}\n` +
          'Callbacks in, recordings archived, what Vobiz answered, the lifecycle, and every alarm. ' +
          'Sums per 5 minutes unless a title says otherwise; the alarms and what to do are in the ' +
          "Operations docs. The webhook's own answers and latency come from the route's detailed metrics.",
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('Webhook answers (route)', webhookRoute(api, ['Count', '4xx', '5xx'], 'Sum')),
      new GraphWidget({
        title: 'Webhook latency p99 (ms)',
        left: [
          ...webhookRoute(api, ['Latency'], 'p99'),
          props.webhook.metricDuration({ period: PERIOD, statistic: 'p99', label: 'function duration p99' }),
        ],
        leftAnnotations: [
          { value: VOBIZ_ANSWER_LIMIT_MS, label: "Vobiz's 3 s limit", fill: Shading.ABOVE, color: '#d62728' },
        ],
        width: 8,
        height: 6,
      }),
      graph('Callbacks accepted / refused', [
        business(METRIC.callbackAccepted, 'Sum', { label: 'accepted (200)' }),
        business(METRIC.signatureRejected, 'Sum', { label: 'refused (signature, replay)' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Recordings archived', [
        business(METRIC.stored, 'Sum', { label: 'stored' }),
        business(METRIC.backfilled, 'Sum', { label: 'found by the backfill sweep' }),
        business(METRIC.retried, 'Sum', { label: 'failed ones queued again (retry route)' }),
      ]),
      graph('Audio archived (bytes)', [business(METRIC.bytesStored, 'Sum', { label: 'bytes stored' })]),
      new GraphWidget({
        title: 'Pending and failed',
        left: [
          business(METRIC.deferred, 'Sum', { label: 'attempts deferred (still pending)' }),
          business(METRIC.overduePending, 'Maximum', { label: 'pending overdue (max)' }),
          business(METRIC.failed, 'Sum', { label: 'failed for good' }),
        ],
        right: [iteratorAge(props.worker.function).with({ label: 'worker behind the stream (ms, max)' })],
        width: 8,
        height: 6,
      }),
    );
    this.dashboard.addWidgets(
      graph('Dead-letter queues (messages)', [
        queueDepth(props.worker.deadLetterQueue).with({ label: 'archive batches given up (max)' }),
        queueDepth(props.auditCopy.deadLetterQueue).with({ label: 'audit copy batches given up (max)' }),
      ]),
      graph('Vobiz errors by status', [
        ...VOBIZ_ERROR_STATUSES.map((status) => vobizErrors(status)),
        business(METRIC.vobizAuthFailed, 'Sum', { label: 'credentials refused (alarmed)' }),
      ]),
      graph('Lifecycle actions', [
        business(METRIC.deletedAtVobiz, 'Sum', { label: 'deleted at Vobiz' }),
        business(METRIC.expired, 'Sum', { label: 'expired (retention)' }),
        business(METRIC.erased, 'Sum', { label: 'erased' }),
        business(METRIC.legalHoldPlaced, 'Sum', { label: 'legal hold placed' }),
        business(METRIC.legalHoldReleased, 'Sum', { label: 'legal hold released' }),
        business(METRIC.skippedHeld, 'Sum', { label: 'skipped: on hold' }),
        business(METRIC.vobizDeleteRefused, 'Sum', { label: 'kept at Vobiz: copy not verified' }),
        business(METRIC.lifecycleFailed, 'Sum', { label: 'failed, retried later' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Audit trail copy', [
        business(METRIC.auditCopied, 'Sum', { label: 'entries copied to the audit bucket' }),
        business(METRIC.auditTampered, 'Sum', { label: 'entries changed or removed (alarmed)' }),
      ]),
      graph(
        'Function errors',
        functions.map(([name, fn]) => functionErrors(fn, name)),
      ),
      graph(
        'Function throttles',
        functions.map(([name, fn]) => functionThrottles(fn, name)),
      ),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: alarms.alarms,
        width: 24,
        height: Math.max(2, Math.ceil(alarms.alarms.length / 4) + 1),
      }),
    );
  }
}

function graph(title: string, left: IMetric[], width = 8): IWidget {
  return new GraphWidget({ title, left, width, height: 6 });
}

/**
 * The webhook route's own API Gateway metrics (detailed metrics, switched on for this route only in
 * infra/webhook.ts). AWS documents their dimensions as ApiId, Stage, Route, and HTTP APIs have been
 * seen emitting ApiId, Method, Resource, Stage: one search per schema finds whichever it is.
 */
function webhookRoute(api: HttpApi, metricNames: string[], statistic: string): IMetric[] {
  const names = metricNames.map((name) => `MetricName="${name}"`).join(' OR ');
  const seconds = PERIOD.toSeconds();
  return [
    `{AWS/ApiGateway,ApiId,Route,Stage} ApiId="${api.apiId}" Route="${WEBHOOK_ROUTE_KEY}"`,
    `{AWS/ApiGateway,ApiId,Method,Resource,Stage} ApiId="${api.apiId}" Resource="${WEBHOOK_PATH}"`,
  ].map(
    (query) =>
      new SearchExpression({
        expression: `SEARCH('${query} (${names})', '${statistic}', ${seconds})`,
        label: '',
        period: PERIOD,
      }),
  );
}
