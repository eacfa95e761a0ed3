import { describe, expect, it } from 'vitest';
import { loadLookupConfig } from '../../functions/lookup/config.js';
import { ConfigError } from '../../functions/shared/config.js';

const base = { TABLE_NAME: 't', BUCKET_NAME: 'b' };
const KEY = 'k'.repeat(32);

describe('loadLookupConfig', () => {
  it('reads storage, the presign lifetime (default 900 s) and the cursor key source', () => {
    expect(loadLookupConfig({ ...base, CURSOR_SIGNING_KEY: KEY })).toEqual({
      tableName: 't',
      bucketName: 'b',
      presignTtlSeconds: 900,
      cursorKey: { key: KEY },
    });
    expect(
      loadLookupConfig({ ...base, CURSOR_SECRET_ARN: 'arn:secret', PRESIGN_TTL_SECONDS: '60' }),
    ).toMatchObject({
      presignTtlSeconds: 60,
      cursorKey: { secretArn: 'arn:secret' },
    });
  });

  it.each([
    [{ ...base }, /CURSOR_SECRET_ARN.*CURSOR_SIGNING_KEY/],
    [{ ...base, CURSOR_SECRET_ARN: 'arn', CURSOR_SIGNING_KEY: KEY }, /only one/],
    [{ ...base, CURSOR_SIGNING_KEY: 'short' }, /at least 32 bytes/],
    [{ ...base, CURSOR_SIGNING_KEY: KEY, PRESIGN_TTL_SECONDS: '0' }, /PRESIGN_TTL_SECONDS/],
    // The same range as the stage setting presignTtlSeconds.
    [{ ...base, CURSOR_SIGNING_KEY: KEY, PRESIGN_TTL_SECONDS: '59' }, /between 60 and 43200/],
    [{ ...base, CURSOR_SIGNING_KEY: KEY, PRESIGN_TTL_SECONDS: '43201' }, /PRESIGN_TTL_SECONDS/],
    [{ ...base, CURSOR_SIGNING_KEY: KEY, PRESIGN_TTL_SECONDS: 'soon' }, /PRESIGN_TTL_SECONDS/],
    [{ BUCKET_NAME: 'b', CURSOR_SIGNING_KEY: KEY }, /TABLE_NAME/],
  ])('fails fast on %o', (env, message) => {
    expect(() => loadLookupConfig(env)).toThrow(ConfigError);
    expect(() => loadLookupConfig(env)).toThrow(message);
  });
});
