import { describe, expect, it } from 'vitest';
import { parseRecordingCallback } from '../../functions/webhook/callback.js';
import { ConfigError, isAllowedOrigin, parseOriginPatterns } from '../../functions/shared/config.js';
import {
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../functions/shared/domain/errors.js';
import { retryDelayMs, DEFAULT_RETRY_POLICY } from '../../functions/shared/domain/retry-policy.js';
import {
  maskPhoneNumber,
  normalizePhoneNumber,
  renderRecording,
  timeSortKey,
  type RecordingRecord,
} from '../../functions/shared/domain/recording.js';

const post = (contentType: string | undefined, body: string) =>
  parseRecordingCallback({ method: 'POST', contentType, body: Buffer.from(body), rawQueryString: '' });

describe('callback parsing', () => {
  it('reads RecordingID from form, JSON (either spelling) and GET query strings', () => {
    expect(
      post('application/x-www-form-urlencoded; charset=utf-8', 'RecordingID=abc-1&CallUUID=c&From=%2B91800')
        .recordingId,
    ).toBe('abc-1');
    expect(post('application/json', '{"recording_id":"abc_2"}').recordingId).toBe('abc_2');
    expect(post('application/x-www-form-urlencoded', 'RecordingID=a1&CallUUID=6e558798-499c').callUuid).toBe(
      '6e558798-499c',
    );
    expect(
      post('application/x-www-form-urlencoded', `RecordingID=a1&CallUUID=${'x'.repeat(65)}`).callUuid,
    ).toBeUndefined();
    expect(
      post('application/x-www-form-urlencoded', 'RecordingID=a1&CallUUID=a%0Ab').callUuid,
    ).toBeUndefined();
    expect(
      parseRecordingCallback({
        method: 'GET',
        contentType: undefined,
        body: Buffer.alloc(0),
        rawQueryString: 'RecordingID=abc3',
      }).recordingId,
    ).toBe('abc3');
  });

  it('rejects bad ids, conflicting duplicates, bad JSON, bad UTF-8, other content types and big bodies', () => {
    expect(() => post('application/x-www-form-urlencoded', 'RecordingID=..%2Fx')).toThrow(ValidationError);
    expect(() => post('application/x-www-form-urlencoded', 'RecordingID=a&recording_id=b')).toThrow(
      /more than once/,
    );
    expect(() => post('application/json', '{')).toThrow(ValidationError);
    expect(() => post('application/json', '"abc"')).toThrow(ValidationError);
    expect(() => post('application/json', '{"RecordingID": 12}')).not.toThrow();
    expect(() =>
      parseRecordingCallback({
        method: 'POST',
        contentType: 'application/json',
        body: Buffer.from([0x7b, 0xff, 0x7d]),
        rawQueryString: '',
      }),
    ).toThrow(/UTF-8/);
    expect(() => post(undefined, 'RecordingID=a')).toThrow(UnsupportedMediaTypeError);
    expect(() => post('multipart/form-data', 'RecordingID=a')).toThrow(UnsupportedMediaTypeError);
    expect(() => post('application/json', 'x'.repeat(64 * 1024 + 1))).toThrow(PayloadTooLargeError);
  });
});

describe('allowed media origins', () => {
  it('parses wildcard and exact origins and rejects malformed entries with the variable name', () => {
    const patterns = parseOriginPatterns(' https://*.vobiz.ai , http://127.0.0.1:4010 ');
    expect(isAllowedOrigin('https://media.vobiz.ai/x', patterns)).toBe(true);
    expect(isAllowedOrigin('https://a.b.vobiz.ai/x', patterns)).toBe(true);
    expect(isAllowedOrigin('https://vobiz.ai/x', patterns)).toBe(false);
    expect(isAllowedOrigin('https://media.vobiz.ai:8443/x', patterns)).toBe(false);
    expect(isAllowedOrigin('https://media.vobiz.ai:443/x', patterns)).toBe(true);
    expect(isAllowedOrigin('http://127.0.0.1:4010/x', patterns)).toBe(true);
    expect(() => parseOriginPatterns('ftp://x')).toThrow(ConfigError);
    expect(() => parseOriginPatterns('https://vobiz.ai/path')).toThrow(/ALLOWED_MEDIA_ORIGINS/);
    expect(() => parseOriginPatterns(' , ')).toThrow(ConfigError);
  });
});

describe('retry policy', () => {
  it('grows exponentially with bounded jitter, is capped, and spreads the default attempts over about a day', () => {
    const mid = () => 0.5;
    expect(retryDelayMs(1, DEFAULT_RETRY_POLICY, mid)).toBe(30_000);
    expect(retryDelayMs(2, DEFAULT_RETRY_POLICY, mid)).toBe(60_000);
    expect(retryDelayMs(20, DEFAULT_RETRY_POLICY, mid)).toBe(3_600_000);
    expect(retryDelayMs(1, DEFAULT_RETRY_POLICY, () => 0)).toBe(22_500);
    expect(retryDelayMs(1, DEFAULT_RETRY_POLICY, () => 1)).toBe(37_500);
    let total = 0;
    for (let attempt = 1; attempt < DEFAULT_RETRY_POLICY.maxAttempts; attempt++)
      total += retryDelayMs(attempt, DEFAULT_RETRY_POLICY, mid);
    expect(total / 3_600_000).toBeGreaterThan(20);
    expect(total / 3_600_000).toBeLessThan(28);
  });
});

describe('record helpers', () => {
  it('normalises and masks phone numbers', () => {
    expect(normalizePhoneNumber('+91 80713-87423')).toBe('918071387423');
    expect(maskPhoneNumber('+918071387423')).toBe('+91******7423');
    expect(maskPhoneNumber('919624705678')).toBe('91******5678');
    expect(maskPhoneNumber('123')).toBe('***');
    expect(maskPhoneNumber(undefined)).toBeUndefined();
  });

  it('orders time sort keys like the numbers they encode', () => {
    const keys = [timeSortKey(9, 'b'), timeSortKey(10, 'a'), timeSortKey(1_762_436_950_253, 'c')];
    expect([...keys].sort()).toEqual(keys);
  });
});

describe('renderRecording', () => {
  it('hides lease bookkeeping, drops undefined fields and puts identity and state first', () => {
    const rendered = renderRecording({
      updated_at: '2026-01-01T00:00:01.000Z',
      lease_owner: 'worker-1',
      lease_until_ms: 5,
      zeta_extra: 1,
      status: 'stored',
      recording_id: 'rec-1',
      account_id: 'MA_1',
      attempts: 1,
      received_at: '2026-01-01T00:00:00.000Z',
      last_error: undefined,
      recording_url: 'https://media.vobiz.ai/rec-1.mp3',
    } as RecordingRecord);
    expect(Object.keys(rendered)).toEqual([
      'recording_id',
      'status',
      'account_id',
      'attempts',
      'received_at',
      'updated_at',
      'recording_url',
      'zeta_extra',
    ]);
  });
});
