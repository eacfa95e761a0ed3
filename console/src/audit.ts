import { ApiError, describeError, type Api, type AuditEntry } from './api.js';
import { h, replace } from './dom.js';
import { AUDIT_COLUMNS, exportControl } from './export.js';
import { describeActor, formatIso, timeZoneLabel } from './format.js';
import { checkBounds, describeBound, localBound, RECORDING_ID } from './search.js';
import { boundField, noticeBox } from './views.js';

/**
 * The audit log in the console (`GET /audit`): filtered by action, time and recording, newest first,
 * page by page, every entry linking to its recording; and on a recording's page, who listened to or
 * downloaded it. Administrators only (the reviewers' role cannot call `GET /audit`).
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

/** A link inside the console: its URL parameters and text (main.ts navigates without reloading). */
export type ConsoleLink = (params: Record<string, string>, text: string, title?: string) => HTMLAnchorElement;

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
      entry.variant === 'json' ? 'console or script (JSON)' : entry.variant === 'redirect' ? 'redirect' : '';
    return `${how}${via ? ` via ${via}` : ''}${entry.link_expires_at ? `, valid until ${formatIso(entry.link_expires_at)}` : ''}`;
  }
  return typeof entry.detail === 'string' ? entry.detail : '';
}

function actionLabel(entry: AuditEntry): string {
  if (entry.action === 'audio_link') return entry.download === true ? 'Download link' : 'Play link';
  const label = ACTION_LABELS[entry.action] ?? entry.action;
  return entry.outcome === 'refused' ? `${label}: refused` : label;
}

function entryRow(entry: AuditEntry, link: ConsoleLink) {
  const who = describeActor(entry.actor);
  const cell = (label: string, value: Node | string, className?: string) =>
    h('td', { 'data-label': label, class: className }, value);
  return h(
    'tr',
    { 'data-audit-id': entry.audit_id, 'data-action': entry.action },
    cell('Time', formatIso(entry.time)),
    cell('Action', h('span', { class: `audit-action audit-${entry.outcome}` }, actionLabel(entry))),
    cell('Recording', link({ id: entry.recording_id }, entry.recording_id, 'Open this recording')),
    cell('Who', h('span', { title: who.title }, who.label)),
    cell('Details', entryDetail(entry), 'detail'),
  );
}

function auditTable() {
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'results audit' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, `Time (${timeZoneLabel()})`),
        h('th', { scope: 'col' }, 'Action'),
        h('th', { scope: 'col' }, 'Recording'),
        h('th', { scope: 'col' }, 'Who'),
        h('th', { scope: 'col' }, 'Details'),
      ),
    ),
    body,
  );
  return { table, body };
}

/** The audit log page: its filter form, the entries newest first with "Load more", and the export. */
export function auditView(options: {
  api: Api;
  query: AuditQuery;
  link: ConsoleLink;
  search: (query: AuditQuery) => void;
}): HTMLElement {
  const { api, query, link } = options;
  const action = h(
    'select',
    { id: 'a-action', name: 'action' },
    h('option', { value: '' }, 'any action'),
    Object.entries(ACTION_LABELS).map(([value, label]) => h('option', { value }, label)),
  );
  action.value = query.action ?? '';
  const recording = h('input', {
    id: 'a-recording',
    name: 'recording',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'any recording',
    value: query.recording ?? '',
  });
  const since = boundField('a-since', 'From');
  const until = boundField('a-until', 'To');
  since.fill(query.since);
  until.fill(query.until);
  const problems = h('div', { class: 'problems', role: 'alert', hidden: true });
  const form = h(
    'form',
    {
      class: 'search',
      role: 'search',
      'aria-label': 'Filter the audit log',
      onsubmit: (event) => {
        event.preventDefault();
        const next: AuditQuery = {
          action: action.value || undefined,
          recording: recording.value.trim() || undefined,
          since: since.read(),
          until: until.read(),
        };
        const found = checkAuditQuery(next);
        replace(
          problems,
          found.map((p) => h('p', null, p)),
        );
        problems.hidden = found.length === 0;
        if (found.length === 0) options.search(next);
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'a-action' }, 'Action'), action),
    h('div', { class: 'field call' }, h('label', { for: 'a-recording' }, 'Recording ID'), recording),
    since.element,
    until.element,
    h('div', { class: 'field submit' }, h('button', { type: 'submit', class: 'primary' }, 'Show')),
    problems,
  );
  const results = h('section', { class: 'results-view', 'aria-live': 'polite' });
  const view = h(
    'div',
    { class: 'audit-view' },
    h('section', { class: 'search-panel', 'aria-label': 'Filter' }, form),
    results,
  );

  const found = checkAuditQuery(query);
  if (found.length > 0) {
    replace(
      problems,
      found.map((p) => h('p', null, p)),
    );
    problems.hidden = false;
    return view;
  }
  const params = auditApiParams(query);
  const heading = h('h2', null, describeAuditQuery(query));
  const { table, body } = auditTable();
  const footer = h('div', { class: 'results-footer' });
  const exporter = exportControl<AuditEntry>({
    what: 'audit',
    noun: 'audit entries',
    columns: AUDIT_COLUMNS,
    pages: (signal) => auditPages(api, params, signal),
    describeError: (error) => {
      const { title, detail } = describeError(error);
      return `${title} ${detail}`;
    },
  });
  let cursor: string | null = null;
  let shown = 0;
  const load = async (): Promise<void> => {
    try {
      const page = await api.listAudit({ ...params, limit: '50', ...(cursor ? { cursor } : {}) });
      for (const entry of page.items) body.append(entryRow(entry, link));
      shown += page.items.length;
      cursor = page.next_cursor;
    } catch (error) {
      replace(
        footer,
        errorNotice(error, () => void load()),
      );
      return;
    }
    if (shown === 0 && cursor === null) {
      replace(results, heading, h('p', { class: 'empty' }, 'No audit entries match.'));
      return;
    }
    replace(results, heading, h('div', { class: 'table-wrap' }, table), footer, exporter);
    const count = h('span', { class: 'count' }, `${shown} shown`);
    if (cursor === null) replace(footer, count, h('span', { class: 'end' }, ' · end of the log'));
    else {
      const more: HTMLButtonElement = h(
        'button',
        {
          type: 'button',
          class: 'more',
          onclick: () => {
            more.disabled = true;
            more.textContent = 'Loading…';
            void load();
          },
        },
        'Load more',
      );
      replace(footer, count, more);
    }
  };
  replace(results, heading, h('p', { class: 'loading' }, 'Loading…'));
  void load();
  return view;
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

function errorNotice(error: unknown, retry: () => void): HTMLElement {
  if (error instanceof ApiError && error.status === 403)
    return noticeBox(
      'error',
      'The audit log is for administrators.',
      'Your account is in the reviewers group, which may search, play and download recordings only.',
    );
  const { title, detail } = describeError(error);
  return noticeBox('error', title, detail, h('button', { type: 'button', onclick: retry }, 'Try again'));
}

/**
 * "Listened/downloaded by" on a recording's page: the newest audio links handed out for it, each with
 * who, when and how, and a link to all of them in the audit log. `load` reads them (after the page's
 * own player link, so that it is among them).
 */
export function listenedBy(
  api: Api,
  recordingId: string,
  link: ConsoleLink,
): { element: HTMLElement; load: () => Promise<void> } {
  const list = h('div', { class: 'listened-list' }, h('p', { class: 'loading' }, 'Loading…'));
  const element = h(
    'section',
    { class: 'listened', 'aria-labelledby': 'listened-title' },
    h('h3', { id: 'listened-title' }, 'Listened/downloaded by'),
    list,
  );
  const limit = 20;
  const all = () =>
    link({ view: 'audit', recording: recordingId, action: 'audio_link' }, 'All of them in the audit log');
  const load = async () => {
    let page;
    try {
      page = await api.listAudit({ recording_id: recordingId, action: 'audio_link', limit: String(limit) });
    } catch (error) {
      replace(
        list,
        errorNotice(error, () => void load()),
      );
      return;
    }
    if (page.items.length === 0) {
      replace(list, h('p', { class: 'empty' }, 'No audio link has been handed out for this recording yet.'));
      return;
    }
    replace(
      list,
      h(
        'ul',
        null,
        page.items.map((entry) => {
          const who = describeActor(entry.actor);
          return h(
            'li',
            { 'data-audit-id': entry.audit_id },
            h('span', { class: 'when' }, formatIso(entry.time)),
            ' · ',
            h('span', { class: 'who', title: who.title }, who.label),
            ' · ',
            h('span', { class: 'how' }, entry.download === true ? 'download link' : 'play link'),
          );
        }),
      ),
      page.next_cursor ? h('p', { class: 'hint' }, `The newest ${limit}. `, all()) : all(),
    );
  };
  return { element, load };
}
