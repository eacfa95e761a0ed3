import { Validations, type App, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildStack } from './build.js';
import { STAGE_VARIANTS } from './stages.js';

const STAGES = STAGE_VARIANTS;

interface Acknowledged {
  path: string;
  id: string;
  reason: string;
}

function acknowledgments(root: IConstruct): Acknowledged[] {
  const found: Acknowledged[] = [];
  for (const node of root.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: node.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}

/** The findings cdk-nag reports when every acknowledgment is ignored. */
function unacknowledgedFindings(stack: Stack): { rule: string; path: string }[] {
  const pack = new AwsSolutionsChecks();
  Object.assign(pack, { isAcknowledged: () => false });
  return pack
    .validateScope(stack)
    .violations.flatMap((v) =>
      v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '' })),
    );
}

describe.each(STAGES)('cdk-nag AwsSolutions on $name', ({ stage, raw }) => {
  let app!: App;
  let stack!: Stack;

  it('synthesizes with zero unsuppressed findings', () => {
    ({ app, stack } = buildStack(stage, raw, { nag: true }));
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  it('acknowledges only on the resources concerned, each for a finding that really occurs, with a specific reason', () => {
    const acks = acknowledgments(app);
    const findings = unacknowledgedFindings(stack);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.path, `${ack.id} acknowledged on the whole stack`).not.toBe(stack.node.path);
      expect(ack.reason.length, `${ack.id} at ${ack.path}: reason too short`).toBeGreaterThanOrEqual(60);
      const covered = findings.filter(
        (f) => f.rule === ack.id && (f.path === ack.path || f.path.startsWith(`${ack.path}/`)),
      );
      expect(covered.length, `${ack.id} at ${ack.path} suppresses nothing`).toBeGreaterThan(0);
    }
  });
});
