import { describe, expect, it } from 'vitest';
import { parseVobizRecording, parseVobizTimestamp } from '../../functions/shared/domain/vobiz-schema.js';

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
      },
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

  it('rejects bodies that would be unsafe or meaningless to store, naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...documented, recording_id: '../etc' }, 'recording_id'],
      [{ ...documented, recording_format: 'ogg' }, 'recording_format'],
      [{ ...documented, recording_duration_ms: 'ten' }, 'recording_duration_ms'],
      [{ ...documented, add_time: 'soon' }, 'add_time'],
      [{ ...documented, recording_url: undefined }, 'recording_url'],
      [{ objects: [documented] }, 'recording_id'],
    ];
    for (const [body, field] of cases) {
      const parsed = parseVobizRecording(body);
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.error).toContain(field);
    }
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
