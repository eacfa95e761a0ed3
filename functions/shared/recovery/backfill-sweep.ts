import { setTimeout as sleepFor } from 'node:timers/promises';
import { TransientError } from '../domain/errors.js';
import type { RecordingListPage } from '../domain/vobiz-list.js';
import type { Clock } from '../ingest/ports.js';
import type { KnownRecordings, RecordingLister } from './ports.js';

export interface SweepDependencies {
  vobiz: RecordingLister;
  known: KnownRecordings;
  /** The accept use case without nonces: creates a `pending` record due now, never overwrites one. */
  enqueue: (recordingId: string) => Promise<unknown>;
  clock: Clock;
  /** Page size asked of Vobiz (its maximum is 100). */
  pageSize?: number;
  /** Attempts per page after the client's own retries gave up on 429/5xx (backing off in between). */
  pageAttempts?: number;
  /** Backoff between page attempts when Vobiz gives no Retry-After. */
  pageBackoffMs?: { baseMs: number; maxMs: number };
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface SweepRequest {
  /** Inclusive lower bound on `add_time` (epoch ms): paging stops at the first page that reaches past it. */
  sinceMs: number;
  /** Inclusive upper bound on `add_time`; newer recordings are listed but ignored. */
  untilMs?: number;
  /** Count what would be enqueued, write nothing. */
  dryRun?: boolean;
  /** A bound on the pages read in one sweep (the scheduled sweep's safety net). */
  maxPages?: number;
  signal?: AbortSignal;
  onPage?: (progress: SweepSummary) => void;
}

export type SweepStop = 'window' | 'end' | 'max_pages' | 'aborted' | 'error';

export interface SweepSummary {
  pages: number;
  /**
   * Recordings in the window (each counted once, however often offset paging shows it), including list
   * entries that did not parse but carry a valid recording id.
   */
  found: number;
  /** Recordings we had no record of, now enqueued (or, in a dry run, that would be). */
  enqueued: number;
  /** Of `enqueued`, entries that did not parse, enqueued by their id: the archive reads their metadata itself. */
  enqueuedUnparsed: number;
  alreadyArchived: number;
  /** A pending record exists: the re-drive (or the webhook) is on it. */
  alreadyQueued: number;
  /** A failed record exists: retried only on purpose (`npm run retry`). */
  alreadyFailed: number;
  /**
   * Expired (retention), erased (a tombstone) or on the way there: known, never archived again. A
   * recording deleted at Vobiz is not listed any more, so the sweep does not see it at all.
   */
  alreadyRemoved: number;
  /** List entries that did not parse (with a valid id they are handled like the others, see `enqueuedUnparsed`). */
  malformed: number;
  /** Entries that did not parse and have no valid recording id: nothing can be fetched for them. */
  unidentified: number;
  /** Sanitised, truncated stand-ins for those entries' ids, for logs (at most MAX_UNIDENTIFIED_IDS). */
  unidentifiedIds: string[];
  /** Enqueue writes that failed. */
  errors: number;
  /** The oldest `add_time` seen so far, for progress. */
  oldestSeenMs: number | undefined;
  stoppedBy: SweepStop | undefined;
  error?: string;
  enqueuedIds: string[];
}

const ENQUEUE_CONCURRENCY = 8;
const REMEMBERED_PAGES = 3;
/** `enqueuedIds` is for logs and tests; a history backfill may enqueue far more. */
const MAX_REPORTED_IDS = 1_000;
const MAX_UNIDENTIFIED_IDS = 20;

function isRetryable(error: unknown): boolean {
  // 429, 5xx, timeouts and network errors; not a bad body, bad credentials or a 404.
  return error instanceof TransientError && error.name === 'TransientError';
}

/**
 * Catches recordings whose callback never arrived: pages through List All Recordings (newest first)
 * and enqueues every recording in the window that the table does not know. Offset paging over a list
 * that grows at the front can show an entry twice, never skip one; duplicates are counted once.
 */
export function makeBackfillSweep(deps: SweepDependencies) {
  const pageSize = deps.pageSize ?? 100;
  const pageAttempts = deps.pageAttempts ?? 3;
  const backoff = deps.pageBackoffMs ?? { baseMs: 1_000, maxMs: 60_000 };
  const sleep = deps.sleep ?? ((ms: number, signal?: AbortSignal) => sleepFor(ms, undefined, { signal }));
  const random = deps.random ?? Math.random;

  async function listPage(offset: number, signal: AbortSignal | undefined): Promise<RecordingListPage> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await deps.vobiz.listRecordings({ limit: pageSize, offset, signal });
      } catch (error) {
        if (signal?.aborted || !isRetryable(error) || attempt >= pageAttempts) throw error;
        const hinted = (error as TransientError).retryAfterMs;
        const exponential = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1));
        await sleep(
          hinted !== undefined
            ? Math.min(hinted, backoff.maxMs)
            : Math.round(exponential * (0.5 + random() / 2)),
          signal,
        );
      }
    }
  }

  return async function sweep(request: SweepRequest): Promise<SweepSummary> {
    const untilMs = request.untilMs ?? Number.POSITIVE_INFINITY;
    // Only recent pages can repeat an entry (shifted by new arrivals): remember those, not the whole history.
    const recentPages: Set<string>[] = [];
    const seen = (id: string) => recentPages.some((ids) => ids.has(id));
    const summary = emptySweepSummary();

    try {
      for (let offset = 0; ;) {
        if (request.signal?.aborted) {
          summary.stoppedBy = 'aborted';
          break;
        }
        if (request.maxPages !== undefined && summary.pages >= request.maxPages) {
          summary.stoppedBy = 'max_pages';
          break;
        }
        const page = await listPage(offset, request.signal);
        summary.pages++;
        summary.malformed += page.malformed.length;
        offset += page.entries;

        // An entry that did not parse is still worth its id: the archive fetches trusted metadata anyway.
        // One whose add_time cannot be read cannot be placed in the window, so it is taken rather than lost.
        const entries = [
          ...page.recordings.map((r) => ({ id: r.recording_id, addTimeMs: r.add_time_ms, unparsed: false })),
          ...page.malformed.flatMap((m) =>
            m.recordingId === undefined
              ? []
              : [{ id: m.recordingId, addTimeMs: m.addTimeMs, unparsed: true }],
          ),
        ];
        for (const m of page.malformed.filter((m) => m.recordingId === undefined)) {
          summary.unidentified++;
          if (summary.unidentifiedIds.length < MAX_UNIDENTIFIED_IDS) summary.unidentifiedIds.push(m.label);
        }
        const inWindow = entries.filter(
          (e) =>
            (e.addTimeMs === undefined || (e.addTimeMs >= request.sinceMs && e.addTimeMs <= untilMs)) &&
            !seen(e.id),
        );
        recentPages.push(new Set(entries.map((e) => e.id)));
        if (recentPages.length > REMEMBERED_PAGES) recentPages.shift();
        summary.found += inWindow.length;
        await settle(
          inWindow.map((e) => e.id),
          new Set(inWindow.filter((e) => e.unparsed).map((e) => e.id)),
          request.dryRun ?? false,
          summary,
        );

        const oldest = entries.reduce<number | undefined>(
          (min, e) =>
            e.addTimeMs !== undefined && (min === undefined || e.addTimeMs < min) ? e.addTimeMs : min,
          undefined,
        );
        if (oldest !== undefined) summary.oldestSeenMs = Math.min(summary.oldestSeenMs ?? oldest, oldest);
        request.onPage?.(summary);

        if (oldest !== undefined && oldest < request.sinceMs) {
          summary.stoppedBy = 'window';
          break;
        }
        if (!page.hasMore) {
          summary.stoppedBy = 'end';
          break;
        }
      }
    } catch (error) {
      summary.stoppedBy = request.signal?.aborted ? 'aborted' : 'error';
      summary.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    return summary;
  };

  async function settle(
    ids: string[],
    unparsed: ReadonlySet<string>,
    dryRun: boolean,
    summary: SweepSummary,
  ): Promise<void> {
    if (ids.length === 0) return;
    const statuses = await deps.known.statuses(ids);
    const missing: string[] = [];
    for (const id of ids) {
      const status = statuses.get(id);
      if (status === undefined) missing.push(id);
      else if (status === 'stored') summary.alreadyArchived++;
      else if (status === 'pending') summary.alreadyQueued++;
      else if (status === 'failed') summary.alreadyFailed++;
      else summary.alreadyRemoved++;
    }
    if (dryRun) {
      for (const id of missing) enqueued(summary, id, unparsed);
      return;
    }
    for (let start = 0; start < missing.length; start += ENQUEUE_CONCURRENCY) {
      const chunk = missing.slice(start, start + ENQUEUE_CONCURRENCY);
      const results = await Promise.allSettled(chunk.map((id) => deps.enqueue(id)));
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') enqueued(summary, chunk[i]!, unparsed);
        else summary.errors++;
      });
    }
  }
}

/** A sweep that has read nothing yet. */
export function emptySweepSummary(): SweepSummary {
  return {
    pages: 0,
    found: 0,
    enqueued: 0,
    enqueuedUnparsed: 0,
    alreadyArchived: 0,
    alreadyQueued: 0,
    alreadyFailed: 0,
    alreadyRemoved: 0,
    malformed: 0,
    unidentified: 0,
    unidentifiedIds: [],
    errors: 0,
    oldestSeenMs: undefined,
    stoppedBy: undefined,
    enqueuedIds: [],
  };
}

function enqueued(summary: SweepSummary, id: string, unparsed: ReadonlySet<string>): void {
  summary.enqueued++;
  if (unparsed.has(id)) summary.enqueuedUnparsed++;
  if (summary.enqueuedIds.length < MAX_REPORTED_IDS) summary.enqueuedIds.push(id);
}
