import { isValidRecordingId, type VobizRecording } from './recording.js';
import { parseVobizRecording, parseVobizTimestamp } from './vobiz-schema.js';

/** A list entry that did not parse: what can still be used of it. */
export interface MalformedListEntry {
  /** The entry's recording id when it is a valid one: enough to enqueue it (the archive fetches the metadata). */
  recordingId: string | undefined;
  /** Its `add_time` when readable, to place it in a time window. */
  addTimeMs: number | undefined;
  /** For logs: the valid id, else a sanitised, truncated stand-in (never the raw entry). */
  label: string;
  error: string;
}

/** One page of List All Recordings, parsed entry by entry: a bad entry is reported, never fatal. */
export interface RecordingListPage {
  recordings: VobizRecording[];
  malformed: MalformedListEntry[];
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
    else malformed.push(describeMalformed(entry, parsed.error));
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

const LABEL_CHARS = 64;

function describeMalformed(entry: unknown, error: string): MalformedListEntry {
  if (!isObject(entry))
    return { recordingId: undefined, addTimeMs: undefined, label: '(not an object)', error };
  const rawId = entry.recording_id;
  const recordingId = isValidRecordingId(rawId) ? rawId : undefined;
  const addTimeMs = typeof entry.add_time === 'string' ? parseVobizTimestamp(entry.add_time) : undefined;
  let label: string;
  if (recordingId) label = recordingId;
  else if (typeof rawId === 'string') {
    const safe = rawId.replace(/[^A-Za-z0-9_-]/g, '?');
    label = safe.length > LABEL_CHARS ? `${safe.slice(0, LABEL_CHARS)}…` : safe || '(empty recording_id)';
  } else label = '(no recording_id)';
  return { recordingId, addTimeMs, label, error };
}
