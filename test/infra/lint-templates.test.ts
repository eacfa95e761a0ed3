import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run lint:templates', () => {
  it('fails, and says how to install cfn-lint, when cfn-lint is not on the PATH', () => {
    // A PATH that holds node and nothing else.
    const bin = mkdtempSync(join(tmpdir(), 'no-cfn-lint-'));
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'test/infra/lint-templates.ts'], {
        cwd: ROOT,
        env: { ...process.env, PATH: bin },
        encoding: 'utf8',
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('cfn-lint is not installed');
      expect(result.stderr).toContain('pip install cfn-lint');
      expect(result.stdout).not.toMatch(/SKIPPED/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
