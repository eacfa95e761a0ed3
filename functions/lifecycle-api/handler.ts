import { createObservability, METRIC, MetricUnit } from '../shared/framework/observability.js';
import { loadLifecycleDependencies } from '../lifecycle/dependencies.js';
import { createLifecycleApiHandler } from './app.js';

const { logger, metrics } = createObservability('lifecycle-api');

export const handler = createLifecycleApiHandler({
  logger,
  metrics,
  load: () =>
    loadLifecycleDependencies(process.env, () =>
      metrics.addMetric(METRIC.vobizAuthFailed, MetricUnit.Count, 1),
    ),
});
