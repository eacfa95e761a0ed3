import type { RawSettings } from '../../infra/settings.js';

/** The stack variants every infra check covers: defaults, throwaway, customer key, external resources. */
export const STAGE_VARIANTS: { name: string; stage: string; raw: RawSettings }[] = [
  { name: 'prod (defaults)', stage: 'prod', raw: {} },
  { name: 'dev (throwaway)', stage: 'dev', raw: {} },
  {
    name: 'prod with KMS, e-mail alarms, reserved concurrency, retention and delete at Vobiz',
    stage: 'prod',
    raw: {
      encryption: 'kms',
      alarmEmail: 'ops@example.com',
      webhookReservedConcurrency: '10',
      retentionDays: '1095',
      deleteFromVobizAfterDays: '30',
    },
  },
  {
    name: 'staging with an existing secret and topic, no tracing',
    stage: 'staging',
    raw: {
      vobizSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vobiz-AbCdEf',
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall',
      tracing: 'false',
      archiveConcurrency: '3',
      webhookReservedConcurrency: 'none',
    },
  },
];
