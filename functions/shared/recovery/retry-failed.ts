import type { Actor } from '../domain/actor.js';
import { requestAuditEntry } from '../domain/audit.js';
import type { Clock } from '../ingest/ports.js';
import type { FailedRecordings, ResetResult } from './ports.js';

export interface RetryFailedSummary {
  reset: number;
  /** Changed state since it was listed (e.g. retried by someone else meanwhile). */
  skipped: number;
  errors: number;
}

/**
 * Puts `failed` records back in the queue on purpose: status `pending`, attempts 0, due now. The
 * re-drive then archives them with the full retry budget again.
 */
export function makeRetryFailed(deps: { failed: FailedRecordings; clock: Clock }) {
  return {
    /** One record; with an `actor`, the retry is recorded in the audit trail with it (the HTTP route). */
    one(recordingId: string, options: { actor?: Actor } = {}): Promise<ResetResult> {
      const nowMs = deps.clock.nowMs();
      if (options.actor === undefined) return deps.failed.resetFailed(recordingId, nowMs);
      const audit = requestAuditEntry('retry', recordingId, options.actor, new Date(nowMs).toISOString(), {
        detail: 'failed recording queued again: status pending, attempts 0, due now',
      });
      return deps.failed.resetFailed(recordingId, nowMs, audit);
    },

    async all(
      options: {
        dryRun?: boolean;
        onRecord?: (recordingId: string, result: ResetResult | 'error') => void;
      } = {},
    ): Promise<RetryFailedSummary> {
      const summary: RetryFailedSummary = { reset: 0, skipped: 0, errors: 0 };
      for await (const ids of deps.failed.listFailed()) {
        for (const id of ids) {
          if (options.dryRun) {
            summary.reset++;
            options.onRecord?.(id, 'reset');
            continue;
          }
          let result: ResetResult | 'error';
          try {
            result = await deps.failed.resetFailed(id, deps.clock.nowMs());
          } catch {
            result = 'error';
          }
          if (result === 'reset') summary.reset++;
          else if (result === 'error') summary.errors++;
          else summary.skipped++;
          options.onRecord?.(id, result);
        }
      }
      return summary;
    },
  };
}
