import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METRIC } from '../../functions/shared/framework/observability.js';
import { SETTING_KEYS } from '../../infra/settings.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The variables the functions' config loaders read: `required(env, 'X')`, `integer(env, 'X', …)`, … */
function variablesReadByFunctions(): string[] {
  const names = new Set<string>();
  for (const file of sourceFilesUnder(join(ROOT, 'functions'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\(\s*env\s*,\s*'([A-Z][A-Z0-9_]+)'/g))
      names.add(match[1]!);
  }
  return [...names].sort();
}

function sourceFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFilesUnder(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('reference pages name what the code defines', () => {
  it('docs/reference/environment.md lists every variable a function reads', () => {
    const names = variablesReadByFunctions();
    expect(names).toContain('PRESIGN_TTL_SECONDS');
    const page = read('docs/reference/environment.md');
    for (const name of names) expect(page, name).toContain(`\`${name}\``);
  });

  it('docs/reference/settings.md lists every stage setting', () => {
    const page = read('docs/reference/settings.md');
    for (const key of SETTING_KEYS) expect(page, key).toContain(`\`${key}\``);
  });

  it('docs/reference/alarms.md lists every business metric', () => {
    const page = read('docs/reference/alarms.md');
    for (const name of Object.values(METRIC)) expect(page, name).toContain(`\`${name}\``);
  });

  it('docs/reference/commands.md lists every npm script', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: object }).scripts);
    const page = read('docs/reference/commands.md');
    for (const script of scripts)
      expect(page, script).toMatch(new RegExp(`(?<![\\w:-])${script}(?![\\w:-])`));
  });
});
