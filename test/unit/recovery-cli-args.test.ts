import { describe, expect, it } from 'vitest';
import {
  createProgress,
  parseBackfillArgs,
  parseRetryArgs,
  parseTime,
  UsageError,
} from '../../bin/lib/cli.js';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

describe('backfill arguments', () => {
  it('reads --since and --until as dates (UTC, --until inclusive of the day), ISO times or epoch ms', () => {
    expect(parseBackfillArgs(['--since', '2026-01-01'], NOW)).toMatchObject({
      sinceMs: Date.UTC(2026, 0, 1),
      untilMs: undefined,
      dryRun: false,
    });
    expect(parseBackfillArgs(['--since=2026-01-01', '--until=2026-01-31'], NOW).untilMs).toBe(
      Date.UTC(2026, 1, 1) - 1,
    );
    expect(parseBackfillArgs(['--since', '2026-01-01T10:00:00+05:30'], NOW).sinceMs).toBe(
      Date.UTC(2026, 0, 1, 4, 30),
    );
    expect(parseBackfillArgs(['--since', String(Date.UTC(2026, 0, 2))], NOW).sinceMs).toBe(
      Date.UTC(2026, 0, 2),
    );
  });

  it('reads --dry-run, --table, --region', () => {
    expect(
      parseBackfillArgs(
        ['--since', '2026-01-01', '--dry-run', '--table', 't1', '--region', 'ap-south-1'],
        NOW,
      ),
    ).toMatchObject({
      dryRun: true,
      table: 't1',
      region: 'ap-south-1',
    });
  });

  it.each([
    [[], /--since is required/],
    [['--since', 'last tuesday'], /--since: expected an ISO-8601 date-time/],
    [['--since', '2026-13-45'], /--since: expected an ISO-8601 date-time/],
    // The lookup API's rule: epoch ms need 12–15 digits, date-times need Z or an offset.
    [['--since', '2025'], /--since: expected an ISO-8601 date-time/],
    [['--since', '20251101'], /--since: expected an ISO-8601 date-time/],
    [['--since', '1767225600'], /--since: expected .*epoch milliseconds with 12 to 15 digits/],
    [['--since', '1'], /--since: expected an ISO-8601 date-time/],
    [['--since', '2026-01-01T10:00:00'], /--since: expected an ISO-8601 date-time/],
    [['--since', '2026-01-01', '--until', '20260131'], /--until: expected an ISO-8601 date-time/],
    [['--since', '2026-02-01', '--until', '2026-01-01'], /before --since/],
    [['--since', '2027-01-01'], /future/],
    [['--since', '2026-01-01', '--bogus'], /Unknown option/],
    [['--since', '2026-01-01', 'extra'], /unexpected argument/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseBackfillArgs(argv, NOW)).toThrow(UsageError);
    expect(() => parseBackfillArgs(argv, NOW)).toThrow(message);
  });

  it('--help needs nothing else', () => {
    expect(parseBackfillArgs(['--help'], NOW).help).toBe(true);
  });

  it('reads 12-digit epoch ms and ISO times with any offset', () => {
    expect(parseBackfillArgs(['--since', '100000000000'], NOW).sinceMs).toBe(100_000_000_000);
    expect(parseBackfillArgs(['--since', '2026-01-01T00:00:00-08:00'], NOW).sinceMs).toBe(
      Date.UTC(2026, 0, 1, 8),
    );
    expect(
      parseBackfillArgs(['--since', '2026-01-01', '--until', '2026-01-01T10:00:00.5Z'], NOW).untilMs,
    ).toBe(Date.UTC(2026, 0, 1, 10, 0, 0, 500));
  });

  it('parseTime: lower and upper bounds of a day', () => {
    expect(parseTime('2026-03-01', '--x', 'lower')).toBe(Date.UTC(2026, 2, 1));
    expect(parseTime('2026-03-01', '--x', 'upper')).toBe(Date.UTC(2026, 2, 2) - 1);
    expect(parseTime('2026-03-01T00:00:00Z', '--x', 'upper')).toBe(Date.UTC(2026, 2, 1));
  });
});

describe('retry arguments', () => {
  it('takes recording ids (deduplicated) or --all-failed', () => {
    expect(parseRetryArgs(['a', 'b', 'a'])).toMatchObject({ recordingIds: ['a', 'b'], allFailed: false });
    expect(parseRetryArgs(['--all-failed', '--dry-run', '--table', 't'])).toMatchObject({
      recordingIds: [],
      allFailed: true,
      dryRun: true,
      table: 't',
    });
  });

  it.each([
    [[], /at least one recording id/],
    [['a', '--all-failed'], /not both/],
    [['a', '--dry-run'], /--dry-run goes with --all-failed/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseRetryArgs(argv)).toThrow(message);
  });
});

describe('progress output', () => {
  function sink(isTTY: boolean) {
    const writes: string[] = [];
    return { writes, out: { write: (text: string) => writes.push(text), isTTY, columns: 80 } };
  }

  it('draws a bar in place on a terminal', () => {
    const { writes, out } = sink(true);
    const progress = createProgress(out);
    progress.update(0.5, 'page 1');
    progress.update(2, 'page 2');
    progress.done();
    expect(writes[0]).toMatch(/^\r\[#+-+\]\s+50% page 1/);
    expect(writes[1]).toMatch(/^\r\[#+\] 100% page 2/);
    expect(writes.at(-1)).toBe('\n');
  });

  it('writes an occasional plain line when not a terminal', () => {
    const { writes, out } = sink(false);
    const progress = createProgress(out, { everyLines: 10 });
    for (let i = 1; i <= 25; i++) progress.update(i / 25, `page ${i}`);
    progress.done();
    expect(writes).toEqual(['page 1\n', 'page 11\n', 'page 21\n']);
  });
});
