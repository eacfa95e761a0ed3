import { describe, expect, it } from 'vitest';
import {
  BACKFILL_USAGE,
  ERASE_USAGE,
  LIFECYCLE_INDEX_USAGE,
  parseBackfillArgs,
  parseEraseArgs,
  parseLifecycleIndexArgs,
  parseRetryArgs,
  parseVobizCleanupArgs,
  RETRY_USAGE,
  VOBIZ_CLEANUP_USAGE,
} from '../../bin/lib/cli.js';
import { COMMANDS } from '../../bin/lib/commands.js';

/** The first lines of a usage text, up to the first blank line: what an operator reads as the synopsis. */
function synopsis(usage: string): string {
  return usage.split('\n\n')[0]!;
}

describe('operator command usage texts', () => {
  const commands = [
    { usage: BACKFILL_USAGE, flags: ['--since', '--until', '--dry-run', '--table'] },
    { usage: RETRY_USAGE, flags: ['--all-failed', '--dry-run', '--table'] },
    {
      usage: VOBIZ_CLEANUP_USAGE,
      flags: [
        '--older-than',
        '--dry-run',
        '--retry-blocked',
        '--limit',
        '--concurrency',
        '--table',
        '--bucket',
      ],
    },
    {
      usage: ERASE_USAGE,
      flags: [
        '--id',
        '--call-uuid',
        '--number',
        '--keep-vobiz',
        '--also-vobiz',
        '--dry-run',
        '--reason',
        '--table',
        '--bucket',
      ],
    },
    { usage: LIFECYCLE_INDEX_USAGE, flags: ['--dry-run', '--table'] },
  ];

  it.each(commands)('name every option in the synopsis: $flags', ({ usage, flags }) => {
    for (const flag of flags) expect(synopsis(usage)).toMatch(new RegExp(`${flag}(?![\\w-])`));
  });

  it('the parsers accept exactly the options their synopsis names (--help aside)', () => {
    const accepts = (parse: (argv: string[]) => unknown, flag: string) => {
      try {
        parse([flag, 'x']);
        return true;
      } catch (error) {
        return !/Unknown option/.test((error as Error).message);
      }
    };
    const parsers = [
      (argv: string[]) => parseBackfillArgs(argv, Date.now()),
      parseRetryArgs,
      parseVobizCleanupArgs,
      parseEraseArgs,
      parseLifecycleIndexArgs,
    ];
    commands.forEach(({ flags }, i) => {
      for (const flag of flags) expect(accepts(parsers[i]!, flag), flag).toBe(true);
      expect(accepts(parsers[i]!, '--not-an-option'), '--not-an-option').toBe(false);
    });
  });

  it.each(COMMANDS.map((c) => [c.name, c.usage] as const))(
    '%s names the shared options: in its synopsis, or as [target options] explained at the end',
    (name, usage) => {
      expect(usage.startsWith(`Usage: vobiz-archive ${name}`)).toBe(true);
      const explicit = /--stage <name>/.test(synopsis(usage));
      expect(explicit || synopsis(usage).includes('[target options]'), name).toBe(true);
      const explained = usage.slice(usage.indexOf('Target options:'));
      for (const flag of ['--stage', '--region', '--profile', '--json'])
        expect(explicit ? synopsis(usage) + explained : explained, `${name} ${flag}`).toContain(flag);
    },
  );

  it('the parsers accept the shared options', () => {
    for (const parse of [
      (argv: string[]) => parseBackfillArgs([...argv, '--since', '2026-01-01'], Date.now()),
      (argv: string[]) => parseRetryArgs([...argv, '--all-failed']),
      parseVobizCleanupArgs,
      (argv: string[]) => parseEraseArgs([...argv, '--id', 'abc', '--reason', 'DSR-1']),
      parseLifecycleIndexArgs,
    ]) {
      expect(parse(['--stage', 'prod', '--region', 'ap-south-1', '--profile', 'p', '--json'])).toMatchObject({
        json: true,
        target: {
          kind: 'stage',
          stage: 'prod',
          stackName: 'VobizRecordingArchive-prod',
          region: 'ap-south-1',
          profile: 'p',
        },
      });
      expect(parse(['--local', '--port', '3100'])).toMatchObject({ target: { kind: 'local', port: 3100 } });
      expect(() => parse(['--local', '--stage', 'prod'])).toThrow('give --stage or --local, not both');
      expect(() => parse(['--port', '3100'])).toThrow('--port goes with --local');
      expect(() => parse(['--stage', 'Prod!'])).toThrow(/--stage must be lowercase/);
    }
  });

  it('backfill says that the archive worker, started by each new record, archives what it enqueues', () => {
    expect(BACKFILL_USAGE).not.toMatch(/re-drive then archives/);
    expect(BACKFILL_USAGE).toMatch(/each new record starts the archive worker/);
  });

  it('erase requires --reason as the API does, and its synopsis says so (no silent default)', () => {
    expect(synopsis(ERASE_USAGE)).toMatch(/ --reason <reference> /);
    expect(synopsis(ERASE_USAGE)).not.toMatch(/\[--reason/);
    expect(() => parseEraseArgs(['--id', 'abc'])).toThrow(/--reason is required/);
    expect(parseEraseArgs(['--id', 'abc', '--reason', 'DSR-1']).reason).toBe('DSR-1');
  });
});
