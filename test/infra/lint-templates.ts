/**
 * `npm run lint:templates`: synthesizes every stack variant (test/infra/stages.ts) and runs AWS's own
 * linter, cfn-lint, on each template. Any finding fails, except W3005 (the redundant DependsOn CDK
 * adds for function roles). Exit 0 when clean, 1 on findings or when cfn-lint is not installed: a check
 * that cannot run must not pass (`npm run check` would otherwise report unlinted templates as clean).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStack } from './build.js';
import { STAGE_VARIANTS } from './stages.js';

const IGNORED = 'W3005';

if (spawnSync('cfn-lint', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error(
    [
      'lint:templates: cfn-lint is not installed (or not on the PATH), so the templates were not linted.',
      'Install AWS CloudFormation Linter, then run this again:',
      '  pip install cfn-lint        (or: pipx install cfn-lint)',
    ].join('\n'),
  );
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'templates-'));
let failed = false;
try {
  const files = STAGE_VARIANTS.map(({ name, stage, raw }, i) => {
    const file = join(dir, `${i}-${stage}.template.json`);
    writeFileSync(file, JSON.stringify(buildStack(stage, raw).template.toJSON(), null, 1));
    return { name, file };
  });
  for (const { name, file } of files) {
    const result = spawnSync('cfn-lint', ['--format', 'parseable', '--ignore-checks', IGNORED, '--', file], {
      encoding: 'utf8',
    });
    const findings = result.stdout.trim();
    if (result.status !== 0 || findings) {
      failed = true;
      console.error(`✗ ${name}\n${findings || result.stderr}`);
    } else console.log(`✓ ${name}: no findings beyond ${IGNORED}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
