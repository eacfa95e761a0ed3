import { ApiError, describeError, type Api, type AuditEntry } from './api.js';
import {
  ACTION_LABELS,
  auditApiParams,
  auditPages,
  checkAuditQuery,
  describeAuditQuery,
  entryDetail,
  type AuditQuery,
} from './audit-query.js';
import { h, replace } from './dom.js';
import { exportControl } from './export-control.js';
import { AUDIT_COLUMNS } from './export.js';
import { describeActor, formatIso, timeZoneLabel } from './format.js';
import { boundField, listFooter, noticeBox } from './views.js';

/*
 * The audit log in the console (`GET /audit`): filtered by action, time and recording, newest first,
 * page by page, every entry linking to its recording; and on a recording's page, who listened to or
 * downloaded it. Administrators only (the reviewers' role cannot call `GET /audit`).
 */

/** A link inside the console: its URL parameters and text (main.ts navigates without reloading). */
export type ConsoleLink = (params: Record<string, string>, text: string, title?: string) => HTMLAnchorElement;

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
    listFooter(footer, shown, 'end of the log', cursor === null ? undefined : load);
  };
  replace(results, heading, h('p', { class: 'loading' }, 'Loading…'));
  void load();
  return view;
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
