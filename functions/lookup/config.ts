import { ConfigError, integer, loadStorageConfig, optional, type StorageConfig } from '../shared/config.js';
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

/**
 * The lookup function's configuration, validated at cold start. The cursor signing key comes from the
 * Secrets Manager secret `CURSOR_SECRET_ARN` (its SecretString is the key) or, locally and in tests,
 * from `CURSOR_SIGNING_KEY`.
 */
export function loadLookupConfig(env: Record<string, string | undefined> = process.env): LookupConfig {
  const secretArn = optional(env, 'CURSOR_SECRET_ARN');
  const key = optional(env, 'CURSOR_SIGNING_KEY');
  if (secretArn && key) throw new ConfigError('Set only one of CURSOR_SECRET_ARN and CURSOR_SIGNING_KEY');
  if (!secretArn && !key)
    throw new ConfigError('Set CURSOR_SECRET_ARN (AWS) or CURSOR_SIGNING_KEY (local) to sign page cursors');
  if (key !== undefined) checkKey(key, 'CURSOR_SIGNING_KEY');
  return {
    ...loadStorageConfig(env),
    presignTtlSeconds: integer(
      env,
      'PRESIGN_TTL_SECONDS',
      900,
      MIN_PRESIGN_TTL_SECONDS,
      MAX_PRESIGN_TTL_SECONDS,
    ),
    cursorKey: secretArn ? { secretArn } : { key: key! },
  };
}

export function checkKey(key: string, source: string): string {
  if (Buffer.byteLength(key, 'utf8') < MIN_KEY_BYTES)
    throw new ConfigError(`${source}: the cursor signing key must be at least ${MIN_KEY_BYTES} bytes`);
  return key;
}
