import type { Api, AuditEntry } from './api.js';
import { formatIso } from './format.js';
import { checkBounds, describeBound, localBound, RECORDING_ID } from './search.js';

/**
 * The audit log's filters as the console's URL and as `GET /audit` parameters, and what its entries
 * say (no DOM: unit-tested).
 */
export interface AuditQuery {
  action?: string;
  recording?: string;
  since?: string;
  until?: string;
}

/** Each action in words; the API's names stay in exports and in the URL. */
export const ACTION_LABELS: Record<string, string> = {
  audio_link: 'Audio links (listened or downloaded)',
  legal_hold: 'Legal hold placed',
  legal_hold_release: 'Legal hold released',
  erase: 'Erased',
  expire: 'Audio expired (retention)',
  vobiz_delete: 'Deleted at Vobiz',
  retry: 'Archiving retried',
};

export function auditQueryFromUrl(params: URLSearchParams): AuditQuery {
  const value = (name: string) => params.get(name)?.trim() || undefined;
  return {
    action: value('action'),
    recording: value('recording'),
    since: value('since'),
    until: value('until'),
  };
}

export function auditQueryToUrl(query: AuditQuery): Record<string, string> {
  const params: Record<string, string> = { view: 'audit' };
  for (const name of ['action', 'recording', 'since', 'until'] as const) {
    const value = query[name];
    if (value) params[name] = value;
  }
  return params;
}

export function checkAuditQuery(query: AuditQuery): string[] {
  const problems: string[] = [];
  if (query.action !== undefined && !Object.hasOwn(ACTION_LABELS, query.action))
    problems.push('Action: pick one from the list.');
  if (query.recording !== undefined && !RECORDING_ID.test(query.recording))
    problems.push('Recording ID: letters, digits, "-" and "_" only.');
  problems.push(...checkBounds(query.since, query.until));
  return problems;
}

/** The `GET /audit` parameters of a query (without limit and cursor). */
export function auditApiParams(query: AuditQuery): Record<string, string> {
  const params: Record<string, string> = {};
  if (query.action) params.action = query.action;
  if (query.recording) params.recording_id = query.recording;
  if (query.since) params.since = String(localBound(query.since, 'start'));
  if (query.until) params.until = String(localBound(query.until, 'end'));
  return params;
}

/** Every page of a filtered audit listing, 100 entries a request, until the end or the signal. */
export async function* auditPages(
  api: Api,
  params: Record<string, string>,
  signal?: AbortSignal,
): AsyncIterable<AuditEntry[]> {
  let cursor: string | null = null;
  do {
    signal?.throwIfAborted();
    const page = await api.listAudit({ ...params, limit: '100', ...(cursor ? { cursor } : {}) }, signal);
    if (page.items.length > 0) yield page.items;
    cursor = page.next_cursor;
  } while (cursor);
}

/** What an entry says besides its action: the reason given, or how the audio was handed out. */
export function entryDetail(entry: AuditEntry): string {
  if (entry.action === 'audio_link') {
    const how = entry.download === true ? 'download link' : 'link to play';
    const via =
      entry.variant === 'json'
        ? 'JSON (the console, scripts)'
        : entry.variant === 'redirect'
          ? 'redirect (a browser, curl)'
          : '';
    return `${how}${via ? ` via ${via}` : ''}${entry.link_expires_at ? `, valid until ${formatIso(entry.link_expires_at)}` : ''}`;
  }
  return typeof entry.detail === 'string' ? entry.detail : '';
}

export function describeAuditQuery(query: AuditQuery): string {
  const parts: string[] = [];
  if (query.action) parts.push(ACTION_LABELS[query.action] ?? query.action);
  if (query.recording) parts.push(`recording ${query.recording}`);
  if (query.since && query.until)
    parts.push(`${describeBound(query.since)} to ${describeBound(query.until)}`);
  else if (query.since) parts.push(`since ${describeBound(query.since)}`);
  else if (query.until) parts.push(`until ${describeBound(query.until)}`);
  return parts.length === 0 ? 'Audit log, newest first' : `Audit log: ${parts.join(', ')}`;
}
