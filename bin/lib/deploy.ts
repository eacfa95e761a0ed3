import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  ChangeSetNotFoundException,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  ExecuteChangeSetCommand,
  SetStackPolicyCommand,
  type Change,
  type Stack,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';
import {
  describeStatefulChange,
  statefulChanges,
  statefulStackPolicy,
  type StatefulChange,
} from '../../infra/stateful.js';
import type { Output } from './output.js';
import { describeStack, REPO_ROOT, TargetError } from './targets.js';

/**
 * The AWS side of `vobiz-archive deploy`: after the CDK CLI has prepared a change set (synthesis, assets,
 * CreateChangeSet), inspect it, refuse it when it would replace or remove a stateful resource, otherwise
 * execute it, wait, and set the stack policy. Written against the CloudFormation client only, so that
 * tests drive it in-process with aws-sdk-client-mock.
 */
export interface ChangeSetDeploy {
  stackName: string;
  changeSetName: string;
  /** Logical ids whose replacement or removal is accepted this once (`--allow-replacement`). */
  allow: readonly string[];
  keepChangeSet: boolean;
}

export type DeployOutcome =
  | { outcome: 'refused'; changes: StatefulChange[]; changeSetKept: boolean }
  | { outcome: 'unchanged'; stack: Stack }
  | { outcome: 'deployed'; stack: Stack; changes: number }
  | { outcome: 'failed'; stack: Stack; reasons: string[] };

/** Every change of a change set (all pages), or undefined when there is none (nothing to deploy). */
export async function changeSetChanges(
  cfn: CloudFormationClient,
  stackName: string,
  changeSetName: string,
): Promise<{ changes: Change[]; status?: string; reason?: string } | undefined> {
  const changes: Change[] = [];
  let token: string | undefined;
  let status: string | undefined;
  let reason: string | undefined;
  try {
    do {
      const page = await cfn.send(
        new DescribeChangeSetCommand({
          StackName: stackName,
          ChangeSetName: changeSetName,
          NextToken: token,
        }),
      );
      changes.push(...(page.Changes ?? []));
      status = page.Status;
      reason = page.StatusReason;
      token = page.NextToken;
    } while (token);
  } catch (error) {
    if (error instanceof ChangeSetNotFoundException || (error as Error).name === 'ChangeSetNotFoundException')
      return undefined;
    throw error;
  }
  return { changes, status, reason };
}

const IN_PROGRESS = /_IN_PROGRESS$/;
const SUCCEEDED = /^(CREATE|UPDATE|IMPORT)_COMPLETE$/;

export async function deployChangeSet(
  cfn: CloudFormationClient,
  plan: ChangeSetDeploy,
  io: { stderr: Output; sleep?: (ms: number) => Promise<unknown>; pollMs?: number },
): Promise<DeployOutcome> {
  const pause = io.sleep ?? ((ms: number) => sleep(ms));
  const described = await changeSetChanges(cfn, plan.stackName, plan.changeSetName);
  if (
    !described ||
    (described.status === 'FAILED' && /didn't contain changes|No updates/i.test(described.reason ?? ''))
  ) {
    if (described) await deleteChangeSet(cfn, plan);
    const stack = await describeStack(cfn, plan.stackName);
    await protect(cfn, plan.stackName, []);
    return { outcome: 'unchanged', stack };
  }
  if (described.status === 'FAILED')
    throw new TargetError(
      `CloudFormation could not create the change set: ${described.reason ?? 'no reason given'}`,
    );

  const refused = statefulChanges(described.changes, { allow: plan.allow });
  if (refused.length > 0) {
    for (const change of refused) io.stderr.write(`refused: ${describeStatefulChange(change)}\n`);
    if (!plan.keepChangeSet) await deleteChangeSet(cfn, plan);
    return { outcome: 'refused', changes: refused, changeSetKept: plan.keepChangeSet };
  }

  const before = await describeStack(cfn, plan.stackName);
  const existed = before.StackStatus !== 'REVIEW_IN_PROGRESS';
  // Replacing a resource on purpose: the policy must let that one through while the change set runs.
  if (existed && plan.allow.length > 0) await protect(cfn, plan.stackName, plan.allow);
  const startedAt = new Date();
  io.stderr.write(`executing change set ${plan.changeSetName} (${described.changes.length} changes)…\n`);
  await cfn.send(
    new ExecuteChangeSetCommand({ StackName: plan.stackName, ChangeSetName: plan.changeSetName }),
  );

  let watched: Awaited<ReturnType<typeof watchStack>> | undefined;
  try {
    watched = await watchStack(cfn, plan.stackName, startedAt, {
      stderr: io.stderr,
      pause,
      pollMs: io.pollMs,
    });
  } finally {
    // Whatever happened, the stateful resources end protected (a stack that failed to create has none).
    const status = (await describeStack(cfn, plan.stackName).catch(() => undefined))?.StackStatus;
    if (status && status !== 'ROLLBACK_COMPLETE' && status !== 'DELETE_COMPLETE')
      await protect(cfn, plan.stackName, []);
  }
  const stack = watched.stack!;
  if (SUCCEEDED.test(stack.StackStatus ?? ''))
    return { outcome: 'deployed', stack, changes: described.changes.length };
  return {
    outcome: 'failed',
    stack,
    reasons:
      watched.failures.length > 0
        ? watched.failures
        : [stack.StackStatusReason ?? stack.StackStatus ?? 'unknown'],
  };
}

/**
 * Waits until the stack is no longer in progress, printing its events on stderr as they come: the
 * stack at the end (undefined once deleted), and the reasons of the resources that failed.
 */
export async function watchStack(
  cfn: CloudFormationClient,
  stackName: string,
  startedAt: Date,
  io: { stderr: Output; pause: (ms: number) => Promise<unknown>; pollMs?: number },
): Promise<{ stack: Stack | undefined; failures: string[] }> {
  const seen = new Set<string>();
  const failures: string[] = [];
  for (;;) {
    await io.pause(io.pollMs ?? 5_000);
    let stack: Stack;
    try {
      for (const event of await newEvents(cfn, stackName, startedAt, seen)) {
        io.stderr.write(`${formatEvent(event)}\n`);
        if (event.ResourceStatus?.endsWith('_FAILED') && event.ResourceStatusReason)
          failures.push(`${event.LogicalResourceId}: ${event.ResourceStatusReason}`);
      }
      stack = await describeStack(cfn, stackName);
    } catch (error) {
      // A deleted stack is no longer found by its name.
      if (error instanceof TargetError || (error as Error).name === 'ValidationError')
        return { stack: undefined, failures };
      throw error;
    }
    if (!IN_PROGRESS.test(stack.StackStatus ?? '')) return { stack, failures };
  }
}

async function deleteChangeSet(cfn: CloudFormationClient, plan: ChangeSetDeploy): Promise<void> {
  await cfn.send(
    new DeleteChangeSetCommand({ StackName: plan.stackName, ChangeSetName: plan.changeSetName }),
  );
}

/** SetStackPolicy with the stateful policy (and this deploy's exceptions). */
export async function protect(
  cfn: CloudFormationClient,
  stackName: string,
  allow: readonly string[],
): Promise<void> {
  await cfn.send(
    new SetStackPolicyCommand({
      StackName: stackName,
      StackPolicyBody: JSON.stringify(statefulStackPolicy({ allow })),
    }),
  );
}

/** Stack events since the execution began, oldest first, each once. */
async function newEvents(
  cfn: CloudFormationClient,
  stackName: string,
  since: Date,
  seen: Set<string>,
): Promise<StackEvent[]> {
  const { StackEvents = [] } = await cfn.send(new DescribeStackEventsCommand({ StackName: stackName }));
  const fresh = StackEvents.filter(
    (e) => e.EventId && !seen.has(e.EventId) && (e.Timestamp?.getTime() ?? 0) >= since.getTime() - 1_000,
  );
  for (const event of fresh) seen.add(event.EventId!);
  return fresh.reverse();
}

function formatEvent(event: StackEvent): string {
  const time = event.Timestamp?.toISOString().slice(11, 19) ?? '';
  return `  ${time}  ${(event.ResourceStatus ?? '').padEnd(20)} ${event.LogicalResourceId ?? ''}${event.ResourceStatusReason ? `: ${event.ResourceStatusReason}` : ''}`;
}

/**
 * The CDK CLI's half: synthesize the app (bin/app.ts reads -c settings and cdk.json as it always does),
 * publish the assets and create the change set without executing it. Its output goes to our stderr.
 */
export function prepareChangeSet(options: {
  stackName: string;
  stage: string;
  changeSetName: string;
  context: readonly string[];
  approve: boolean;
  profile?: string;
  env: Record<string, string | undefined>;
  stderr: Output;
  signal?: AbortSignal;
}): Promise<void> {
  const cdk = createRequire(import.meta.url).resolve('aws-cdk/bin/cdk');
  const args = [
    cdk,
    'deploy',
    options.stackName,
    '-c',
    `stage=${options.stage}`,
    ...options.context.flatMap((pair) => ['-c', pair]),
    '--method=prepare-change-set',
    '--change-set-name',
    options.changeSetName,
    '--require-approval',
    options.approve ? 'never' : 'broadening',
    '--progress',
    'events',
    ...(options.profile ? ['--profile', options.profile] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: options.env,
      stdio: ['inherit', 'pipe', 'pipe'],
      signal: options.signal,
    });
    // Both of the CDK's streams go to our stderr: stdout stays for the summary (and --json).
    child.stdout.on('data', (chunk: Buffer) => options.stderr.write(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => options.stderr.write(chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new TargetError(`cdk deploy (preparing the change set) exited with code ${code}`)),
    );
  });
}
