import type { AuditEntry, Recording } from './api.js';

/**
 * Exports of a whole result set (every page, not just those on screen) as CSV or JSON Lines, streamed
 * page by page: each page becomes a piece of the file as it arrives (export-control.ts shows progress
 * and a cancel button); the browser saves the file when the last page is in. No DOM: unit-tested.
 */
export type ExportFormat = 'csv' | 'jsonl';

export interface ExportColumn<T> {
  name: string;
  /** What the column holds, for the docs (docs/guides/console.md lists them; a test compares). */
  description: string;
  value: (row: T) => unknown;
}

const field =
  <T extends Record<string, unknown>>(name: string) =>
  (row: T) =>
    row[name];

function column<T extends Record<string, unknown>>(name: string, description: string): ExportColumn<T> {
  return { name, description, value: field<T>(name) };
}

/** The CSV columns of a recordings export; JSON Lines carries every field of each record instead. */
export const RECORDING_COLUMNS: readonly ExportColumn<Recording>[] = [
  column('recording_id', 'Vobiz recording id'),
  column('status', 'pending, stored, failed, expiring, expired, erasing or erased'),
  column('add_time', 'when Vobiz recorded it (ISO-8601, UTC)'),
  column('from_number', 'caller, as Vobiz wrote it'),
  column('to_number', 'called number, as Vobiz wrote it'),
  column('call_uuid', 'the call the recording belongs to'),
  column('recording_duration_ms', 'duration in milliseconds'),
  column('recording_format', 'mp3 or wav'),
  column('recording_type', 'Vobiz recording type'),
  column('size_bytes', 'size of the archived audio'),
  column('sha256', 'SHA-256 of the archived audio (hex)'),
  column('archived_at', 'when the archive stored the audio'),
  column('legal_hold', 'true while on legal hold'),
  column('legal_hold_at', 'when the hold was placed'),
  column('legal_hold_by', 'who placed it'),
  column('legal_hold_reason', 'the reference given with it'),
  column('vobiz_deleted_at', "when Vobiz's copy was deleted"),
  column('expired_at', 'when retention removed the audio'),
  column('erased_at', 'when it was erased'),
  column('erased_by', 'who erased it'),
  column('erasure_reason', 'the reference given for the erasure'),
  column('attempts', 'archive attempts so far'),
  column('last_error', 'why the last attempt failed'),
  column('account_id', 'Vobiz account'),
];

/** The CSV columns of an audit export. */
export const AUDIT_COLUMNS: readonly ExportColumn<AuditEntry>[] = [
  column('time', 'when (ISO-8601, UTC)'),
  column('action', 'legal_hold, legal_hold_release, erase, expire, vobiz_delete, retry or audio_link'),
  column('recording_id', 'the recording acted on'),
  column('actor', 'who: the IAM principal, an operator, system, or the local stack'),
  column('outcome', 'done or refused'),
  column('detail', 'reason, reference, what was verified'),
  column('variant', 'audio_link: redirect or json'),
  column('download', 'audio_link: true for a download link, false for one to play'),
  column('link_expires_at', 'audio_link: when the link stopped working'),
  column('audit_id', 'the entry id'),
];

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. A text that a spreadsheet
 * would run as a formula (it starts with = + - @, a tab or a return) gets a leading `'`, except plain
 * numbers such as `+919812340060`, which are data (OWASP's CSV injection advice).
 */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^[+-]?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/** The text of one page of rows: CSV lines of the columns, or one JSON object per line. */
export function encodePage<T>(
  rows: readonly T[],
  format: ExportFormat,
  columns: readonly ExportColumn<T>[],
): string {
  if (format === 'jsonl') return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
  return rows.map((row) => csvLine(columns.map((c) => c.value(row)))).join('');
}

export interface ExportRun<T> {
  format: ExportFormat;
  columns: readonly ExportColumn<T>[];
  /** Page after page of the whole result set; it stops when the signal aborts. */
  pages: (signal: AbortSignal) => AsyncIterable<T[]>;
  signal: AbortSignal;
  onProgress?: (rows: number, pages: number) => void;
}

/** Reads every page into the pieces of one file; the Blob is what the browser saves. */
export async function collectExport<T>(run: ExportRun<T>): Promise<{ blob: Blob; rows: number }> {
  const parts: Blob[] = [];
  if (run.format === 'csv') parts.push(new Blob([csvLine(run.columns.map((c) => c.name))]));
  let rows = 0;
  let pages = 0;
  for await (const page of run.pages(run.signal)) {
    run.signal.throwIfAborted();
    parts.push(new Blob([encodePage(page, run.format, run.columns)]));
    rows += page.length;
    run.onProgress?.(rows, ++pages);
  }
  const type = run.format === 'csv' ? 'text/csv;charset=utf-8' : 'application/x-ndjson;charset=utf-8';
  return { blob: new Blob(parts, { type }), rows };
}

/** `recordings-20261205-1030.csv`: what, and when it was exported (local time). */
export function exportFileName(what: string, format: ExportFormat, now = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${two(now.getMonth() + 1)}${two(now.getDate())}-${two(now.getHours())}${two(now.getMinutes())}`;
  return `${what}-${stamp}.${format}`;
}
