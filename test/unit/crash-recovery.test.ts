import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptySweepSummary } from '../../functions/shared/recovery/backfill-sweep.js';
import { describeRecovery, type RecoveryResult } from '../../local/crash-recovery.js';
import { RECOVERY_MARGIN_MS, RunMarker } from '../../local/run-marker.js';

const directories: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'run-marker-'));
  directories.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const T1 = Date.UTC(2026, 11, 4, 9, 0);
const T2 = T1 + 3_600_000;
const T3 = T2 + 3_600_000;

describe('the local stack remembers whether it stopped cleanly', () => {
  it('a first start and a clean stop leave nothing to recover', () => {
    const dir = dataDir();
    const first = new RunMarker(dir, T1);
    expect(first.previous).toEqual({ clean: true });
    first.running();
    first.stopped();
    expect(new RunMarker(dir, T2).previous).toEqual({ clean: true });
  });

  it('a run that never stopped: the next start sweeps from its start, minus the margin', () => {
    const dir = dataDir();
    new RunMarker(dir, T1).running(); // killed: stopped() never runs
    expect(new RunMarker(dir, T2).previous).toEqual({
      clean: false,
      sinceMs: T1 - RECOVERY_MARGIN_MS,
      pid: process.pid,
      startedAtMs: T1,
    });
  });

  it('sweeps from the last clean start when several runs in a row were killed, until one recovers', () => {
    const dir = dataDir();
    new RunMarker(dir, T1).running(); // clean start, then killed
    const second = new RunMarker(dir, T2);
    second.running(); // killed again before its recovery finished
    const third = new RunMarker(dir, T3);
    expect(third.previous).toMatchObject({ clean: false, sinceMs: T1 - RECOVERY_MARGIN_MS, startedAtMs: T2 });
    third.running();
    third.recovered();
    // Killed after the recovery: only this run's own window is in doubt.
    expect(new RunMarker(dir, T3 + 1_000).previous).toMatchObject({ sinceMs: T3 - RECOVERY_MARGIN_MS });
  });

  it('a clean stop with the recovery still owed keeps the marker, so the next start sweeps again', () => {
    const dir = dataDir();
    new RunMarker(dir, T1).running();
    const second = new RunMarker(dir, T2);
    second.running();
    second.stopped(); // the sweep failed (Vobiz unreachable), then Ctrl-C
    expect(new RunMarker(dir, T3).previous).toMatchObject({ clean: false, sinceMs: T1 - RECOVERY_MARGIN_MS });
  });

  it('a marker cut short by the kill still counts, dated by the file itself', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'running.json'), '{"pid": 12');
    utimesSync(join(dir, 'running.json'), new Date(T1), new Date(T1));
    expect(new RunMarker(dir, T2).previous).toEqual({
      clean: false,
      sinceMs: T1 - RECOVERY_MARGIN_MS,
      pid: undefined,
      startedAtMs: T1,
    });
  });

  it('writes nothing until the run may accept callbacks', () => {
    const dir = dataDir();
    new RunMarker(dir, T1); // a start that failed (port in use, no Java)
    expect(new RunMarker(dir, T2).previous).toEqual({ clean: true });
    const run = new RunMarker(dir, T2);
    run.running();
    expect(JSON.parse(readFileSync(join(dir, 'running.json'), 'utf8'))).toEqual({
      pid: process.pid,
      started_at: new Date(T2).toISOString(),
    });
  });
});

describe('the recovery line', () => {
  const previous = { clean: false as const, sinceMs: T1, pid: 4242, startedAtMs: T1 };
  const result = (sweep: Partial<RecoveryResult['sweep']>, complete: boolean): RecoveryResult => ({
    sinceMs: T1,
    untilMs: T2,
    complete,
    ms: 120,
    sweep: {
      ...emptySweepSummary(),
      pages: 1,
      found: 63,
      enqueued: 4,
      alreadyArchived: 59,
      oldestSeenMs: T1,
      stoppedBy: 'end',
      ...sweep,
    },
  });

  it('says the window, what was listed and inserted, and the leases released', () => {
    expect(describeRecovery(previous, { leasesReleased: 2, checkpointsRewound: 0 }, result({}, true))).toBe(
      "recovery: the last run (pid 4242) did not stop cleanly; swept Vobiz's recordings " +
        '2026-12-04T09:00:00.000Z → 2026-12-04T10:00:00.000Z (no minimum age): 63 listed, 4 inserted, ' +
        '2 leases of dead workers released 120ms',
    );
  });

  it('says when the sweep did not finish and that it runs again', () => {
    const line = describeRecovery(
      previous,
      { leasesReleased: 1, checkpointsRewound: 1 },
      result({ stoppedBy: 'error', error: 'TransientError: Vobiz answered 503' }, false),
    );
    expect(line).toContain('did not finish (TransientError: Vobiz answered 503)');
    expect(line).toContain('1 lease of dead workers released, stream checkpoint moved back past lost writes');
    expect(line).toContain('It runs again at the next start.');
  });
});
