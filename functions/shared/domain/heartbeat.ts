import { TABLE_KEYS } from './table.js';

/**
 * Heartbeats: each scheduled job leaves one item saying when it last ran and how that went, so that
 * `vobiz-archive doctor` can tell a job that stopped running (a disabled schedule, a function that
 * crashes before its end) from one that simply had nothing to do. One item per job, overwritten by every
 * run: `HEARTBEAT#<job>` / `HEARTBEAT`, in no index, never expiring.
 */
export const HEARTBEAT_JOBS = ['backfill-sweep', 'lifecycle'] as const;
export type HeartbeatJob = (typeof HEARTBEAT_JOBS)[number];

/** `ok`: the run finished; `error`: it ended with an error (`detail` says which); `off`: switched off by a setting. */
export type HeartbeatOutcome = 'ok' | 'error' | 'off';

export interface Heartbeat {
  job: HeartbeatJob;
  /** When the run ended (ISO-8601). */
  last_run_at: string;
  outcome: HeartbeatOutcome;
  /** A short, secret-free summary of the run (counts, or the error's name and message). */
  detail?: string;
  /** When a run last ended `ok` (kept across runs that did not). */
  last_ok_at?: string;
}

export const HEARTBEAT_PARTITION_PREFIX = 'HEARTBEAT#';

export function heartbeatKeys(job: HeartbeatJob): Record<string, string> {
  return {
    [TABLE_KEYS.partitionKey]: `${HEARTBEAT_PARTITION_PREFIX}${job}`,
    [TABLE_KEYS.sortKey]: 'HEARTBEAT',
  };
}

/** How each job is scheduled in AWS (infra/redrive.ts, infra/lifecycle.ts) and how long one run may take. */
export const HEARTBEAT_SCHEDULES: Record<HeartbeatJob, { everyMs: number; timeoutMs: number }> = {
  'backfill-sweep': { everyMs: 60_000, timeoutMs: 15 * 60_000 },
  lifecycle: { everyMs: 5 * 60_000, timeoutMs: 4 * 60_000 },
};

/**
 * A heartbeat is late when no run ended within three schedule periods plus one run's time: one missed
 * or slow run is not a stopped job.
 */
export function heartbeatLateAfterMs(schedule: { everyMs: number; timeoutMs: number }): number {
  return 3 * schedule.everyMs + schedule.timeoutMs;
}
