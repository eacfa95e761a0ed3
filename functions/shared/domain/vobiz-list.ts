import type { VobizRecording } from './recording.js';
import { parseVobizRecording } from './vobiz-schema.js';

/** One page of List All Recordings, parsed entry by entry: a bad entry is reported, never fatal. */
export interface RecordingListPage {
  recordings: VobizRecording[];
  malformed: { recordingId: string | undefined; error: string }[];
  /** Entries on the page, good or bad (an empty page ends the listing). */
  entries: number;
  /** Whether a later page exists: from `meta.next` when present, else from `total_count`, else a full page. */
  hasMore: boolean;
  totalCount: number | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses a List All Recordings body. The documented shape is `{api_id, meta, objects: [...]}`; an older
 * version of the docs shows `recordings: [...]`, so both are accepted. Returns undefined when the body
 * has neither (the caller treats that as an integrity error of the whole page).
 */
export function parseRecordingListPage(
  body: unknown,
  request: { limit: number; offset: number },
): RecordingListPage | undefined {
  if (!isObject(body)) return undefined;
  const entries = Array.isArray(body.objects)
    ? body.objects
    : Array.isArray(body.recordings)
      ? body.recordings
      : undefined;
  if (!entries) return undefined;

  const recordings: VobizRecording[] = [];
  const malformed: RecordingListPage['malformed'] = [];
  for (const entry of entries as unknown[]) {
    const parsed = parseVobizRecording(entry);
    if (parsed.ok) recordings.push(parsed.value);
    else {
      const id =
        isObject(entry) && typeof entry.recording_id === 'string'
          ? entry.recording_id.slice(0, 128)
          : undefined;
      malformed.push({ recordingId: id, error: parsed.error });
    }
  }

  const meta = isObject(body.meta) ? body.meta : undefined;
  const totalCount =
    typeof meta?.total_count === 'number' && Number.isFinite(meta.total_count) ? meta.total_count : undefined;
  let hasMore: boolean;
  if (meta && 'next' in meta && (meta.next === null || typeof meta.next === 'string'))
    hasMore = Boolean(meta.next);
  else if (totalCount !== undefined) hasMore = request.offset + entries.length < totalCount;
  else hasMore = entries.length >= request.limit;
  if (entries.length === 0) hasMore = false;

  return { recordings, malformed, entries: entries.length, hasMore, totalCount };
}
