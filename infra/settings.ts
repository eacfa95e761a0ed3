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

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export const ENCRYPTIONS = ['s3-managed', 'kms'] as const;
export const CONSOLE_MFA = ['required', 'optional'] as const;
export const CONSOLE_FEATURE_PLANS = ['plus', 'essentials'] as const;

/** What a setting accepts; `resolveStageSettings` validates with it and the docs are generated from it. */
export type SettingKind =
  | { readonly type: 'boolean' }
  /** `values`: only these; `none`: the word `none` switches the feature off. */
  | {
      readonly type: 'integer';
      readonly min: number;
      readonly max: number;
      readonly values?: readonly number[];
      readonly none?: boolean;
    }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | { readonly type: 'url' }
  | { readonly type: 'arn'; readonly service: string }
  | { readonly type: 'email' }
  | { readonly type: 'text'; readonly accepted: string };

export interface SettingDefinition {
  /** One line: what it does (Markdown). */
  readonly description: string;
  readonly kind: SettingKind;
  /** A rule beyond the kind (Markdown), checked in `resolveStageSettings`. */
  readonly constraint?: string;
  /** The setting's resolved value, from which the docs show the default of a stage and of a throwaway one. */
  readonly value: (settings: StageSettings) => unknown;
  /** What leaving it unset means, when its resolved value is undefined (Markdown). */
  readonly unset?: string;
  /** The function environment variable it sets. */
  readonly variable?: string;
}

const DAYS = { type: 'integer', min: 1, max: 36_500 } as const;

/**
 * Every stage setting (`cdk deploy -c key=value` or cdk.json), in the order the docs list them: what it
 * means, what it accepts and where it goes. `npm run docs` writes docs/reference/settings.md from it.
 */
export const SETTINGS = {
  throwaway: {
    description:
      'destroy data with the stack, no deletion protection; also switches the lifecycle defaults below',
    kind: { type: 'boolean' },
    value: (s) => s.throwaway,
  },
  logRetentionDays: {
    description: 'retention of function and API access logs',
    kind: { type: 'integer', min: 1, max: 3653, values: [...RETENTION_DAYS.keys()] },
    value: (s) => s.logRetention,
  },
  logLevel: {
    description: 'function log level',
    kind: { type: 'enum', values: LOG_LEVELS },
    value: (s) => s.logLevel,
    variable: 'POWERTOOLS_LOG_LEVEL',
  },
  infrequentAccessAfterDays: {
    description: 'move audio to S3 Standard-IA after N days (an S3 lifecycle rule)',
    kind: { ...DAYS, min: 30, none: true },
    value: (s) => s.lifecycle.infrequentAccessAfterDays,
    unset: 'none',
  },
  glacierAfterDays: {
    description:
      'move audio to Glacier Instant Retrieval after N days (an S3 lifecycle rule; links keep working)',
    kind: { ...DAYS, none: true },
    constraint: 'at least `infrequentAccessAfterDays` + 30',
    value: (s) => s.lifecycle.glacierAfterDays,
    unset: 'none',
  },
  retentionDays: {
    description:
      'the lifecycle deletes every version of the audio of recordings older than N days (by `add_time`) and marks them `expired`, metadata kept; and deletes them at Vobiz too if they are still there ([lifecycle](../concepts/lifecycle.md#retention))',
    kind: { ...DAYS, none: true },
    value: (s) => s.lifecycle.retentionDays,
    unset: 'none',
    variable: 'RETENTION_DAYS',
  },
  deleteFromVobizAfterDays: {
    description:
      'delete each recording at Vobiz N days after it was archived, once its copy here is verified; `0` = as soon as verified. Unset, recordings are still deleted at Vobiz when retention expires them (retention implies it) ([lifecycle](../concepts/lifecycle.md#verified-delete-at-vobiz))',
    kind: { type: 'integer', min: 0, max: 3650, none: true },
    constraint: 'not more than `retentionDays`',
    value: (s) => s.lifecycle.deleteFromVobizAfterDays,
    unset: 'none (off)',
    variable: 'VOBIZ_DELETE_AFTER_DAYS',
  },
  noncurrentVersionExpireAfterDays: {
    description: 'delete overwritten object versions after N days (the bucket is versioned)',
    kind: DAYS,
    value: (s) => s.lifecycle.noncurrentVersionExpireAfterDays,
  },
  encryption: {
    description:
      '`kms`: one customer-managed key (rotated yearly, ~1 USD/month) for bucket, table and secrets',
    kind: { type: 'enum', values: ENCRYPTIONS },
    value: (s) => s.encryption,
  },
  vobizSecretArn: {
    description: 'use an existing secret `{auth_id, auth_token, parent_auth_token?}` instead of creating one',
    kind: { type: 'arn', service: 'secretsmanager' },
    value: (s) => s.vobizSecretArn,
    unset: 'the stack creates one',
    variable: 'VOBIZ_SECRET_ARN',
  },
  vobizSecretKmsKeyArn: {
    description: "the existing secret's KMS key, if not the default `aws/secretsmanager` key",
    kind: { type: 'arn', service: 'kms' },
    constraint: 'only with `vobizSecretArn`',
    value: (s) => s.vobizSecretKmsKeyArn,
  },
  allowedMediaOrigins: {
    description: 'where the archive worker and the re-drive may download audio from',
    kind: { type: 'text', accepted: 'comma list of origins like `https://*.vobiz.ai`' },
    value: (s) => s.allowedMediaOrigins,
    variable: 'ALLOWED_MEDIA_ORIGINS',
  },
  vobizApiBaseUrl: {
    description: 'the Vobiz API',
    kind: { type: 'url' },
    value: (s) => s.vobizApiBaseUrl,
    variable: 'VOBIZ_API_BASE_URL',
  },
  webhookPublicUrl: {
    description:
      'the public webhook URL when a custom domain fronts the API (signatures cover the URL); also the `WebhookUrl` output',
    kind: { type: 'url' },
    value: (s) => s.webhookPublicUrl,
    unset: "the API's own URL",
    variable: 'WEBHOOK_PUBLIC_URL',
  },
  webhookReservedConcurrency: {
    description:
      'reserve (and cap) webhook concurrency, so a flood of junk at the public route cannot take every Lambda of the account',
    kind: { type: 'integer', min: 1, max: 1000, none: true },
    value: (s) => s.webhookReservedConcurrency,
    unset: 'none',
  },
  webhookRateLimit: {
    description: "the webhook route's own throttle: requests per second, apart from the IAM routes'",
    kind: { type: 'integer', min: 1, max: 10_000 },
    value: (s) => s.webhookThrottle.rateLimit,
  },
  webhookBurstLimit: {
    description: "the webhook route's own throttle: burst",
    kind: { type: 'integer', min: 1, max: 5_000 },
    value: (s) => s.webhookThrottle.burstLimit,
  },
  apiRateLimit: {
    description: 'throttling of the IAM-signed routes (the stage default): requests per second',
    kind: { type: 'integer', min: 1, max: 10_000 },
    value: (s) => s.apiThrottle.rateLimit,
  },
  apiBurstLimit: {
    description: 'throttling of the IAM-signed routes (the stage default): burst',
    kind: { type: 'integer', min: 1, max: 5_000 },
    value: (s) => s.apiThrottle.burstLimit,
  },
  archiveConcurrency: {
    description:
      "recordings archived at once (downloads at Vobiz): the archive worker's reserved concurrency, and its stream mapping's parallelization factor (at most 10 per stream shard)",
    kind: { type: 'integer', min: 1, max: 1000 },
    value: (s) => s.archiveConcurrency,
  },
  presignTtlSeconds: {
    description:
      "lifetime of audio links (a link also stops working when the function's role session that signed it expires)",
    kind: { type: 'integer', min: MIN_PRESIGN_TTL_SECONDS, max: MAX_PRESIGN_TTL_SECONDS },
    value: (s) => s.presignTtlSeconds,
    variable: 'PRESIGN_TTL_SECONDS',
  },
  maxAttempts: {
    description: 'attempts before a record is `failed` (archive worker and re-drive)',
    kind: { type: 'integer', min: 1, max: 1000 },
    value: (s) => s.maxAttempts,
    variable: 'MAX_ATTEMPTS',
  },
  backfillLookbackMinutes: {
    description: "how far back the re-drive's scheduled sweep lists Vobiz's recordings; `0` switches it off",
    kind: { type: 'integer', min: 0, max: 7 * 24 * 60 },
    value: (s) => s.backfillLookbackMinutes,
    variable: 'BACKFILL_LOOKBACK_MINUTES',
  },
  alarmEmail: {
    description: 'send alarms to this address (confirm the SNS e-mail)',
    kind: { type: 'email' },
    value: (s) => s.alarmEmail,
  },
  alarmTopicArn: {
    description: 'send alarms to an existing SNS topic',
    kind: { type: 'arn', service: 'sns' },
    value: (s) => s.alarmTopicArn,
  },
  tracing: {
    description:
      "X-Ray active tracing of the functions: Lambda's own segment per invocation (the code adds no subsegments of its own)",
    kind: { type: 'boolean' },
    value: (s) => s.tracing,
  },
  console: {
    description:
      'deploy the recordings console (CloudFront, Cognito); `false` leaves the API as the only way in (and refuses the `console*` settings below)',
    kind: { type: 'boolean' },
    value: (s) => s.console !== undefined,
  },
  consoleMfa: {
    description: '`required`: every console user sets up an authenticator app at first sign-in',
    kind: { type: 'enum', values: CONSOLE_MFA },
    value: (s) => s.console?.mfa,
  },
  consoleFeaturePlan: {
    description:
      'Cognito plan: `plus` (threat protection: compromised passwords, risky sign-ins) or `essentials`',
    kind: { type: 'enum', values: CONSOLE_FEATURE_PLANS },
    value: (s) => s.console?.featurePlan,
  },
  consoleDomainPrefix: {
    description:
      'managed login address `https://<prefix>.auth.<region>.amazoncognito.com`; a stack deployed with the earlier default must keep it ([upgrading](../guides/upgrading.md#a-stack-with-the-console-deployed-before-the-login-domain-changed))',
    kind: {
      type: 'text',
      accepted:
        'lowercase letters, digits and dashes (at most 63), without `aws`, `amazon` or `cognito`; `account` for the earlier default `vobiz-archive-<stage>-<account id>`',
    },
    value: (s) => s.console?.domainPrefix,
    unset: '`vobiz-archive-<stage>-<12 hex digits of the stack id>`',
  },
  auditRetentionDays: {
    description:
      'days each copy of an audit entry stays locked in the audit bucket (S3 Object Lock, compliance mode: nobody can delete it before); applies to copies written from then on ([lifecycle](../concepts/lifecycle.md#the-immutable-copy))',
    // S3 Object Lock takes 1 day to 100 years.
    kind: DAYS,
    value: (s) => s.auditRetentionDays,
  },
} satisfies Record<string, SettingDefinition>;

export type SettingKey = keyof typeof SETTINGS;

/** The context keys `resolveStageSettings` understands (`cdk deploy -c key=value` or cdk.json). */
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

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
    infrequentAccessAfterDays: intOrNone(
      raw,
      'infrequentAccessAfterDays',
      lifecycleDefaults.infrequentAccessAfterDays,
    ),
    glacierAfterDays: intOrNone(raw, 'glacierAfterDays', lifecycleDefaults.glacierAfterDays),
    retentionDays: intOrNone(raw, 'retentionDays', lifecycleDefaults.retentionDays),
    deleteFromVobizAfterDays: intOrNone(
      raw,
      'deleteFromVobizAfterDays',
      lifecycleDefaults.deleteFromVobizAfterDays,
    ),
    noncurrentVersionExpireAfterDays:
      int(raw, 'noncurrentVersionExpireAfterDays') ?? lifecycleDefaults.noncurrentVersionExpireAfterDays,
  };
  checkLifecycleOrder(lifecycle);

  const retentionDays = int(raw, 'logRetentionDays');
  const logRetention = retentionDays === undefined ? base.logRetention : RETENTION_DAYS.get(retentionDays)!;

  const settings: StageSettings = {
    stageName,
    throwaway,
    logRetention,
    logLevel: oneOf(raw, 'logLevel', LOG_LEVELS) ?? base.logLevel,
    lifecycle,
    allowedMediaOrigins: str(raw, 'allowedMediaOrigins') ?? base.allowedMediaOrigins,
    vobizApiBaseUrl: url(raw, 'vobizApiBaseUrl') ?? base.vobizApiBaseUrl,
    webhookPublicUrl: url(raw, 'webhookPublicUrl'),
    webhookReservedConcurrency: intOrNone(raw, 'webhookReservedConcurrency', base.webhookReservedConcurrency),
    webhookThrottle: {
      rateLimit: int(raw, 'webhookRateLimit') ?? base.webhookThrottle.rateLimit,
      burstLimit: int(raw, 'webhookBurstLimit') ?? base.webhookThrottle.burstLimit,
    },
    archiveConcurrency: int(raw, 'archiveConcurrency') ?? base.archiveConcurrency,
    vobizSecretArn: arn(raw, 'vobizSecretArn'),
    vobizSecretKmsKeyArn: arn(raw, 'vobizSecretKmsKeyArn'),
    encryption: oneOf(raw, 'encryption', ENCRYPTIONS) ?? base.encryption,
    presignTtlSeconds: int(raw, 'presignTtlSeconds') ?? base.presignTtlSeconds,
    maxAttempts: int(raw, 'maxAttempts'),
    backfillLookbackMinutes: int(raw, 'backfillLookbackMinutes'),
    apiThrottle: {
      rateLimit: int(raw, 'apiRateLimit') ?? base.apiThrottle.rateLimit,
      burstLimit: int(raw, 'apiBurstLimit') ?? base.apiThrottle.burstLimit,
    },
    alarmEmail: email(raw, 'alarmEmail'),
    alarmTopicArn: arn(raw, 'alarmTopicArn'),
    tracing: bool(raw, 'tracing') ?? base.tracing,
    console: consoleSettings(raw),
    // S3 Object Lock takes 1 day to 100 years.
    auditRetentionDays: int(raw, 'auditRetentionDays') ?? (throwaway ? 1 : DEFAULT_AUDIT_RETENTION_DAYS),
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
    mfa: oneOf(raw, 'consoleMfa', CONSOLE_MFA) ?? 'required',
    featurePlan: oneOf(raw, 'consoleFeaturePlan', CONSOLE_FEATURE_PLANS) ?? 'plus',
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

function int(raw: RawSettings, key: SettingKey): number | undefined {
  const value = present(raw, key);
  if (value === undefined) return undefined;
  const kind = SETTINGS[key].kind;
  if (kind.type !== 'integer') throw new Error(`${key} is not an integer setting`);
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(number) || number < kind.min || number > kind.max) {
    throw new SettingsError(
      `${key} must be an integer between ${kind.min} and ${kind.max}, got "${show(value)}"`,
    );
  }
  if ('values' in kind && !kind.values.includes(number)) {
    throw new SettingsError(`${key} must be one of ${kind.values.join(', ')}, got ${number}`);
  }
  return number;
}

/** A number, `none` to switch the feature off, or absent for the stage default. */
function intOrNone(raw: RawSettings, key: SettingKey, fallback: number | undefined): number | undefined {
  if (present(raw, key) === 'none') return undefined;
  return int(raw, key) ?? fallback;
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

function arn(raw: RawSettings, key: SettingKey): string | undefined {
  const value = str(raw, key);
  if (value === undefined) return undefined;
  const kind = SETTINGS[key].kind;
  if (kind.type !== 'arn') throw new Error(`${key} is not an ARN setting`);
  if (!new RegExp(`^arn:aws[a-z-]*:${kind.service}:[a-z0-9-]+:\\d{12}:.+`).test(value)) {
    throw new SettingsError(`${key} must be an ARN of ${kind.service}, got "${value}"`);
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
