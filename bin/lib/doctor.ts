import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoHeartbeats } from '../../functions/shared/adapters/dynamo-heartbeats.js';
import { countStatus } from '../../functions/shared/adapters/dynamo-status-pages.js';
import type { VobizCredentialsCheck } from '../../functions/shared/adapters/vobiz-check.js';
import { heartbeatLateAfterMs, type HeartbeatJob } from '../../functions/shared/domain/heartbeat.js';
import { describeError } from './output.js';

/** One finding: what was seen and, when it fails, the one thing to do. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix: string | null;
}

/** The webhook must answer within Vobiz's deadline; an unsigned POST must be refused, not fail. */
export const WEBHOOK_DEADLINE_MS = 3_000;
/** A pending record older than this is stuck (the worker normally archives within a minute). */
export const PENDING_TOO_LONG_MS = 10 * 60_000;
/** Index items read per shard for a count: 8 shards × this, whatever the archive's size. */
export const COUNT_PER_SHARD = 1_000;

/**
 * What doctor reads, from a deployed stage (CloudFormation, Secrets Manager, Lambda, SQS, CloudWatch)
 * or from the local stack (its /health). A probe that cannot answer throws; its check then fails with
 * the error, since a check that could not look is not a check that passed.
 */
export interface DoctorProbes {
  /** `stage prod (VobizRecordingArchive-prod in ap-south-1)` or `the local stack at …`. */
  where: string;
  /** The stack exists and is usable; every other check needs it. */
  stack(): Promise<Omit<Check, 'name'>>;
  /** AWS only: the secret holds credentials that are not the placeholder. */
  secret?: () => Promise<Omit<Check, 'name'>>;
  vobiz(): Promise<VobizCredentialsCheck | 'not-set'>;
  webhookUrl: string;
  trigger(): Promise<Omit<Check, 'name'>>;
  deadLetters(): Promise<Omit<Check, 'name'>>;
  table: { documents: DynamoDBDocumentClient; tableName: string };
  alarms?: () => Promise<Omit<Check, 'name'>>;
  concurrency?: () => Promise<Omit<Check, 'name'>>;
  /** How often each job runs here, and since when the stack has been able to run it. */
  schedules: Record<HeartbeatJob, { everyMs: number; timeoutMs: number }>;
  runningSinceMs: number;
  /** The one thing to do, per finding, in this place's words (commands with --stage or --local). */
  fixes: DoctorFixes;
}

export interface DoctorFixes {
  vobizRefused: string;
  trigger: string;
  pending: string;
  failed: string;
  sweep: string;
  lifecycle: string;
  webhook: string;
}

/** Runs every check; the stack check first, the rest only when there is a stack to look at. */
export async function runDoctor(
  probes: DoctorProbes,
  options: { nowMs: number; fetch?: typeof fetch },
): Promise<Check[]> {
  const checks: Check[] = [];
  const add = async (name: string, run: () => Promise<Omit<Check, 'name'>>) => {
    try {
      checks.push({ name, ...(await run()) });
    } catch (error) {
      checks.push({
        name,
        ok: false,
        detail: `could not check: ${describeError(error)}`,
        fix: permissionFix(error),
      });
    }
  };
  await add('stack', () => probes.stack());
  if (!checks[0]!.ok) return checks;
  if (probes.secret) await add('secret', probes.secret);
  await add('vobiz-token', async () => vobizCheck(await probes.vobiz(), probes.fixes));
  await add('webhook', () => webhookCheck(probes.webhookUrl, probes.fixes, options.fetch ?? fetch));
  await add('archive-trigger', () => probes.trigger());
  await add('dead-letter-queue', () => probes.deadLetters());
  await add('pending', () => pendingCheck(probes, options.nowMs));
  await add('failed', () => failedCheck(probes));
  if (probes.alarms) await add('alarms', probes.alarms);
  const heartbeats = new DynamoHeartbeats(probes.table.documents, probes.table.tableName);
  for (const job of ['backfill-sweep', 'lifecycle'] as const)
    await add(job, async () => heartbeatCheck(job, await heartbeats.read(job), probes, options.nowMs));
  if (probes.concurrency) await add('concurrency', probes.concurrency);
  return checks;
}

function permissionFix(error: unknown): string {
  const name = (error as Error).name ?? '';
  return /AccessDenied|Unauthorized|NotAuthorized/.test(name)
    ? 'allow your role the read permission named above (docs: the commands reference lists what doctor reads)'
    : 'run doctor again; if it persists, check your network and AWS credentials';
}

function vobizCheck(result: VobizCredentialsCheck | 'not-set', fixes: DoctorFixes): Omit<Check, 'name'> {
  if (result === 'not-set')
    return {
      ok: false,
      detail: 'not checked: the secret holds no usable credentials',
      fix: fixes.vobizRefused,
    };
  if (result.ok) return { ok: true, detail: result.detail, fix: null };
  return {
    ok: false,
    detail: result.detail,
    fix:
      result.reason === 'refused'
        ? fixes.vobizRefused
        : result.reason === 'unexpected'
          ? 'check the vobizApiBaseUrl setting: it must be the Vobiz API (https://api.vobiz.ai)'
          : 'Vobiz did not answer: try again later (status.vobiz.ai); nothing is lost meanwhile',
  };
}

/** An unsigned POST must be answered 401 (reachable, verifying) within Vobiz's 3 s. */
async function webhookCheck(
  url: string,
  fixes: DoctorFixes,
  fetchImpl: typeof fetch,
): Promise<Omit<Check, 'name'>> {
  const started = performance.now();
  let status: number;
  try {
    const response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
      signal: AbortSignal.timeout(WEBHOOK_DEADLINE_MS),
    });
    status = response.status;
    await response.arrayBuffer().catch(() => undefined);
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    return {
      ok: false,
      detail: timedOut
        ? `${url} did not answer within ${WEBHOOK_DEADLINE_MS / 1000} s`
        : `${url} is not reachable: ${describeError(error)}`,
      fix: fixes.webhook,
    };
  }
  const ms = Math.round(performance.now() - started);
  if (status === 401)
    return { ok: true, detail: `an unsigned POST to ${url} was refused with 401 in ${ms} ms`, fix: null };
  return {
    ok: false,
    detail: `an unsigned POST to ${url} got HTTP ${status} in ${ms} ms (expected 401)`,
    fix: fixes.webhook,
  };
}

const plural = (n: number, atLeast: boolean, noun: string) =>
  `${atLeast ? 'at least ' : ''}${n} ${noun}${n === 1 && !atLeast ? '' : 's'}`;

async function pendingCheck(probes: DoctorProbes, nowMs: number): Promise<Omit<Check, 'name'>> {
  const { documents, tableName } = probes.table;
  const [old, all] = await Promise.all([
    countStatus(documents, tableName, 'pending', {
      maxPerShard: COUNT_PER_SHARD,
      olderThanMs: nowMs - PENDING_TOO_LONG_MS,
    }),
    countStatus(documents, tableName, 'pending', { maxPerShard: COUNT_PER_SHARD }),
  ]);
  const detail = `${plural(old.count, old.atLeast, 'recording')} pending for more than 10 minutes (${plural(all.count, all.atLeast, 'recording')} pending in all)`;
  return old.count === 0 ? { ok: true, detail, fix: null } : { ok: false, detail, fix: probes.fixes.pending };
}

async function failedCheck(probes: DoctorProbes): Promise<Omit<Check, 'name'>> {
  const { count, atLeast } = await countStatus(probes.table.documents, probes.table.tableName, 'failed', {
    maxPerShard: COUNT_PER_SHARD,
  });
  const detail = `${plural(count, atLeast, 'recording')} failed (attempts used up)`;
  return count === 0 ? { ok: true, detail, fix: null } : { ok: false, detail, fix: probes.fixes.failed };
}

function heartbeatCheck(
  job: HeartbeatJob,
  heartbeat: Awaited<ReturnType<DynamoHeartbeats['read']>>,
  probes: DoctorProbes,
  nowMs: number,
): Omit<Check, 'name'> {
  const lateAfterMs = heartbeatLateAfterMs(probes.schedules[job]);
  const fix = job === 'lifecycle' ? probes.fixes.lifecycle : probes.fixes.sweep;
  const what = job === 'lifecycle' ? 'lifecycle run' : 'backfill sweep';
  const ago = (iso: string) => `${Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000))} s ago`;
  if (!heartbeat) {
    // A stack younger than one late period has not had the time to run the job.
    if (nowMs - probes.runningSinceMs < lateAfterMs)
      return {
        ok: true,
        detail: `no ${what} yet: the stack started ${ago(new Date(probes.runningSinceMs).toISOString())}, the first runs within ${Math.round(probes.schedules[job].everyMs / 1000)} s`,
        fix: null,
      };
    return { ok: false, detail: `no ${what} has ever left a heartbeat`, fix };
  }
  const late = nowMs - Date.parse(heartbeat.last_run_at) > lateAfterMs;
  const detail = `last ${what} ${ago(heartbeat.last_run_at)}: ${heartbeat.outcome}${heartbeat.detail ? ` (${heartbeat.detail})` : ''}`;
  if (late)
    return {
      ok: false,
      detail: `${detail}; late (expected every ${Math.round(probes.schedules[job].everyMs / 1000)} s)`,
      fix,
    };
  if (heartbeat.outcome === 'error') return { ok: false, detail, fix };
  return { ok: true, detail, fix: null };
}
