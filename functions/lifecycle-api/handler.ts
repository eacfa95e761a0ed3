import { createDocumentClient, createS3Client, readSecretWithSdk } from '../shared/adapters/aws-clients.js';
import { loadCachedCredentials } from '../shared/adapters/credentials.js';
import { countVobizFailures, createObservability } from '../shared/framework/observability.js';
import { systemClock } from '../shared/ingest/ports.js';
import { buildLifecycle, readLifecycleSettings } from '../shared/wiring/lifecycle.js';
import { createLifecycleApiHandler } from './app.js';

const { logger, metrics } = createObservability('lifecycle-api');

export const handler = createLifecycleApiHandler({
  logger,
  metrics,
  load: async () => {
    const settings = readLifecycleSettings(process.env);
    const { source } = await loadCachedCredentials(process.env, readSecretWithSdk());
    return buildLifecycle(settings, source, {
      documents: createDocumentClient(),
      s3: createS3Client(process.env),
      clock: systemClock,
      onVobizFailure: countVobizFailures(metrics),
    });
  },
});
