import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { BlockError, replaceBlock } from '../../tools/docs/blocks.js';
import { GENERATED_BLOCKS, generateDocs } from '../../tools/docs/generate.js';
import { fenced, table } from '../../tools/docs/markdown.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** A copy of what the generator reads and writes, to make stale on purpose. */
function copyOfProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'docs-'));
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  for (const page of new Set(GENERATED_BLOCKS.map((block) => block.page)))
    cpSync(join(ROOT, page), join(dir, page), { recursive: true });
  return dir;
}

const temporary: string[] = [];
afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('npm run docs:check', () => {
  it('finds every generated table in docs/ up to date with the code (run npm run docs if not)', () => {
    const { stale } = generateDocs(ROOT, { check: true });
    expect(stale, 'stale generated tables: run npm run docs').toEqual([]);
  });

  it('names each stale table, and npm run docs brings it back', () => {
    const dir = copyOfProject();
    temporary.push(dir);
    const settings = join(dir, 'docs/reference/settings.md');
    writeFileSync(
      settings,
      readFileSync(settings, 'utf8').replace(
        '| `presignTtlSeconds` | 900 |',
        '| `presignTtlSeconds` | 600 |',
      ),
    );
    const alarms = join(dir, 'docs/reference/alarms.md');
    writeFileSync(alarms, readFileSync(alarms, 'utf8').replace(/\| `RecordingsFailed` \|[^\n]*\n/, ''));
    const environment = join(dir, 'docs/reference/environment.md');
    writeFileSync(
      environment,
      readFileSync(environment, 'utf8').replace(/\| `AUDIT_BUCKET_NAME` \| audit copy \|[^\n]*\n/, ''),
    );
    const commands = join(dir, 'docs/reference/commands.md');
    writeFileSync(
      commands,
      readFileSync(commands, 'utf8').replace(/\| \[`doctor`\]\(#doctor\) \|[^\n]*\n/, ''),
    );

    expect(generateDocs(dir, { check: true }).stale).toEqual([
      'docs/reference/settings.md#settings',
      'docs/reference/environment.md#environment-functions',
      'docs/reference/commands.md#commands',
      'docs/reference/alarms.md#alarms',
    ]);
    expect(generateDocs(dir, { check: false }).written).toEqual([
      'docs/reference/settings.md',
      'docs/reference/environment.md',
      'docs/reference/commands.md',
      'docs/reference/alarms.md',
    ]);
    expect(generateDocs(dir, { check: true }).stale).toEqual([]);
    expect(readFileSync(settings, 'utf8')).toBe(
      readFileSync(join(ROOT, 'docs/reference/settings.md'), 'utf8'),
    );
  });

  it('refuses a page whose markers are missing or unknown', () => {
    const dir = copyOfProject();
    temporary.push(dir);
    const page = join(dir, 'docs/reference/environment.md');
    const text = readFileSync(page, 'utf8');
    writeFileSync(page, text.replace('<!-- generated:environment-local end -->', ''));
    expect(() => generateDocs(dir, { check: true })).toThrow(
      'docs/reference/environment.md has no <!-- generated:environment-local end --> after its start marker',
    );
    writeFileSync(page, `${text}\n<!-- generated:nobody start -->\n<!-- generated:nobody end -->\n`);
    expect(() => generateDocs(dir, { check: true })).toThrow(/block no generator writes: nobody/);
  });

  it('exits 1 through its real process when a table is stale, telling to run npm run docs; 2 on a usage error', async () => {
    const dir = copyOfProject();
    temporary.push(dir);
    const commands = join(dir, 'docs/reference/commands.md');
    writeFileSync(
      commands,
      readFileSync(commands, 'utf8').replace('--all-failed [--dry-run]', '--all-failed'),
    );
    const docs = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'tools/docs.ts', '--root', dir, ...args], { cwd: ROOT });

    const stale = await docs('--check').then(
      () => expect.unreachable('docs:check passed on a stale table'),
      (error: { code: number; stderr: string }) => error,
    );
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('docs/reference/commands.md#usage-retry is stale');
    expect(stale.stderr).toContain('run npm run docs');

    const usage = await docs('--bogus').then(
      () => expect.unreachable('an unknown option was accepted'),
      (error: { code: number; stderr: string }) => error,
    );
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage: npm run docs');
  }, 120_000);
});

describe('Markdown writers', () => {
  it('escapes pipes and line breaks in table cells, and refuses ragged rows', () => {
    expect(table(['a', 'b'], [['x|y', 'one\ntwo']])).toBe('| a | b |\n| --- | --- |\n| x\\|y | one two |');
    expect(() => table(['a', 'b'], [['x']])).toThrow(/1 cells for 2 columns/);
  });

  it('fences a block longer than any backtick run inside it', () => {
    expect(fenced('a ``` b')).toBe('````\na ``` b\n````');
  });

  it('replaces only what is between the markers', () => {
    const page = 'before\n<!-- generated:x start: from y -->\nold\n<!-- generated:x end -->\nafter\n';
    expect(replaceBlock(page, 'x', 'new')).toBe(
      'before\n<!-- generated:x start: from y -->\n\nnew\n\n<!-- generated:x end -->\nafter\n',
    );
    expect(() => replaceBlock(page, 'z', 'new')).toThrow(BlockError);
  });
});
