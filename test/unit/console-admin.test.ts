import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { describeActionError, formatWait, REFERENCE_PATTERN } from '../../console/src/outcomes.js';
import { ApiError, createApi, type AuditEntry } from '../../console/src/api.js';
import { auditApiParams, auditPages, checkAuditQuery, entryDetail } from '../../console/src/audit-query.js';
import {
  AUDIT_COLUMNS,
  collectExport,
  csvCell,
  encodePage,
  exportFileName,
  RECORDING_COLUMNS,
} from '../../console/src/export.js';
import { describeActor } from '../../console/src/format.js';
import { CONSOLE_GROUP_ROUTES, effectiveGroup, groupAllows } from '../../console/src/groups.js';

const json = (body: unknown, init: ResponseInit = {}) =>
  Promise.resolve(new Response(JSON.stringify(body), init));

describe('console groups', () => {
  it('lets reviewers read and play, administrators also act and read the audit log', () => {
    for (const group of ['reviewers', 'admins'] as const) {
      expect(groupAllows(group, 'GET', '/recordings')).toBe(true);
      expect(groupAllows(group, 'GET', '/recordings/r1/audio')).toBe(true);
    }
    for (const [method, path] of [
      ['PUT', '/recordings/r1/legal-hold'],
      ['DELETE', '/recordings/r1/legal-hold'],
      ['DELETE', '/recordings/r1'],
      ['POST', '/recordings/r1/retry'],
      ['GET', '/audit'],
    ] as const) {
      expect(groupAllows('reviewers', method, path), `${method} ${path}`).toBe(false);
      expect(groupAllows('admins', method, path), `${method} ${path}`).toBe(true);
    }
    expect(groupAllows('admins', 'POST', '/recordings/r1')).toBe(false);
    expect(groupAllows('admins', 'GET', '/auditx')).toBe(false);
    expect(CONSOLE_GROUP_ROUTES.admins).toContainEqual(['POST', '/recordings/*/retry']);
  });

  it('takes the administrators’ role for a person in both groups, as the identity pool does', () => {
    expect(effectiveGroup(['reviewers', 'admins'])).toBe('admins');
    expect(effectiveGroup(['reviewers'])).toBe('reviewers');
    expect(effectiveGroup(['auditors'])).toBeUndefined();
  });
});

describe('console actions', () => {
  it('accepts ticket and request ids as references, nothing else', () => {
    for (const ok of ['DSR-2026-0142', 'JIRA:PRIV-17', 'case#17/a.b_c', 'x'.repeat(64)])
      expect(REFERENCE_PATTERN.test(ok), ok).toBe(true);
    for (const bad of ['', ' DSR-1', 'case 17', '-lead', 'x'.repeat(65), 'naïve', 'a;b'])
      expect(REFERENCE_PATTERN.test(bad), bad).toBe(false);
  });

  it('says each refusal in words a support lead understands, with the wait the API gives', () => {
    const held = describeActionError(
      'erase',
      new ApiError(409, 'legal_hold', 'recording r1 is on legal hold'),
    );
    expect(held.title).toBe('Not erased: the recording is on legal hold.');
    const busy = describeActionError('erase', new ApiError(409, 'archiving', 'being archived', 42));
    expect(busy.detail).toContain('Try again in 42 seconds');
    expect(formatWait(533)).toBe('about 9 minutes');
    const notFailed = describeActionError(
      'retry',
      new ApiError(
        409,
        'not_failed',
        'only a recording whose archiving failed (status failed) can be retried',
      ),
    );
    expect(notFailed).toEqual({
      title: 'Nothing to retry.',
      detail: 'Only a recording whose archiving failed (status failed) can be retried.',
    });
    expect(describeActionError('hold', new ApiError(403, 'forbidden', 'Forbidden')).detail).toBe(
      "Your account's group may not place the legal hold. Ask an administrator.",
    );
    for (const error of [held, busy, notFailed])
      expect(JSON.stringify(error)).not.toMatch(/npm run|HTTP 409/);
  });
});

describe('console API client: the administrators’ calls', () => {
  it('sends hold, release, erasure and retry as the API expects, always naming also_vobiz, all signed', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetchMock = vi.fn<typeof fetch>((input, init) => {
      calls.push({ url: input as string, init: init! });
      return json({ recording_id: 'r1', status: 'stored' });
    });
    const signed: { method: string; body?: string }[] = [];
    const api = createApi({
      baseUrl: 'https://api.example',
      fetch: fetchMock,
      sign: (request) => {
        signed.push({ method: request.method, body: request.body });
        return Promise.resolve({ ...request.headers, authorization: 'AWS4-HMAC-SHA256 …' });
      },
    });
    await api.placeHold('r 1', 'CASE-17');
    await api.releaseHold('r1', 'CASE-17-done');
    await api.erase('r1', { reason: 'DSR-1', alsoVobiz: true });
    await api.erase('r1', { reason: 'DSR-2', alsoVobiz: false });
    await api.retry('r1');
    await api.listAudit({ recording_id: 'r1', action: 'audio_link' });
    expect(calls.map((c) => [c.init.method, c.url])).toEqual([
      ['PUT', 'https://api.example/recordings/r%201/legal-hold'],
      ['DELETE', 'https://api.example/recordings/r1/legal-hold'],
      ['DELETE', 'https://api.example/recordings/r1?reason=DSR-1&also_vobiz=true'],
      ['DELETE', 'https://api.example/recordings/r1?reason=DSR-2&also_vobiz=false'],
      ['POST', 'https://api.example/recordings/r1/retry'],
      ['GET', 'https://api.example/audit?recording_id=r1&action=audio_link'],
    ]);
    expect(calls[0]!.init.body).toBe('{"reason":"CASE-17"}');
    expect(calls[0]!.init.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: expect.any(String),
    });
    // The signature covers the body it is sent with.
    expect(signed[0]).toEqual({ method: 'PUT', body: '{"reason":"CASE-17"}' });
    expect(signed[4]).toEqual({ method: 'POST', body: undefined });
  });

  it('keeps Retry-After with a conflict, and sends the local stack’s group header when given', async () => {
    const api = createApi({
      baseUrl: '',
      headers: { 'x-vra-local-group': 'reviewers' },
      fetch: (_input, init) => {
        expect(init!.headers).toMatchObject({ 'x-vra-local-group': 'reviewers' });
        return json(
          { error: { code: 'archiving', message: 'being archived' } },
          { status: 409, headers: { 'retry-after': '37' } },
        );
      },
    });
    const error = await api.erase('r1', { reason: 'DSR-1', alsoVobiz: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 409, code: 'archiving', retryAfterSeconds: 37 });
  });
});

describe('console audit log', () => {
  it('turns its filters into GET /audit parameters and explains what it cannot send', () => {
    expect(
      auditApiParams({
        action: 'audio_link',
        recording: 'r1',
        since: '2025-11-06T09:30',
        until: '2025-11-06',
      }),
    ).toEqual({
      action: 'audio_link',
      recording_id: 'r1',
      since: String(new Date(2025, 10, 6, 9, 30).getTime()),
      until: String(new Date(2025, 10, 7).getTime() - 1),
    });
    expect(checkAuditQuery({ action: 'rewrite', recording: '../x', since: '2025-13-01' })).toEqual([
      'Action: pick one from the list.',
      'Recording ID: letters, digits, "-" and "_" only.',
      'From: use a date like 2025-11-06, with an optional time like 09:30.',
    ]);
  });

  it('follows every cursor for an export, 100 entries a request', async () => {
    const pages = [
      { items: [{ audit_id: 'a' }], next_cursor: 'c1' },
      { items: [], next_cursor: 'c2' },
      { items: [{ audit_id: 'b' }], next_cursor: null },
    ];
    const asked: Record<string, string>[] = [];
    const api = createApi({
      baseUrl: '',
      fetch: (input) => {
        asked.push(Object.fromEntries(new URL(input as string, 'http://x').searchParams));
        return json(pages.shift());
      },
    });
    const got: string[] = [];
    for await (const page of auditPages(api, { action: 'erase' })) got.push(...page.map((e) => e.audit_id));
    expect(got).toEqual(['a', 'b']);
    expect(asked).toEqual([
      { action: 'erase', limit: '100' },
      { action: 'erase', limit: '100', cursor: 'c1' },
      { action: 'erase', limit: '100', cursor: 'c2' },
    ]);
  });

  it('says how an audio link was handed out, never the link', () => {
    const entry: AuditEntry = {
      audit_id: 'a',
      time: '2026-01-01T00:00:00.000Z',
      action: 'audio_link',
      recording_id: 'r1',
      actor: 'x',
      outcome: 'done',
      variant: 'json',
      download: true,
      link_expires_at: '2026-01-01T00:15:00.000Z',
    };
    expect(entryDetail(entry)).toMatch(/^download link via JSON \(the console, scripts\), valid until /);
    expect(entryDetail({ ...entry, download: false, variant: 'redirect' })).toMatch(
      /^link to play via redirect/,
    );
    expect(entryDetail({ ...entry, action: 'erase', detail: 'DSR-1; 1 audio version(s) deleted' })).toBe(
      'DSR-1; 1 audio version(s) deleted',
    );
  });

  it('names who acted: role and session of an ARN, the console user of an actor object, the local stack', () => {
    expect(
      describeActor('arn:aws:sts::123456789012:assumed-role/console-admins/CognitoIdentityCredentials').label,
    ).toBe('console-admins / CognitoIdentityCredentials');
    expect(describeActor('arn:aws:iam::123456789012:user/dpo').label).toBe('user dpo');
    expect(describeActor('unsigned request (local stack)').label).toBe('local stack (no sign-in)');
    expect(
      describeActor({
        arn: 'arn:aws:sts::1:assumed-role/admins/CognitoIdentityCredentials',
        user_sub: 'f00d-1',
      }).label,
    ).toBe('admins / CognitoIdentityCredentials · user f00d-1');
    expect(describeActor('system').label).toBe('system');
  });
});

describe('console export', () => {
  it('writes CSV cells as RFC 4180 does, and defuses formulas but keeps phone numbers', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"\nthere')).toBe('"say ""hi""\nthere"');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell(false)).toBe('false');
    expect(csvCell(61000)).toBe('61000');
    expect(csvCell('+919812340060')).toBe('+919812340060');
    expect(csvCell('-12.5')).toBe('-12.5');
    expect(csvCell('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvCell('+1+2')).toBe("'+1+2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell({ arn: 'arn:x', user_sub: 's' })).toBe('"{""arn"":""arn:x"",""user_sub"":""s""}"');
  });

  it('streams every page into one file: a header and a line per row (CSV), or each record whole (JSON Lines)', async () => {
    const pages = [
      [{ recording_id: 'r2', status: 'stored', to_number: '+91' }],
      [{ recording_id: 'r1', status: 'erased' }],
    ];
    async function* source() {
      for (const page of pages) yield await Promise.resolve(page);
    }
    const progress: [number, number][] = [];
    const controller = new AbortController();
    const csv = await collectExport({
      format: 'csv',
      columns: RECORDING_COLUMNS,
      pages: source,
      signal: controller.signal,
      onProgress: (rows, count) => progress.push([rows, count]),
    });
    const lines = (await csv.blob.text()).split('\r\n');
    expect(lines[0]).toBe(RECORDING_COLUMNS.map((c) => c.name).join(','));
    expect(lines.slice(1, 3).map((l) => l.split(',').slice(0, 2))).toEqual([
      ['r2', 'stored'],
      ['r1', 'erased'],
    ]);
    expect(lines[3]).toBe('');
    expect([csv.rows, progress]).toEqual([
      2,
      [
        [1, 1],
        [2, 2],
      ],
    ]);
    expect(csv.blob.type).toBe('text/csv;charset=utf-8');
    const jsonl = await collectExport({
      format: 'jsonl',
      columns: RECORDING_COLUMNS,
      pages: source,
      signal: controller.signal,
    });
    expect(
      (await jsonl.blob.text())
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual(pages.flat());
    expect(encodePage([], 'csv', RECORDING_COLUMNS)).toBe('');
  });

  it('stops at once when cancelled, with nothing to save', async () => {
    const controller = new AbortController();
    let asked = 0;
    async function* endless() {
      for (;;) {
        asked++;
        if (asked === 2) controller.abort();
        yield await Promise.resolve([{ recording_id: `r${asked}`, status: 'stored' }]);
      }
    }
    await expect(
      collectExport({ format: 'csv', columns: RECORDING_COLUMNS, pages: endless, signal: controller.signal }),
    ).rejects.toThrow();
    expect(asked).toBe(2);
  });

  it('names the file by what and when', () => {
    expect(exportFileName('recordings', 'jsonl', new Date(2026, 11, 5, 9, 7))).toBe(
      'recordings-20261205-0907.jsonl',
    );
  });
});

describe('export columns in the docs', () => {
  /** The rows of the Markdown table under `heading`: [column, description]. */
  function documented(heading: string): [string, string][] {
    const text = readFileSync(new URL('../../docs/guides/console.md', import.meta.url), 'utf8');
    const section = text.slice(text.indexOf(`### ${heading}`));
    const table = section.slice(section.indexOf('| column |')).split('\n\n')[0]!;
    return table
      .split('\n')
      .slice(2)
      .map((row) => {
        const [, name = '', holds = ''] = row.split('|').map((cell) => cell.trim());
        return [name.replace(/`/g, ''), holds];
      });
  }

  it('lists exactly the CSV columns the console writes, in order, with what they hold', () => {
    expect(documented('Recordings export columns')).toEqual(
      RECORDING_COLUMNS.map((c) => [c.name, c.description]),
    );
    expect(documented('Audit export columns')).toEqual(AUDIT_COLUMNS.map((c) => [c.name, c.description]));
  });
});
