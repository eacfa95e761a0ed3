import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import {
  resolveStageSettings,
  SETTINGS,
  SettingsError,
  type SettingDefinition,
} from '../../infra/settings.js';

describe('stage settings', () => {
  it('keep data and logs longer outside throwaway stages', () => {
    const prod = resolveStageSettings('prod');
    expect(prod).toMatchObject({
      throwaway: false,
      logRetention: RetentionDays.THREE_MONTHS,
      encryption: 's3-managed',
    });
    expect(prod.lifecycle).toEqual({
      infrequentAccessAfterDays: 30,
      glacierAfterDays: 90,
      retentionDays: undefined,
      deleteFromVobizAfterDays: undefined,
      noncurrentVersionExpireAfterDays: 30,
    });
    const dev = resolveStageSettings('dev');
    expect(dev).toMatchObject({ throwaway: true, logRetention: RetentionDays.ONE_WEEK });
    expect(dev.lifecycle.retentionDays).toBe(30);
    expect(prod.lifecycle.retentionDays).toBeUndefined();
    expect(prod.lifecycle.deleteFromVobizAfterDays).toBeUndefined();
  });

  it('default to the design defaults for Vobiz and links', () => {
    expect(resolveStageSettings('prod')).toMatchObject({
      vobizApiBaseUrl: 'https://api.vobiz.ai',
      allowedMediaOrigins: 'https://*.vobiz.ai',
      presignTtlSeconds: 900,
      webhookPublicUrl: undefined,
      vobizSecretArn: undefined,
      webhookReservedConcurrency: 25,
      webhookThrottle: { rateLimit: 100, burstLimit: 200 },
      apiThrottle: { rateLimit: 50, burstLimit: 100 },
      archiveConcurrency: 10,
      maxAttempts: undefined,
      backfillLookbackMinutes: undefined,
    });
  });

  it('take the archive concurrency, the webhook throttle and its reserved concurrency from the stage', () => {
    expect(
      resolveStageSettings('prod', {
        archiveConcurrency: '3',
        webhookRateLimit: 10,
        webhookBurstLimit: '20',
        webhookReservedConcurrency: 'none',
      }),
    ).toMatchObject({
      archiveConcurrency: 3,
      webhookThrottle: { rateLimit: 10, burstLimit: 20 },
      webhookReservedConcurrency: undefined,
    });
    expect(() => resolveStageSettings('prod', { archiveConcurrency: '0' })).toThrow(
      /archiveConcurrency must be an integer between 1 and 1000/,
    );
    expect(() => resolveStageSettings('prod', { webhookRateLimit: 'fast' })).toThrow(/webhookRateLimit/);
  });

  it('accept context strings (cdk -c key=value) and typed values (cdk.json)', () => {
    const settings = resolveStageSettings('prod', {
      logRetentionDays: '365',
      webhookReservedConcurrency: 25,
      throwaway: 'true',
      tracing: false,
      allowedMediaOrigins: 'https://*.vobiz.ai, https://media.example.com',
      alarmEmail: 'ops@example.com',
    });
    expect(settings).toMatchObject({
      logRetention: RetentionDays.ONE_YEAR,
      webhookReservedConcurrency: 25,
      throwaway: true,
      tracing: false,
      alarmEmail: 'ops@example.com',
    });
    expect(settings.lifecycle.retentionDays).toBe(30);
  });

  it('take retention and the delete at Vobiz from the stage (opt-in; 0 deletes at Vobiz once verified)', () => {
    expect(
      resolveStageSettings('prod', { retentionDays: '1095', deleteFromVobizAfterDays: '0' }).lifecycle,
    ).toMatchObject({ retentionDays: 1095, deleteFromVobizAfterDays: 0 });
    expect(resolveStageSettings('dev', { retentionDays: 'none' }).lifecycle.retentionDays).toBeUndefined();
    expect(
      resolveStageSettings('prod', { deleteFromVobizAfterDays: 30 }).lifecycle.deleteFromVobizAfterDays,
    ).toBe(30);
  });

  it.each([
    [{ logRetentionDays: '42' }, /logRetentionDays must be one of/],
    [{ webhookReservedConcurrency: '0' }, /webhookReservedConcurrency must be an integer between 1/],
    [{ maxAttempts: '0' }, /maxAttempts must be an integer between 1/],
    [{ backfillLookbackMinutes: '-5' }, /backfillLookbackMinutes must be an integer between 0/],
    [{ encryption: 'aes' }, /encryption must be one of s3-managed, kms/],
    [{ vobizSecretArn: 'vobiz' }, /vobizSecretArn must be an ARN of secretsmanager/],
    [
      { vobizSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/x' },
      /only makes sense together with vobizSecretArn/,
    ],
    [{ alarmEmail: 'ops' }, /alarmEmail must be an e-mail address/],
    [{ allowedMediaOrigins: 'vobiz.ai' }, /allowedMediaOrigins entry "vobiz.ai"/],
    [{ infrequentAccessAfterDays: '10' }, /infrequentAccessAfterDays must be an integer between 30/],
    [
      { infrequentAccessAfterDays: '60', glacierAfterDays: '70' },
      /glacierAfterDays \(70\) must be at least 30 days after/,
    ],
    [{ expireAfterDays: '60' }, /expireAfterDays was replaced: use retentionDays/],
    [{ retentionDays: '0' }, /retentionDays must be an integer between 1/],
    [{ deleteFromVobizAfterDays: '-1' }, /deleteFromVobizAfterDays must be an integer between 0 and 3650/],
    [
      { retentionDays: '30', deleteFromVobizAfterDays: '31' },
      /deleteFromVobizAfterDays \(31\) must not be longer than retentionDays \(30\)/,
    ],
    [{ tableName: 'x' }, /unknown setting\(s\): tableName/],
    // The lookup function's PRESIGN_TTL_SECONDS accepts the same range.
    [{ presignTtlSeconds: '59' }, /presignTtlSeconds must be an integer between 60 and 43200/],
    [{ presignTtlSeconds: '43201' }, /presignTtlSeconds must be an integer between 60 and 43200/],
  ])('refuse %j with a message naming the setting', (raw, message) => {
    expect(() => resolveStageSettings('prod', raw)).toThrow(SettingsError);
    expect(() => resolveStageSettings('prod', raw)).toThrow(message);
  });

  it('refuse a delete at Vobiz later than the stage default retention (throwaway stages keep 30 days)', () => {
    expect(() => resolveStageSettings('dev', { deleteFromVobizAfterDays: '60' })).toThrow(
      /deleteFromVobizAfterDays \(60\) must not be longer than retentionDays \(30\)/,
    );
    expect(resolveStageSettings('dev', { deleteFromVobizAfterDays: '30' }).lifecycle).toMatchObject({
      deleteFromVobizAfterDays: 30,
      retentionDays: 30,
    });
  });

  it('refuse stage names that cannot be part of a stack name', () => {
    expect(() => resolveStageSettings('Prod_1')).toThrow(/stage must be lowercase/);
  });

  it('switch a lifecycle step off with none', () => {
    expect(
      resolveStageSettings('prod', { glacierAfterDays: 'none', retentionDays: '400' }).lifecycle,
    ).toEqual({
      infrequentAccessAfterDays: 30,
      glacierAfterDays: undefined,
      retentionDays: 400,
      deleteFromVobizAfterDays: undefined,
      noncurrentVersionExpireAfterDays: 30,
    });
  });
  it('lock audit copies for 7 years by default, 1 day on throwaway stages, and refuse what S3 Object Lock cannot take', () => {
    expect(resolveStageSettings('prod').auditRetentionDays).toBe(2555);
    expect(resolveStageSettings('dev').auditRetentionDays).toBe(1);
    expect(resolveStageSettings('prod', { throwaway: 'true' }).auditRetentionDays).toBe(1);
    expect(resolveStageSettings('prod', { auditRetentionDays: '3650' }).auditRetentionDays).toBe(3650);
    for (const bad of ['0', '36501', '7.5', 'forever'])
      expect(() => resolveStageSettings('prod', { auditRetentionDays: bad }), bad).toThrow(
        /auditRetentionDays must be an integer between 1 and 36500/,
      );
  });
});

describe('every setting accepts what its definition (and so the generated reference) says', () => {
  /** Settings that only make sense next to another one. */
  const context: Record<string, Record<string, string>> = {
    infrequentAccessAfterDays: { glacierAfterDays: 'none' },
    glacierAfterDays: { infrequentAccessAfterDays: 'none' },
    vobizSecretKmsKeyArn: { vobizSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:v-AbCdEf' },
  };
  const arnOf = (service: string) => `arn:aws:${service}:eu-west-1:123456789012:thing`;
  const accept = (key: string, value: string) =>
    resolveStageSettings('prod', { ...context[key], [key]: value });
  const refuse = (key: string, value: string) =>
    expect(() => accept(key, value), `${key}=${value}`).toThrow(new RegExp(key));

  for (const [key, definition] of Object.entries(SETTINGS) as [string, SettingDefinition][]) {
    it(key, () => {
      const { kind } = definition;
      switch (kind.type) {
        case 'integer': {
          const valid = kind.values ?? [kind.min, kind.max];
          for (const n of valid) expect(definition.value(accept(key, String(n))), `${key}=${n}`).toBe(n);
          refuse(key, String(kind.min - 1));
          refuse(key, String(kind.max + 1));
          refuse(key, '1.5');
          if (kind.values) refuse(key, String(kind.values[1]! - 1));
          if (kind.none) expect(definition.value(accept(key, 'none'))).toBeUndefined();
          else refuse(key, 'none');
          break;
        }
        case 'enum':
          for (const value of kind.values) expect(definition.value(accept(key, value))).toBe(value);
          refuse(key, 'bogus');
          break;
        case 'boolean':
          expect(definition.value(accept(key, 'false'))).toBe(false);
          expect(definition.value(accept(key, 'true'))).toBe(true);
          refuse(key, 'maybe');
          break;
        case 'url':
          expect(definition.value(accept(key, 'https://example.com/x'))).toBe('https://example.com/x');
          refuse(key, 'ftp://example.com');
          break;
        case 'arn':
          expect(definition.value(accept(key, arnOf(kind.service)))).toBe(arnOf(kind.service));
          refuse(key, arnOf('iam'));
          break;
        case 'email':
          expect(definition.value(accept(key, 'ops@example.com'))).toBe('ops@example.com');
          refuse(key, 'ops');
          break;
        case 'text':
          refuse(key, '!');
          break;
      }
    });
  }
});
