import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../infra/bundling.js';

const run = promisify(execFile);
const OBSERVABILITY = new URL('../../functions/shared/framework/observability.ts', import.meta.url).pathname;

/**
 * A handler module as the functions are written: observability at cold start, a throw two calls deep,
 * logged by the Powertools logger (one JSON line) and thrown on to the runtime.
 */
const FIXTURE = `import { createObservability } from ${JSON.stringify(OBSERVABILITY)};

const { logger } = createObservability('fixture');

function parseAmount(text: string): number {
  throw new RangeError(\`not an amount: \${text}\`);
}

export const handler = async (event: { amount: string }) => {
  try {
    return parseAmount(event.amount);
  } catch (error) {
    logger.error('amount refused', error as Error);
    throw error;
  }
};
`;

/**
 * Imports the bundle in a fresh node (no flags, as Lambda runs it), optionally removes the source maps
 * after the import, then calls the handler: the error's stack on stdout, the logger's line (on stderr for an error).
 */
const PROBE = `
const { readdirSync, rmSync } = await import('node:fs');
const { pathToFileURL } = await import('node:url');
const [, dir, removeMaps] = process.argv;
const { handler } = await import(pathToFileURL(dir + '/index.mjs').href);
if (removeMaps === 'yes') {
  for (const f of readdirSync(dir, { recursive: true })) if (String(f).endsWith('.map')) rmSync(dir + '/' + f);
}
try { await handler({ amount: 'twelve' }); } catch (error) { process.stdout.write(error.stack); }
`;

describe('stack traces of a bundled function', () => {
  let dir: string;
  let outdir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stack-traces-'));
    outdir = join(dir, 'out');
    await writeFile(join(dir, 'fixture.ts'), FIXTURE);
    // The deployed bundling: minified, split, source maps without sources.
    await build(esbuildOptions(join(dir, 'fixture.ts'), outdir));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const stackOf = async (
    options: { removeMapsAfterImport?: boolean; nodeFlags?: string[]; bundle?: string } = {},
  ) => {
    const { stdout, stderr } = await run(
      process.execPath,
      [
        ...(options.nodeFlags ?? []),
        '--input-type=module',
        '-e',
        PROBE,
        '--',
        options.bundle ?? outdir,
        options.removeMapsAfterImport ? 'yes' : 'no',
      ],
      { env: { PATH: process.env.PATH, POWERTOOLS_LOG_LEVEL: 'ERROR' } },
    );
    const log = JSON.parse(stderr) as { error: { stack: string; location: string } };
    return { log, lines: stdout.split('\n') };
  };

  it('name the TypeScript source, line and function without --enable-source-maps, in the logs too', async () => {
    const { log, lines } = await stackOf();
    expect(lines[0]).toBe('RangeError: not an amount: twelve');
    expect(lines[1]).toMatch(/^ {4}at parseAmount \(\S*fixture\.ts:6:9\)$/);
    expect(lines[2]).toMatch(/^ {4}at \S*fixture\.ts:11:12\)?$/);
    expect(lines.slice(1, 3).join('\n')).not.toContain('index.mjs');
    expect(log.error.stack).toBe(lines.join('\n'));
    expect(log.error.location).toMatch(/fixture\.ts:6$/);
  });

  it('read the maps only when a stack is formatted, not when the function loads', async () => {
    // Maps gone after the import (from a copy): a map read at load time would still be in memory.
    const copy = join(dir, 'copy');
    await cp(outdir, copy, { recursive: true });
    const { lines } = await stackOf({ removeMapsAfterImport: true, bundle: copy });
    expect(lines[0]).toBe('RangeError: not an amount: twelve');
    expect(lines[1]).toMatch(/index\.mjs:\d+:\d+\)?$/);
    expect(lines.join('\n')).not.toContain('fixture.ts');
  });

  it('leave the mapping to Node when it is switched on there, with the same file and line', async () => {
    const { lines } = await stackOf({ nodeFlags: ['--enable-source-maps'] });
    expect(lines[1]).toMatch(/fixture\.ts:6:9\)$/);
  });
});
