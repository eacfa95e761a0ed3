import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};
const lockfile = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { hasInstallScript?: boolean; version?: string }>;
};

const SOURCE_FOLDERS = ['functions', 'infra', 'bin', 'local', 'bench', 'test', 'types'];

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('package.json', () => {
  it('every runtime dependency is imported by the code (an unused one only adds install time and risk)', () => {
    const sources = SOURCE_FOLDERS.flatMap(sourceFiles).map((file) => readFileSync(file, 'utf8'));
    const unused = Object.keys(manifest.dependencies).filter(
      (name) => !sources.some((text) => text.includes(`from '${name}'`) || text.includes(`from '${name}/`)),
    );
    expect(unused).toEqual([]);
  });

  it('declares, in allowScripts, every installed package that has an install script (npm ci stays quiet)', () => {
    const withScripts = Object.entries(lockfile.packages)
      .filter(([path, entry]) => path.startsWith('node_modules/') && entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts.length).toBeGreaterThan(0);
    const declared = Object.keys(manifest.allowScripts ?? {}).map((key) => key.replace(/(?<=.)@.*$/, ''));
    expect(withScripts.filter((name) => !declared.includes(name))).toEqual([]);
  });

  it('pins every dependency to an exact version', () => {
    const ranges = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies }).filter(
      ([, version]) => !/^\d+\.\d+\.\d+$/.test(version),
    );
    expect(ranges).toEqual([]);
  });
});
