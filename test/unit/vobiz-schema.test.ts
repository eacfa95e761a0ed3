import { describe, expect, it } from 'vitest';
import {
  audioObjectKey,
  contentTypeOf,
  type VobizRecording,
} from '../../functions/shared/domain/recording.js';
import {
  parseVobizRecording,
  parseVobizTimestamp,
  unparsedFieldNames,
} from '../../functions/shared/domain/vobiz-schema.js';

/** The documented 200 example, verbatim. */
const documented = {
  add_time: '2025-11-06 13:49:10.751756+00:00',
  api_id: '668470b7-7a8f-49b6-9011-50075754a50a',
  call_uuid: '6e558798-499c-4a68-bc77-46f2c53d1f69',
  conference_name: null,
  from_number: '+918071387423',
  monthly_recording_storage_amount: 0,
  recording_duration_ms: '10080.00000',
  recording_end_ms: '1762436949502.00000',
  recording_format: 'mp3',
  recording_id: 'd7801b2e-e76d-4dd8-be9c-9e015a7267b8',
  recording_start_ms: '1762436939422.00000',
  recording_storage_duration: 1,
  recording_storage_rate: 0.005,
  recording_type: 'call',
  recording_url:
    'https://media.vobiz.ai/api/v1/Account/MA_PU0XU668/Recording/d7801b2e-e76d-4dd8-be9c-9e015a7267b8.mp3',
  resource_uri: '/v1/Account/MA_PU0XU668/Recording/d7801b2e-e76d-4dd8-be9c-9e015a7267b8/',
  rounded_recording_duration: 60,
  to_number: '919624705678',
};

describe('Retrieve Recording response parsing', () => {
  it('types the documented example: decimals as numbers, add_time as ISO UTC and epoch ms', () => {
    const parsed = parseVobizRecording(documented);
    expect(parsed).toEqual({
      ok: true,
      value: {
        ...documented,
        add_time: '2025-11-06T13:49:10.751Z',
        add_time_ms: Date.UTC(2025, 10, 6, 13, 49, 10, 751),
        recording_duration_ms: 10080,
        recording_end_ms: 1762436949502,
        recording_start_ms: 1762436939422,
        unparsed_fields: null,
      },
      unparsedFields: [],
    });
  });

  it('accepts the OpenAPI example: wav, trunk, null start/end, +05:30 offset', () => {
    const parsed = parseVobizRecording({
      ...documented,
      add_time: '2026-03-25 10:00:00.000000+05:30',
      recording_format: 'wav',
      recording_type: 'trunk',
      recording_start_ms: null,
      recording_end_ms: null,
    });
    expect(parsed.ok && parsed.value).toMatchObject({
      add_time: '2026-03-25T04:30:00.000Z',
      recording_format: 'wav',
      recording_start_ms: null,
      recording_end_ms: null,
    });
  });

  it.each([
    ['2025-11-06 13:49:10.751756+00:00', Date.UTC(2025, 10, 6, 13, 49, 10, 751)],
    ['2025-11-06 13:49:10+00:00', Date.UTC(2025, 10, 6, 13, 49, 10)],
    ['2025-11-06T13:49:10.5Z', Date.UTC(2025, 10, 6, 13, 49, 10, 500)],
    ['2025-11-06 19:19:10.000000+0530', Date.UTC(2025, 10, 6, 13, 49, 10)],
    ['2025-11-06 08:49:10.000000-05', Date.UTC(2025, 10, 6, 13, 49, 10)],
    ['2025-11-06 13:49:10', Date.UTC(2025, 10, 6, 13, 49, 10)],
  ])('parses the timestamp %s', (input, expected) => {
    expect(parseVobizTimestamp(input)).toBe(expected);
  });

  it.each(['yesterday', '2025-13-45 10:00:00', '', '2025-11-06'])('rejects the timestamp %j', (input) => {
    expect(parseVobizTimestamp(input)).toBeUndefined();
  });

  it('rejects only bodies the archive cannot work with: no id, no audio URL, no time, no file name', () => {
    const cases: [unknown, string][] = [
      [{ ...documented, recording_id: '../etc' }, 'recording_id'],
      [{ ...documented, recording_id: undefined }, 'recording_id'],
      [{ ...documented, recording_format: '../x' }, 'recording_format'],
      [{ ...documented, recording_format: 'mp3 ' + 'x'.repeat(20) }, 'recording_format'],
      [{ ...documented, recording_format: '' }, 'recording_format'],
      [{ ...documented, recording_format: null }, 'recording_format'],
      [{ ...documented, add_time: 'soon' }, 'add_time'],
      [{ ...documented, add_time: null }, 'add_time'],
      [{ ...documented, recording_url: undefined }, 'recording_url'],
      [{ ...documented, recording_url: '' }, 'recording_url'],
      [{ objects: [documented] }, 'recording_id'],
      ['text', '(root)'],
      [null, '(root)'],
    ];
    for (const [body, field] of cases) {
      const parsed = parseVobizRecording(body);
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.error).toContain(field);
    }
  });

  /** The five bodies that used to end a recording `failed` after a day of retries. */
  const informative: [string, Record<string, unknown>, Partial<VobizRecording>, string[]][] = [
    ['call_uuid: null', { call_uuid: null }, { call_uuid: null }, []],
    ['from_number: null', { from_number: null }, { from_number: null }, []],
    [
      'monthly_recording_storage_amount: null',
      { monthly_recording_storage_amount: null },
      { monthly_recording_storage_amount: null },
      [],
    ],
    [
      'a fractional recording_storage_duration',
      { recording_storage_duration: '1.50000' },
      { recording_storage_duration: 1.5 },
      [],
    ],
    [
      'a duration in exponent notation',
      { recording_duration_ms: '1.008E4' },
      { recording_duration_ms: 10080 },
      [],
    ],
  ];
  it.each(informative)('accepts %s, typed', (_name, change, expected, unparsed) => {
    const parsed = parseVobizRecording({ ...documented, ...change });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value).toMatchObject({ ...expected, unparsed_fields: null });
    expect(parsed.unparsedFields).toEqual(unparsed);
  });

  it('keeps an informative field that does not parse as null, with its raw value in unparsed_fields', () => {
    const parsed = parseVobizRecording({
      ...documented,
      recording_duration_ms: 'ten seconds',
      call_uuid: 42,
      to_number: '9'.repeat(40),
      conference_name: 'c'.repeat(1_025),
      monthly_recording_storage_amount: { amount: 1 },
      recording_storage_rate: '1e400',
      rounded_recording_duration: '',
      recording_type: ['call'],
      resource_uri: `/v1/${'x'.repeat(2_000)}`,
      from_number: true,
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value).toMatchObject({
      recording_id: documented.recording_id,
      recording_duration_ms: null,
      call_uuid: null,
      monthly_recording_storage_amount: null,
      recording_storage_rate: null,
      rounded_recording_duration: null,
      recording_type: null,
      resource_uri: null,
      from_number: null,
      to_number: null,
      conference_name: null,
      api_id: documented.api_id,
    });
    expect(parsed.value.unparsed_fields).toEqual({
      recording_duration_ms: 'ten seconds',
      call_uuid: '42',
      monthly_recording_storage_amount: '{"amount":1}',
      recording_storage_rate: '1e400',
      rounded_recording_duration: '',
      recording_type: '["call"]',
      resource_uri: `/v1/${'x'.repeat(252)}`,
      from_number: 'true',
      to_number: '9'.repeat(40),
      conference_name: 'c'.repeat(256),
    });
    // Names only, for the log line: the values may be phone numbers.
    expect(parsed.unparsedFields).toEqual([
      'call_uuid',
      'conference_name',
      'from_number',
      'monthly_recording_storage_amount',
      'recording_duration_ms',
      'recording_storage_rate',
      'recording_type',
      'resource_uri',
      'rounded_recording_duration',
      'to_number',
    ]);
    expect(unparsedFieldNames(parsed.value)).toEqual(parsed.unparsedFields);
  });

  it('treats absent informative fields as null, without calling them unparsed', () => {
    const parsed = parseVobizRecording({
      recording_id: 'r-1',
      recording_url: 'https://media.vobiz.ai/r-1.mp3',
      add_time: '2025-11-06 13:49:10+00:00',
      recording_format: 'mp3',
    });
    expect(parsed).toMatchObject({
      ok: true,
      unparsedFields: [],
      value: { api_id: null, call_uuid: null, recording_duration_ms: null, unparsed_fields: null },
    });
  });

  it('reads decimals in every notation JSON and Vobiz use, and only numbers DynamoDB can store exactly', () => {
    const read = (value: unknown) => {
      const parsed = parseVobizRecording({ ...documented, recording_storage_rate: value });
      return parsed.ok ? parsed.value.recording_storage_rate : 'rejected';
    };
    expect(read('10080.00000')).toBe(10080);
    expect(read(' 7 ')).toBe(7);
    expect(read('1.008E4')).toBe(10080);
    expect(read('1.008e+4')).toBe(10080);
    expect(read('5E-3')).toBe(0.005);
    expect(read('.5')).toBe(0.5);
    expect(read('-2')).toBe(-2);
    expect(read(0.005)).toBe(0.005);
    expect(read('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of ['', 'NaN', 'Infinity', '0x10', '1,5', '1.2.3', '9007199254740993', 1e300, '1e-200'])
      expect(read(bad), String(bad)).toBeNull();
  });

  it('names the file by any safe format: unknown ones get their own extension and a generic content type', () => {
    const parsed = parseVobizRecording({ ...documented, recording_format: ' OGG ' });
    expect(parsed.ok && parsed.value.recording_format).toBe('ogg');
    expect(audioObjectKey('MA_1', 'r-1', Date.UTC(2025, 10, 6), 'ogg')).toBe(
      'recordings/MA_1/2025/11/06/r-1.ogg',
    );
    expect(contentTypeOf('mp3')).toBe('audio/mpeg');
    expect(contentTypeOf('wav')).toBe('audio/wav');
    expect(contentTypeOf('ogg')).toBe('application/octet-stream');
    expect(contentTypeOf('m4a')).toBe('application/octet-stream');
  });

  it('reads phone numbers sent as JSON numbers as their digits', () => {
    const parsed = parseVobizRecording({ ...documented, from_number: 918071387423 });
    expect(parsed.ok && parsed.value.from_number).toBe('918071387423');
  });

  it('accepts numbers where strings are documented and upper-case formats', () => {
    const parsed = parseVobizRecording({
      ...documented,
      recording_duration_ms: 500,
      recording_format: 'MP3',
    });
    expect(parsed.ok && parsed.value.recording_duration_ms).toBe(500);
    expect(parsed.ok && parsed.value.recording_format).toBe('mp3');
  });
});
