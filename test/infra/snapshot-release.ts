/**
 * Turns a released version's synthesized template into the fixture the upgrade test diffs against:
 *   git worktree add --detach /tmp/release <commit> && (cd /tmp/release && npm ci && npx cdk synth -o out)
 *   npx tsx test/infra/snapshot-release.ts /tmp/release/out/VobizRecordingArchive-prod.template.json <commit>
 * Construct paths, the CDK analytics resource and asset hashes are dropped: they never decide whether a
 * deploy replaces a resource, and they would make every fixture differ from the next release's for nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';

type Template = {
  Resources: Record<string, { Type: string; Metadata?: unknown; Properties?: Record<string, unknown> }>;
  Conditions?: Record<string, unknown>;
};

export function normalizeTemplate(template: Template): Template {
  const resources = Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type !== 'AWS::CDK::Metadata')
      .map(([id, { Metadata: _metadata, ...resource }]) => [id, resource]),
  );
  const conditions = Object.fromEntries(
    Object.entries(template.Conditions ?? {}).filter(([name]) => name !== 'CDKMetadataAvailable'),
  );
  const text = JSON.stringify({ ...template, Resources: resources, Conditions: conditions }, null, 1);
  return JSON.parse(text.replace(/"[0-9a-f]{64}(\.zip|\.json)?"/g, '"ASSET$1"')) as Template;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [source, commit] = process.argv.slice(2);
  if (!source || !commit) {
    process.stderr.write('usage: tsx test/infra/snapshot-release.ts <template.json> <commit>\n');
    process.exit(2);
  }
  const template = normalizeTemplate(JSON.parse(readFileSync(source, 'utf8')) as Template);
  const target = new URL(`fixtures/release-${commit}.template.json`, import.meta.url);
  writeFileSync(target, `${JSON.stringify(template, null, 1)}\n`);
  process.stdout.write(`${target.pathname}\n`);
}
