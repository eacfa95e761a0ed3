import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LOCAL_ENV } from '../../local/start-options.js';
import { functionVariables } from '../../tools/docs/environment.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The variables a source file reads by name: `env.X`, `env['X']`, `process.env.X`, `(env, 'X'`. Writes
 * (`process.env.X = …`, `delete process.env.X`) are not reads.
 */
function variablesIn(source: string): string[] {
  const names = new Set<string>();
  const reads = [
    /(?<!delete )(?<![\w.])(?:process\.)?env\.([A-Z][A-Z0-9_]+)\b(?!\s*=(?!=))/g,
    /\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g,
    /\(\s*env\s*,\s*'([A-Z][A-Z0-9_]+)'/g,
  ];
  for (const pattern of reads) for (const match of source.matchAll(pattern)) names.add(match[1]!);
  return [...names];
}

const variablesRead = (file: string) => variablesIn(readFileSync(file, 'utf8'));

function sourceFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFilesUnder(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('the generated environment reference misses no variable', () => {
  it('declares every variable the functions read by name in a loader table (so the docs list it)', () => {
    const declared = new Set(functionVariables().keys());
    const read = sourceFilesUnder(join(ROOT, 'functions')).flatMap((file) =>
      variablesRead(file).map((name) => `${name} (${file.slice(ROOT.length)})`),
    );
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter((entry) => !declared.has(entry.split(' ')[0]!))).toEqual([]);
  });

  it('declares every variable the local stack reads in LOCAL_ENV', () => {
    const declared = new Set(Object.keys(LOCAL_ENV));
    const read = ['local/start.ts', 'local/start-options.ts'].flatMap((file) =>
      variablesRead(join(ROOT, file)),
    );
    expect(read).toContain('NO_COLOR');
    expect(read.filter((name) => !declared.has(name))).toEqual([]);
  });

  it('sees reads and ignores writes', () => {
    const source = [
      'const a = env.ALPHA ?? process.env.BETA;',
      "if (env['GAMMA'] || integer(env, 'DELTA', 1, 0, 9)) process.env.EPSILON = 'x';",
      'delete process.env.ZETA;',
      "if (process.env.ETA === 'y') return;",
    ].join('\n');
    expect(variablesIn(source).sort()).toEqual(['ALPHA', 'BETA', 'DELTA', 'ETA', 'GAMMA']);
  });
});
