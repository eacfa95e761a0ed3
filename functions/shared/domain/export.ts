/**
 * Exports of a result set (all pages of `GET /recordings` or `GET /audit`) as CSV or JSON Lines, the
 * same from the command line (`vobiz-archive query --all --csv`) and the console's browser export: pure
 * TypeScript without imports, so that the console can bundle it. The column names are the API's field
 * names; JSON Lines carries every field of each item.
 */
export const RECORDING_EXPORT_COLUMNS = [
  'recording_id',
  'status',
  'add_time',
  'call_uuid',
  'from_number',
  'to_number',
  'recording_duration_ms',
  'recording_format',
  'size_bytes',
  'sha256',
  'archived_at',
  'legal_hold',
  'vobiz_deleted_at',
  'expired_at',
  'erased_at',
] as const;

/** An object field (the audit actor `{arn, cognito_identity_id?, user_sub?}`) is written as its JSON. */
export const AUDIT_EXPORT_COLUMNS = [
  'time',
  'action',
  'recording_id',
  'outcome',
  'actor',
  'detail',
  'audit_id',
] as const;

export type ExportFormat = 'csv' | 'jsonl';

/** Which columns a listing's items get: audit entries for `/audit`, recordings for everything else. */
export function exportColumnsFor(path: string): readonly string[] {
  const route = `/${path.split('?')[0]!.replace(/^\/+|\/+$/g, '')}`;
  return route === '/audit' ? AUDIT_EXPORT_COLUMNS : RECORDING_EXPORT_COLUMNS;
}

const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?$/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break. A text a spreadsheet
 * would run as a formula (starting with =, +, -, @, tab or CR, and not a plain number such as a phone
 * number "+919876543210") gets a leading apostrophe: caller ids come from the telephone network.
 */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeader(columns: readonly string[]): string {
  return `${columns.map(csvCell).join(',')}\r\n`;
}

export function csvRow(item: Record<string, unknown>, columns: readonly string[]): string {
  return `${columns.map((column) => csvCell(item[column])).join(',')}\r\n`;
}

export function jsonLine(item: Record<string, unknown>): string {
  return `${JSON.stringify(item)}\n`;
}

/** A page of items in the export format (the CSV header is written once, before the first page). */
export function exportPage(
  items: readonly Record<string, unknown>[],
  format: ExportFormat,
  columns: readonly string[],
): string {
  return items.map((item) => (format === 'csv' ? csvRow(item, columns) : jsonLine(item))).join('');
}
