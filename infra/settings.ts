import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DEFAULT_ARCHIVE_CONCURRENCY } from '../functions/shared/domain/archive-trigger.js';
import { MAX_PRESIGN_TTL_SECONDS, MIN_PRESIGN_TTL_SECONDS } from '../functions/lookup/config.js';

/**
 * Everything that differs between stages, in one typed object. `bin/app.ts` is the only place that
 * reads context; it hands a raw record to `resolveStageSettings`, which validates it and fails with a
 * message naming the setting.
 */
export interface StageSettings {
  readonly stageName: string;
  /** Throwaway stages (dev, CI previews) destroy their data on `cdk destroy`; all others retain it. */
  readonly throwaway: boolean;
  readonly logRetention: RetentionDays;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly lifecycle: LifecycleSettings;
  /** Comma list, passed to the archive worker and the re-drive as ALLOWED_MEDIA_ORIGINS. */
  readonly allowedMediaOrigins: string;
  readonly vobizApiBaseUrl: string;
  /** The public URL Vobiz calls, when a custom domain sits in front of the API. */
  readonly webhookPublicUrl?: string;
  /** Reserved concurrency of the webhook (default 25); undefined (setting `none`) reserves nothing. */
  readonly webhookReservedConcurrency?: number;
  /** The webhook route's own throttle, apart from the stage's (which the IAM routes use). */
  readonly webhookThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Recordings archived at once (the archive worker's reserved concurrency); default 10. */
  readonly archiveConcurrency: number;
  /** Existing secret `{auth_id, auth_token, parent_auth_token?}`; otherwise the stack creates one. */
  readonly vobizSecretArn?: string;
  /** KMS key of an existing Vobiz secret, when it is not the AWS-managed `aws/secretsmanager` key. */
  readonly vobizSecretKmsKeyArn?: string;
  /** `s3-managed` (SSE-S3, no key cost) or `kms` (one customer-managed key for bucket, table and secrets). */
  readonly encryption: 's3-managed' | 'kms';
  readonly presignTtlSeconds: number;
  /** `MAX_ATTEMPTS` for the archive worker and the re-drive; unset keeps their default (30, about 24 h). */
  readonly maxAttempts?: number;
  /** `BACKFILL_LOOKBACK_MINUTES` for the re-drive's sweep; unset keeps its default (120; 0 = off). */
  readonly backfillLookbackMinutes?: number;
  readonly apiThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly alarmEmail?: string;
  readonly alarmTopicArn?: string;
  readonly tracing: boolean;
  /** The recordings console (CloudFront + Cognito); undefined when switched off with `console=false`. */
  readonly console?: ConsoleSettings;
  /**
   * Days each copied audit entry stays locked (S3 Object Lock, compliance mode: nobody, root included,
   * can delete or overwrite it before then). Default 2555 (7 years); 1 on throwaway stages.
   */
  readonly auditRetentionDays: number;
}

export interface ConsoleSettings {
  /** `required` (default): every console user sets up an authenticator app; `optional`: each user decides. */
  readonly mfa: 'required' | 'optional';
  /** Cognito feature plan: `plus` (default; threat protection) or `essentials`. */
  readonly featurePlan: 'plus' | 'essentials';
  /**
   * Prefix of the managed login domain (`<prefix>.auth.<region>.amazoncognito.com`); default
   * `vobiz-archive-<stage>-<12 hex digits of the stack id>`; `account`: the earlier default
   * `vobiz-archive-<stage>-<account id>`, which a stack deployed with it must keep.
   */
  readonly domainPrefix?: string;
}

export interface LifecycleSettings {
  /** Move audio to S3 Standard-IA after N days (≥ 30); undefined (setting `none`) keeps it in Standard. */
  readonly infrequentAccessAfterDays?: number;
  /** Move audio to Glacier Instant Retrieval after N days (presigned links keep working). */
  readonly glacierAfterDays?: number;
  /**
   * Retention: the scheduled lifecycle deletes every version of the audio of recordings older than N days
   * (by `add_time`, not on legal hold) and marks them `expired`; undefined keeps audio forever.
   */
  readonly retentionDays?: number;
  /**
   * Delete each recording at Vobiz N days after it was archived and verified (0: at once); undefined:
   * only with retention, when it expires (retention implies it). Never longer than `retentionDays`.
   */
  readonly deleteFromVobizAfterDays?: number;
  /** Delete overwritten/deleted object versions after N days. */
  readonly noncurrentVersionExpireAfterDays: number;
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

const RETENTION_DAYS = new Map<number, RetentionDays>([
  [1, RetentionDays.ONE_DAY],
  [3, RetentionDays.THREE_DAYS],
  [5, RetentionDays.FIVE_DAYS],
  [7, RetentionDays.ONE_WEEK],
  [14, RetentionDays.TWO_WEEKS],
  [30, RetentionDays.ONE_MONTH],
  [60, RetentionDays.TWO_MONTHS],
  [90, RetentionDays.THREE_MONTHS],
  [120, RetentionDays.FOUR_MONTHS],
  [150, RetentionDays.FIVE_MONTHS],
  [180, RetentionDays.SIX_MONTHS],
  [365, RetentionDays.ONE_YEAR],
  [400, RetentionDays.THIRTEEN_MONTHS],
  [545, RetentionDays.EIGHTEEN_MONTHS],
  [731, RetentionDays.TWO_YEARS],
  [1827, RetentionDays.FIVE_YEARS],
  [3653, RetentionDays.TEN_YEARS],
]);

/** Seven years, a common record-keeping period for an audit trail. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 2555;

/** Stage names whose data may be destroyed with the stack. Every other stage retains its data. */
export const THROWAWAY_STAGES: readonly string[] = ['dev', 'test', 'ci'];

function defaults(stageName: string): StageSettings {
  const throwaway = THROWAWAY_STAGES.includes(stageName);
  return {
    stageName,
    throwaway,
    logRetention: throwaway ? RetentionDays.ONE_WEEK : RetentionDays.THREE_MONTHS,
    logLevel: 'INFO',
    lifecycle: throwaway
      ? { retentionDays: 30, noncurrentVersionExpireAfterDays: 1 }
      : { infrequentAccessAfterDays: 30, glacierAfterDays: 90, noncurrentVersionExpireAfterDays: 30 },
    allowedMediaOrigins: 'https://*.vobiz.ai',
    vobizApiBaseUrl: 'https://api.vobiz.ai',
    encryption: 's3-managed',
    presignTtlSeconds: 900,
    apiThrottle: { rateLimit: 50, burstLimit: 100 },
    webhookThrottle: { rateLimit: 100, burstLimit: 200 },
    webhookReservedConcurrency: 25,
    archiveConcurrency: DEFAULT_ARCHIVE_CONCURRENCY,
    tracing: true,
    auditRetentionDays: throwaway ? 1 : DEFAULT_AUDIT_RETENTION_DAYS,
  };
}

export type RawSettings = Record<string, unknown>;

/** The context keys `resolveStageSettings` understands (`cdk deploy -c key=value` or cdk.json). */
export const SETTING_KEYS = [
  'logRetentionDays',
  'logLevel',
  'infrequentAccessAfterDays',
  'glacierAfterDays',
  'retentionDays',
  'deleteFromVobizAfterDays',
  'noncurrentVersionExpireAfterDays',
  'allowedMediaOrigins',
  'vobizApiBaseUrl',
  'webhookPublicUrl',
  'webhookReservedConcurrency',
  'webhookRateLimit',
  'webhookBurstLimit',
  'archiveConcurrency',
  'vobizSecretArn',
  'vobizSecretKmsKeyArn',
  'encryption',
  'presignTtlSeconds',
  'maxAttempts',
  'backfillLookbackMinutes',
  'apiRateLimit',
  'apiBurstLimit',
  'alarmEmail',
  'alarmTopicArn',
  'tracing',
  'throwaway',
  'console',
  'consoleMfa',
  'consoleFeaturePlan',
  'consoleDomainPrefix',
  'auditRetentionDays',
] as const;

export function resolveStageSettings(stageName: string, raw: RawSettings = {}): StageSettings {
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(stageName)) {
    throw new SettingsError(
      `stage must be lowercase letters, digits and dashes (max 20), got "${stageName}"`,
    );
  }
  for (const [old, replacement] of Object.entries(REPLACED_SETTINGS)) {
    if (raw[old] !== undefined) throw new SettingsError(`${old} was replaced: ${replacement}`);
  }
  const unknown = Object.keys(raw).filter((key) => !(SETTING_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new SettingsError(`unknown setting(s): ${unknown.join(', ')}`);

  const base = defaults(stageName);
  const throwaway = bool(raw, 'throwaway') ?? base.throwaway;
  const lifecycleDefaults =
    throwaway === base.throwaway ? base.lifecycle : defaults(throwaway ? 'dev' : 'prod').lifecycle;
  const lifecycle: LifecycleSettings = {
    infrequentAccessAfterDays: days(
      raw,
      'infrequentAccessAfterDays',
      30,
      lifecycleDefaults.infrequentAccessAfterDays,
    ),
    glacierAfterDays: days(raw, 'glacierAfterDays', 1, lifecycleDefaults.glacierAfterDays),
    retentionDays: days(raw, 'retentionDays', 1, lifecycleDefaults.retentionDays),
    deleteFromVobizAfterDays:
      present(raw, 'deleteFromVobizAfterDays') === 'none'
        ? undefined
        : int(raw, 'deleteFromVobizAfterDays', 0, 3650),
    noncurrentVersionExpireAfterDays:
      int(raw, 'noncurrentVersionExpireAfterDays', 1, 36_500) ??
      lifecycleDefaults.noncurrentVersionExpireAfterDays,
  };
  checkLifecycleOrder(lifecycle);

  const retentionDays = int(raw, 'logRetentionDays', 1, 3653);
  let logRetention = base.logRetention;
  if (retentionDays !== undefined) {
    const retention = RETENTION_DAYS.get(retentionDays);
    if (!retention) {
      throw new SettingsError(
        `logRetentionDays must be one of ${[...RETENTION_DAYS.keys()].join(', ')}, got ${retentionDays}`,
      );
    }
    logRetention = retention;
  }

  const settings: StageSettings = {
    stageName,
    throwaway,
    logRetention,
    logLevel: oneOf(raw, 'logLevel', ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const) ?? base.logLevel,
    lifecycle,
    allowedMediaOrigins: str(raw, 'allowedMediaOrigins') ?? base.allowedMediaOrigins,
    vobizApiBaseUrl: url(raw, 'vobizApiBaseUrl') ?? base.vobizApiBaseUrl,
    webhookPublicUrl: url(raw, 'webhookPublicUrl'),
    webhookReservedConcurrency:
      present(raw, 'webhookReservedConcurrency') === 'none'
        ? undefined
        : (int(raw, 'webhookReservedConcurrency', 1, 1000) ?? base.webhookReservedConcurrency),
    webhookThrottle: {
      rateLimit: int(raw, 'webhookRateLimit', 1, 10_000) ?? base.webhookThrottle.rateLimit,
      burstLimit: int(raw, 'webhookBurstLimit', 1, 5_000) ?? base.webhookThrottle.burstLimit,
    },
    archiveConcurrency: int(raw, 'archiveConcurrency', 1, 1000) ?? base.archiveConcurrency,
    vobizSecretArn: arn(raw, 'vobizSecretArn', 'secretsmanager'),
    vobizSecretKmsKeyArn: arn(raw, 'vobizSecretKmsKeyArn', 'kms'),
    encryption: oneOf(raw, 'encryption', ['s3-managed', 'kms'] as const) ?? base.encryption,
    presignTtlSeconds:
      int(raw, 'presignTtlSeconds', MIN_PRESIGN_TTL_SECONDS, MAX_PRESIGN_TTL_SECONDS) ??
      base.presignTtlSeconds,
    maxAttempts: int(raw, 'maxAttempts', 1, 1000),
    backfillLookbackMinutes: int(raw, 'backfillLookbackMinutes', 0, 7 * 24 * 60),
    apiThrottle: {
      rateLimit: int(raw, 'apiRateLimit', 1, 10_000) ?? base.apiThrottle.rateLimit,
      burstLimit: int(raw, 'apiBurstLimit', 1, 5_000) ?? base.apiThrottle.burstLimit,
    },
    alarmEmail: email(raw, 'alarmEmail'),
    alarmTopicArn: arn(raw, 'alarmTopicArn', 'sns'),
    tracing: bool(raw, 'tracing') ?? base.tracing,
    console: consoleSettings(raw),
    // S3 Object Lock takes 1 day to 100 years.
    auditRetentionDays:
      int(raw, 'auditRetentionDays', 1, 36_500) ?? (throwaway ? 1 : DEFAULT_AUDIT_RETENTION_DAYS),
  };
  if (settings.vobizSecretKmsKeyArn && !settings.vobizSecretArn) {
    throw new SettingsError('vobizSecretKmsKeyArn only makes sense together with vobizSecretArn');
  }
  for (const origin of settings.allowedMediaOrigins.split(',')) {
    if (!/^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?\/?$/i.test(origin.trim())) {
      throw new SettingsError(
        `allowedMediaOrigins entry "${origin.trim()}" is not an origin like https://*.vobiz.ai`,
      );
    }
  }
  return settings;
}

function consoleSettings(raw: RawSettings): ConsoleSettings | undefined {
  const options = ['consoleMfa', 'consoleFeaturePlan', 'consoleDomainPrefix'].filter(
    (key) => present(raw, key) !== undefined,
  );
  if (bool(raw, 'console') === false) {
    if (options.length > 0) throw new SettingsError(`${options.join(', ')} need the console (console=false)`);
    return undefined;
  }
  const domainPrefix = str(raw, 'consoleDomainPrefix');
  if (
    domainPrefix !== undefined &&
    (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(domainPrefix) || /aws|amazon|cognito/.test(domainPrefix))
  ) {
    throw new SettingsError(
      `consoleDomainPrefix must be lowercase letters, digits and dashes (max 63) without "aws", "amazon" or "cognito", got "${domainPrefix}"`,
    );
  }
  return {
    mfa: oneOf(raw, 'consoleMfa', ['required', 'optional'] as const) ?? 'required',
    featurePlan: oneOf(raw, 'consoleFeaturePlan', ['plus', 'essentials'] as const) ?? 'plus',
    ...(domainPrefix === undefined ? {} : { domainPrefix }),
  };
}

/** Settings that no longer exist, and what replaced them (a deploy with the old name must not pass silently). */
export const REPLACED_SETTINGS: Record<string, string> = {
  expireAfterDays:
    'use retentionDays (the application deletes the audio and marks the records expired, instead of an S3 rule that left records pointing at deleted audio)',
};

function checkLifecycleOrder(lifecycle: LifecycleSettings): void {
  const { infrequentAccessAfterDays: ia, glacierAfterDays: glacier } = lifecycle;
  const { deleteFromVobizAfterDays: vobiz, retentionDays: retention } = lifecycle;
  // Retention removes the audio here: Vobiz's copy must not outlive it.
  if (vobiz !== undefined && retention !== undefined && vobiz > retention) {
    throw new SettingsError(
      `deleteFromVobizAfterDays (${vobiz}) must not be longer than retentionDays (${retention}): a recording would stay at Vobiz after retention removed it here`,
    );
  }
  // S3 requires each transition to come later than the previous one.
  if (ia !== undefined && glacier !== undefined && glacier < ia + 30) {
    throw new SettingsError(
      `glacierAfterDays (${glacier}) must be at least 30 days after infrequentAccessAfterDays (${ia})`,
    );
  }
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function present(raw: RawSettings, key: string): unknown {
  const value = raw[key];
  return value === undefined || value === null || value === '' ? undefined : value;
}

function str(raw: RawSettings, key: string): string | undefined {
  const value = present(raw, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new SettingsError(`${key} must be a string`);
  return value.trim();
}

function int(raw: RawSettings, key: string, min: number, max: number): number | undefined {
  const value = present(raw, key);
  if (value === undefined) return undefined;
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new SettingsError(`${key} must be an integer between ${min} and ${max}, got "${show(value)}"`);
  }
  return number;
}

/** A lifecycle step: a number of days, `none` to switch the step off, or absent for the stage default. */
function days(raw: RawSettings, key: string, min: number, fallback: number | undefined): number | undefined {
  if (present(raw, key) === 'none') return undefined;
  return int(raw, key, min, 36_500) ?? fallback;
}

function bool(raw: RawSettings, key: string): boolean | undefined {
  const value = present(raw, key);
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new SettingsError(`${key} must be true or false, got "${show(value)}"`);
}

function oneOf<T extends string>(raw: RawSettings, key: string, allowed: readonly T[]): T | undefined {
  const value = str(raw, key);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new SettingsError(`${key} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

function url(raw: RawSettings, key: string): string | undefined {
  const value = str(raw, key);
  if (value === undefined) return undefined;
  if (!/^https?:\/\/[^\s/]+/.test(value))
    throw new SettingsError(`${key} must be an http(s) URL, got "${value}"`);
  return value;
}

function arn(raw: RawSettings, key: string, service: string): string | undefined {
  const value = str(raw, key);
  if (value === undefined) return undefined;
  if (!new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:.+`).test(value)) {
    throw new SettingsError(`${key} must be an ARN of ${service}, got "${value}"`);
  }
  return value;
}

function email(raw: RawSettings, key: string): string | undefined {
  const value = str(raw, key);
  if (value === undefined) return undefined;
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
    throw new SettingsError(`${key} must be an e-mail address, got "${value}"`);
  return value;
}
