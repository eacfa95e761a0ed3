import {
  AWS_ENV,
  ConfigError,
  envVars,
  integerVar,
  loadStorageConfig,
  optionalVar,
  RUNTIME_ENV,
  STORAGE_ENV,
  variablesOf,
  type StorageConfig,
} from '../shared/config.js';
import { MIN_KEY_BYTES } from './cursor.js';

export type CursorKeySource = { secretArn: string } | { key: string };

export interface LookupConfig extends StorageConfig {
  presignTtlSeconds: number;
  cursorKey: CursorKeySource;
}

/** 12 h: a presigned URL also dies with the role session that signed it, so longer would be a false promise. */
export const MAX_PRESIGN_TTL_SECONDS = 43_200;
/** A link must outlive the round trip to the browser or player that follows it. */
export const MIN_PRESIGN_TTL_SECONDS = 60;

export const LOOKUP_ENV = envVars({
  PRESIGN_TTL_SECONDS: integerVar({
    description:
      "audio link lifetime (a link also stops working when the function's role session that signed it expires)",
    fallback: 900,
    min: MIN_PRESIGN_TTL_SECONDS,
    max: MAX_PRESIGN_TTL_SECONDS,
  }),
  CURSOR_SECRET_ARN: optionalVar({
    description:
      '(AWS) Secrets Manager secret whose string is the HMAC key of page cursors (the stack creates it); exactly one of it and `CURSOR_SIGNING_KEY`',
    accepted: 'a secret ARN',
  }),
  CURSOR_SIGNING_KEY: optionalVar({
    description: '(local) the cursor key itself',
    accepted: `at least ${MIN_KEY_BYTES} bytes`,
  }),
});

/** Everything the lookup function reads. */
export const LOOKUP_VARIABLES = variablesOf(STORAGE_ENV, LOOKUP_ENV, AWS_ENV, RUNTIME_ENV);

/**
 * The lookup function's configuration, validated at cold start. The cursor signing key comes from the
 * Secrets Manager secret `CURSOR_SECRET_ARN` (its SecretString is the key) or, locally and in tests,
 * from `CURSOR_SIGNING_KEY`.
 */
export function loadLookupConfig(env: Record<string, string | undefined> = process.env): LookupConfig {
  const secretArn = LOOKUP_ENV.CURSOR_SECRET_ARN.read(env);
  const key = LOOKUP_ENV.CURSOR_SIGNING_KEY.read(env);
  if (secretArn && key) throw new ConfigError('Set only one of CURSOR_SECRET_ARN and CURSOR_SIGNING_KEY');
  if (!secretArn && !key)
    throw new ConfigError('Set CURSOR_SECRET_ARN (AWS) or CURSOR_SIGNING_KEY (local) to sign page cursors');
  if (key !== undefined) checkKey(key, 'CURSOR_SIGNING_KEY');
  return {
    ...loadStorageConfig(env),
    presignTtlSeconds: LOOKUP_ENV.PRESIGN_TTL_SECONDS.read(env),
    cursorKey: secretArn ? { secretArn } : { key: key! },
  };
}

export function checkKey(key: string, source: string): string {
  if (Buffer.byteLength(key, 'utf8') < MIN_KEY_BYTES)
    throw new ConfigError(`${source}: the cursor signing key must be at least ${MIN_KEY_BYTES} bytes`);
  return key;
}
