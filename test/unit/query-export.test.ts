import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQueryCommand } from '../../bin/lib/query-command.js';
import {
  AUDIT_EXPORT_COLUMNS,
  csvCell,
  csvHeader,
  csvRow,
  exportColumnsFor,
  RECORDING_EXPORT_COLUMNS,
} from '../../functions/shared/domain/export.js';
import { textOutput } from '../support/cli-output.js';

describe('export columns and cells (shared with the console)', () => {
  it('quotes what CSV needs quoted and neutralises formulas, but not phone numbers', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('+919876543210')).toBe('+919876543210');
    expect(csvCell('-12.5')).toBe('-12.5');
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('+1 (555) cmd')).toBe("'+1 (555) cmd");
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(1234)).toBe('1234');
    expect(csvCell({ arn: 'arn:aws:iam::1:user/a' })).toBe('"{""arn"":""arn:aws:iam::1:user/a""}"');
  });

  it('writes a header and rows in the documented column order, CRLF-terminated', () => {
    expect(csvHeader(['a', 'b'])).toBe('a,b\r\n');
    expect(csvRow({ b: 2, a: 1, extra: 'x' }, ['a', 'b'])).toBe('1,2\r\n');
    expect(RECORDING_EXPORT_COLUMNS[0]).toBe('recording_id');
    expect(exportColumnsFor('/audit?action=erase')).toBe(AUDIT_EXPORT_COLUMNS);
    expect(exportColumnsFor('/recordings?status=failed')).toBe(RECORDING_EXPORT_COLUMNS);
  });
});

describe('vobiz-archive query (in-process, the API faked)', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
  });
  afterAll(() => {
    process.env = saved;
  });

  const record = (id: string, extra: Record<string, unknown> = {}) => ({
    recording_id: id,
    status: 'stored',
    add_time: '2026-11-02T10:00:00.000Z',
    from_number: '+919800000001',
    to_number: '+919800000002',
    recording_duration_ms: 61_000,
    size_bytes: 2_200_000,
    ...extra,
  });

  /** Three pages behind cursors c1, c2; every request recorded. */
  function api() {
    const requests: { url: URL; headers: Record<string, string> }[] = [];
    const pages: Record<string, unknown> = {
      '': { items: [record('r1', { legal_hold: true }), record('r2')], next_cursor: 'c1' },
      c1: { items: [record('r3', { from_number: '=cmd|calc' })], next_cursor: 'c2' },
      c2: { items: [record('r4')], next_cursor: null },
    };
    const fetchImpl = ((input: string, init?: RequestInit) => {
      const url = new URL(input);
      requests.push({ url, headers: init?.headers as Record<string, string> });
      if (url.pathname === '/recordings/missing')
        return Promise.resolve(
          Response.json(
            { error: { code: 'not_found', message: 'recording missing is not in the archive' } },
            { status: 404 },
          ),
        );
      if (url.pathname === '/recordings/r1/audio')
        return Promise.resolve(
          new Response(null, { status: 302, headers: { location: 'https://s3.example/r1.mp3?sig' } }),
        );
      if (url.pathname === '/recordings/r1') return Promise.resolve(Response.json(record('r1')));
      return Promise.resolve(Response.json(pages[url.searchParams.get('cursor') ?? '']));
    }) as typeof fetch;
    return { requests, fetchImpl };
  }

  async function query(argv: string[], fetchImpl: typeof fetch) {
    const stdout = textOutput();
    const stderr = textOutput();
    const code = await runQueryCommand(
      [...argv, '--api-url', 'https://abc.execute-api.ap-south-1.amazonaws.com'],
      {},
      { stdout, stderr },
      fetchImpl,
    );
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it('shows a listing as a table for people, signed for execute-api in the URL’s region', async () => {
    const { fetchImpl, requests } = api();
    const result = await query(['/recordings'], fetchImpl);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').slice(0, 3)).toEqual([
      'recording_id  status  add_time              from           to             duration  size     hold',
      'r1            stored  2026-11-02 10:00:00Z  +919800000001  +919800000002  61 s      2.1 MiB  held',
      'r2            stored  2026-11-02 10:00:00Z  +919800000001  +919800000002  61 s      2.1 MiB',
    ]);
    expect(result.stdout).toContain('2 recordings\n');
    expect(result.stderr).toContain('more: add --all');
    expect(requests[0]!.headers.authorization).toMatch(
      /Credential=AKIDEXAMPLE\/\d{8}\/ap-south-1\/execute-api\//,
    );
  });

  it('--json prints the API document as it came', async () => {
    const { fetchImpl } = api();
    const result = await query(['/recordings', '--json'], fetchImpl);
    expect(JSON.parse(result.stdout)).toEqual({
      items: [record('r1', { legal_hold: true }), record('r2')],
      next_cursor: 'c1',
    });
  });

  it('--all --csv follows every cursor (largest pages) and streams the documented columns', async () => {
    const { fetchImpl, requests } = api();
    const result = await query(['/recordings?status=stored', '--all', '--csv'], fetchImpl);
    expect(result.code).toBe(0);
    expect(
      requests.map((r) => [
        r.url.searchParams.get('cursor'),
        r.url.searchParams.get('limit'),
        r.url.searchParams.get('status'),
      ]),
    ).toEqual([
      [null, '100', 'stored'],
      ['c1', '100', 'stored'],
      ['c2', '100', 'stored'],
    ]);
    const lines = result.stdout.split('\r\n');
    expect(lines[0]).toBe(RECORDING_EXPORT_COLUMNS.join(','));
    expect(lines.slice(1, -1).map((l) => l.split(',')[0])).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(lines[3]).toContain(",'=cmd|calc,");
    expect(result.stderr).toContain('3 pages');
  });

  it('--all --jsonl prints every field of every item, one per line', async () => {
    const { fetchImpl } = api();
    const result = await query(['/recordings', '--all', '--jsonl'], fetchImpl);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.recording_id)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(lines[0]).toEqual(record('r1', { legal_hold: true }));
  });

  it('shows one recording as rows, prints the audio link alone, and fails with the API’s message', async () => {
    const { fetchImpl } = api();
    const one = await query(['/recordings/r1'], fetchImpl);
    expect(one.stdout).toMatch(/^recording_id {11}r1\nstatus {17}stored\n/);
    const audio = await query(['/recordings/r1/audio'], fetchImpl);
    expect([audio.code, audio.stdout]).toEqual([0, 'https://s3.example/r1.mp3?sig\n']);
    const missing = await query(['/recordings/missing'], fetchImpl);
    expect([missing.code, missing.stderr]).toEqual([
      1,
      'query: HTTP 404: recording missing is not in the archive\n',
    ]);
  });

  it('refuses --csv on something that is not a listing', async () => {
    const { fetchImpl } = api();
    const result = await query(['/recordings/r1', '--csv'], fetchImpl);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not a listing');
  });
});
