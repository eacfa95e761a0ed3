import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_NAME,
  VOBIZ_ERROR_STATUSES,
} from '../../functions/shared/framework/observability.js';
import { ArchiveFunction } from '../../infra/archive-function.js';
import { WEBHOOK_PATH, WEBHOOK_ROUTE_KEY } from '../../infra/webhook.js';
import { buildStack } from './build.js';

const FUNCTIONS_DIR = fileURLToPath(new URL('../../functions', import.meta.url));

/** Metrics the functions may emit but the dashboard leaves out, and why. */
const NOT_ON_THE_DASHBOARD: Record<string, string> = {
  [METRIC.lifecycleItemsRead]: 'the lifecycle run’s DynamoDB cost, for tuning, not operating',
};

/**
 * The business metrics the code emits, read from the code itself: the first argument of every
 * `addMetric(` under functions/ (a ternary names two), resolved through METRIC. A metric nobody emits
 * any more, or a dashboard line for a name no code writes, fails the tests below.
 */
function emittedMetricNames(): Set<string> {
  const names = new Set<string>();
  const files = readdirSync(FUNCTIONS_DIR, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.ts'),
  );
  for (const file of files) {
    const source = readFileSync(join(FUNCTIONS_DIR, file), 'utf8');
    for (const match of source.matchAll(/\.addMetric\(/g)) {
      const argument = firstArgument(source, match.index + match[0].length);
      for (const key of argument.matchAll(/\bMETRIC\.(\w+)/g)) {
        const name = (METRIC as Record<string, string>)[key[1]!];
        if (!name) throw new Error(`${file}: METRIC.${key[1]} is not defined`);
        names.add(name);
      }
    }
  }
  return names;
}

function firstArgument(source: string, from: number): string {
  let depth = 0;
  for (let i = from; i < source.length; i++) {
    const c = source[i];
    if (c === '(') depth++;
    else if (c === ')' && depth-- === 0) return source.slice(from, i);
    else if (c === ',' && depth === 0) return source.slice(from, i);
  }
  throw new Error('unterminated addMetric(');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The dashboard body with each CloudFormation reference written as `<Ref Id>` / `<Id.Attribute>`. */
function dashboardBody(template: Json): { widgets: Json[] } {
  const dashboards = Object.values(template.Resources).filter(
    (r: Json) => r.Type === 'AWS::CloudWatch::Dashboard',
  ) as Json[];
  expect(dashboards).toHaveLength(1);
  const [, parts] = dashboards[0].Properties.DashboardBody['Fn::Join'] as [string, Json[]];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      if (part.Ref) return `<Ref ${part.Ref}>`;
      if (part['Fn::GetAtt']) return `<${(part['Fn::GetAtt'] as string[]).join('.')}>`;
      throw new Error(`unexpected token in the dashboard body: ${JSON.stringify(part)}`);
    })
    .join('');
  return JSON.parse(text) as { widgets: Json[] };
}

interface PlainMetric {
  widget: string;
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  stat: string | undefined;
}

function plainMetrics(widgets: Json[]): PlainMetric[] {
  return widgets.flatMap((widget) =>
    ((widget.properties?.metrics ?? []) as Json[][])
      .filter((row) => typeof row[0] === 'string')
      .map((row) => {
        const last: Json = row.at(-1);
        const options: Json = typeof last === 'object' ? last : {};
        const [namespace, name, ...rest] = row.filter((cell): cell is string => typeof cell === 'string');
        const dimensions: Record<string, string> = {};
        for (let i = 0; i < rest.length; i += 2) dimensions[rest[i]!] = rest[i + 1]!;
        return {
          widget: widget.properties.title as string,
          namespace: namespace!,
          name: name!,
          dimensions,
          stat: options.stat,
        };
      }),
  );
}

const prod = buildStack('prod');
const template = prod.template.toJSON();
const { widgets } = dashboardBody(template);
const metrics = plainMetrics(widgets);
const titles = widgets.map((w) => w.properties?.title as string | undefined).filter(Boolean);
const logicalId = (construct: { node: { defaultChild?: unknown } } | CfnElement) =>
  prod.stack.getLogicalId(
    ('node' in construct && construct.node.defaultChild
      ? construct.node.defaultChild
      : construct) as CfnElement,
  );

describe('dashboard', () => {
  it('is a stack output the console opens (DashboardUrl)', () => {
    const url = template.Outputs.DashboardUrl.Value['Fn::Join'][1] as Json[];
    expect(url).toEqual([
      'https://console.aws.amazon.com/cloudwatch/home?region=',
      { Ref: 'AWS::Region' },
      '#dashboards:name=',
      { Ref: logicalId(prod.stack.dashboard.dashboard) },
    ]);
  });

  it('shows callbacks, archiving, Vobiz errors, the lifecycle, functions and alarms', () => {
    expect(titles).toEqual([
      'Webhook answers (route)',
      'Webhook latency p99 (ms)',
      'Callbacks accepted / refused',
      'Recordings archived',
      'Audio archived (bytes)',
      'Pending and failed',
      'Dead-letter queues (messages)',
      'Vobiz errors by status',
      'Lifecycle actions',
      'Audit trail copy',
      'Function errors',
      'Function throttles',
      'Alarms',
    ]);
  });

  it('graphs only business metrics the functions emit, with their dimensions', () => {
    const emitted = emittedMetricNames();
    const business = metrics.filter((m) => m.namespace === METRICS_NAMESPACE);
    for (const metric of business) {
      expect(emitted, `${metric.widget}: ${metric.name}`).toContain(metric.name);
      expect(metric.dimensions.service).toBe(SERVICE_NAME);
      if (metric.name === METRIC.vobizErrors)
        expect(Object.keys(metric.dimensions).sort()).toEqual(['service', 'status']);
      else expect(Object.keys(metric.dimensions)).toEqual(['service']);
    }
    // And every emitted one has its line, unless it is left out on purpose.
    const shown = new Set(business.map((m) => m.name));
    const missing = [...emitted].filter((name) => !shown.has(name) && !(name in NOT_ON_THE_DASHBOARD));
    expect(missing).toEqual([]);
  });

  it('breaks Vobiz errors down by the fixed set of statuses the functions emit', () => {
    const statuses = metrics.filter((m) => m.name === METRIC.vobizErrors).map((m) => m.dimensions.status);
    expect(statuses).toEqual([...VOBIZ_ERROR_STATUSES]);
  });

  it('graphs errors and throttles of every function of the stack', () => {
    const functions = prod.stack.node
      .findAll()
      .filter((c): c is ArchiveFunction => c instanceof ArchiveFunction)
      .map((fn) => `<Ref ${logicalId(fn)}>`)
      .sort();
    expect(functions.length).toBeGreaterThanOrEqual(6);
    for (const [title, name] of [
      ['Function errors', 'Errors'],
      ['Function throttles', 'Throttles'],
    ] as const) {
      const lines = metrics.filter((m) => m.widget === title);
      expect(lines.every((m) => m.namespace === 'AWS/Lambda' && m.name === name && m.stat === 'Sum')).toBe(
        true,
      );
      expect(lines.map((m) => m.dimensions.FunctionName).sort()).toEqual(functions);
    }
  });

  it('reads the dead-letter queue, the worker and the webhook function of this stack', () => {
    expect(metrics.find((m) => m.namespace === 'AWS/SQS')).toMatchObject({
      name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: `<${logicalId(prod.stack.worker.deadLetterQueue)}.QueueName>` },
      stat: 'Maximum',
    });
    expect(metrics.find((m) => m.name === 'IteratorAge')?.dimensions.FunctionName).toBe(
      `<Ref ${logicalId(prod.stack.worker.function)}>`,
    );
    expect(metrics.find((m) => m.name === 'Duration')).toMatchObject({
      dimensions: { FunctionName: `<Ref ${logicalId(prod.stack.webhook.function)}>` },
      stat: 'p99',
    });
  });

  it("reads the webhook route's own API Gateway metrics, which the stage enables for that route only", () => {
    const searches = widgets
      .filter((w) => (w.properties?.title as string | undefined)?.startsWith('Webhook'))
      .flatMap((w) =>
        (w.properties.metrics as Json[][]).map((row) => row[0]?.expression as string | undefined),
      )
      .filter(Boolean);
    expect(searches).toHaveLength(4);
    const api = `<Ref ${logicalId(prod.stack.api)}>`;
    for (const search of searches) {
      expect(search).toContain(`ApiId="${api}"`);
      expect(search).toMatch(new RegExp(`Route="${WEBHOOK_ROUTE_KEY}"|Resource="${WEBHOOK_PATH}"`));
    }
    expect(
      searches.filter((s) => s!.includes('MetricName="Count" OR MetricName="4xx" OR MetricName="5xx"')),
    ).toHaveLength(2);
    expect(searches.filter((s) => s!.includes(`MetricName="Latency")', 'p99'`))).toHaveLength(2);
    const stage = Object.values(template.Resources).find(
      (r: Json) => r.Type === 'AWS::ApiGatewayV2::Stage',
    ) as Json;
    expect(stage.Properties.RouteSettings[WEBHOOK_ROUTE_KEY].DetailedMetricsEnabled).toBe(true);
    expect(stage.Properties.DefaultRouteSettings.DetailedMetricsEnabled).toBeUndefined();
  });

  it('shows the state of every alarm of the stack', () => {
    const alarmWidget = widgets.find((w) => w.type === 'alarm');
    const alarms = Object.entries(template.Resources)
      .filter(([, r]) => (r as Json).Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => `<${id}.Arn>`)
      .sort();
    expect(alarms.length).toBeGreaterThan(10);
    expect([...(alarmWidget.properties.alarms as string[])].sort()).toEqual(alarms);
  });
});
