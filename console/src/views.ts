import type { Recording } from './api.js';
import { h } from './dom.js';
import {
  describeActor,
  formatDuration,
  formatIso,
  formatSize,
  formatTime,
  recordTimeMs,
  timeZoneLabel,
} from './format.js';
import { describeBound, STATUSES, type SearchQuery } from './search.js';

/**
 * A date with an optional time of day, as the URL writes it: `2025-11-06` or `2025-11-06T09:30`. Two
 * inputs side by side (date, time); the time may stay empty.
 */
export function boundField(id: string, label: string) {
  const date = h('input', { id, name: id, type: 'date' });
  const time = h('input', {
    id: `${id}-time`,
    name: `${id}-time`,
    type: 'time',
    'aria-label': `${label}: time of day (optional)`,
  });
  return {
    element: h(
      'div',
      { class: 'field bound' },
      h('label', { for: id }, label),
      h('div', { class: 'joined' }, date, time),
    ),
    read(): string | undefined {
      if (!date.value && !time.value) return undefined;
      return time.value ? `${date.value}T${time.value.slice(0, 5)}` : date.value;
    },
    fill(value: string | undefined) {
      const [day = '', clock = ''] = (value ?? '').split('T');
      date.value = day;
      time.value = clock;
    },
  };
}

/** The search form; `onSearch` gets the query as typed (checked by the caller). */
export function searchForm(onSearch: (query: SearchQuery) => void, onOpen: (id: string) => void) {
  const number = h('input', {
    id: 'q-number',
    name: 'number',
    type: 'text',
    inputmode: 'tel',
    autocomplete: 'off',
    placeholder: '+919876543210',
  });
  const direction = h(
    'select',
    { id: 'q-dir', name: 'dir', 'aria-label': 'Direction' },
    h('option', { value: 'any' }, 'from or to'),
    h('option', { value: 'from' }, 'caller (from)'),
    h('option', { value: 'to' }, 'called (to)'),
  );
  const call = h('input', {
    id: 'q-call',
    name: 'call',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const since = boundField('q-since', 'From');
  const until = boundField('q-until', 'To');
  const status = h(
    'select',
    { id: 'q-status', name: 'status' },
    h('option', { value: '' }, 'any'),
    STATUSES.map((s) => h('option', { value: s }, s)),
  );
  const problems = h('div', { class: 'problems', role: 'alert', hidden: true });
  const read = (): SearchQuery => ({
    number: number.value.trim() || undefined,
    direction: direction.value as SearchQuery['direction'],
    callUuid: call.value.trim() || undefined,
    since: since.read(),
    until: until.read(),
    status: status.value || undefined,
  });
  const form = h(
    'form',
    {
      class: 'search',
      role: 'search',
      onsubmit: (event) => {
        event.preventDefault();
        onSearch(read());
      },
    },
    h(
      'div',
      { class: 'field number' },
      h('label', { for: 'q-number' }, 'Phone number'),
      h('div', { class: 'joined' }, number, direction),
    ),
    h('div', { class: 'field call' }, h('label', { for: 'q-call' }, 'Call UUID'), call),
    since.element,
    until.element,
    h('div', { class: 'field' }, h('label', { for: 'q-status' }, 'Status'), status),
    h('div', { class: 'field submit' }, h('button', { type: 'submit', class: 'primary' }, 'Search')),
    problems,
  );
  const idInput = h('input', {
    id: 'q-id',
    name: 'id',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'recording id',
    'aria-label': 'Recording ID',
  });
  const openForm = h(
    'form',
    {
      class: 'open-id',
      onsubmit: (event) => {
        event.preventDefault();
        if (idInput.value.trim()) onOpen(idInput.value.trim());
      },
    },
    h('label', { for: 'q-id' }, 'Open a recording by ID'),
    idInput,
    h('button', { type: 'submit' }, 'Open'),
  );
  return {
    element: h('section', { class: 'search-panel', 'aria-label': 'Search' }, form, openForm),
    fill(query: SearchQuery) {
      number.value = query.number ?? '';
      direction.value = query.direction;
      call.value = query.callUuid ?? '';
      since.fill(query.since);
      until.fill(query.until);
      status.value = query.status ?? '';
    },
    showProblems(list: string[]) {
      problems.replaceChildren(...list.map((p) => h('p', null, p)));
      problems.hidden = list.length === 0;
    },
  };
}

export function describeQuery(query: SearchQuery): string {
  const parts: string[] = [];
  if (query.number)
    parts.push(
      query.direction === 'from'
        ? `calls from ${query.number}`
        : query.direction === 'to'
          ? `calls to ${query.number}`
          : `calls from or to ${query.number}`,
    );
  if (query.callUuid) parts.push(`call ${query.callUuid}`);
  if (query.since && query.until)
    parts.push(`${describeBound(query.since)} to ${describeBound(query.until)}`);
  else if (query.since) parts.push(`since ${describeBound(query.since)}`);
  else if (query.until) parts.push(`until ${describeBound(query.until)}`);
  if (query.status) parts.push(`status ${query.status}`);
  return parts.length === 0 ? 'Newest recordings' : `Recordings: ${parts.join(', ')}`;
}

export function statusBadge(status: string) {
  return h('span', { class: `status status-${/^[a-z]+$/.test(status) ? status : 'other'}` }, status);
}

/** The status and what else a person must see at a glance: on legal hold, deleted at Vobiz. */
export function recordBadges(record: Recording) {
  return h(
    'span',
    { class: 'badges' },
    statusBadge(record.status),
    record.legal_hold === true
      ? h(
          'span',
          { class: 'badge badge-hold', title: 'On legal hold: nothing removes the audio' },
          'legal hold',
        )
      : null,
    typeof record.vobiz_deleted_at === 'string'
      ? h(
          'span',
          { class: 'badge badge-vobiz', title: `Deleted at Vobiz on ${formatIso(record.vobiz_deleted_at)}` },
          'deleted at Vobiz',
        )
      : null,
  );
}

export function resultsTable() {
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'results' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, `Time (${timeZoneLabel()})`),
        h('th', { scope: 'col' }, 'From'),
        h('th', { scope: 'col' }, 'To'),
        h('th', { scope: 'col', class: 'num' }, 'Duration'),
        h('th', { scope: 'col' }, 'Format'),
        h('th', { scope: 'col', class: 'num' }, 'Size'),
        h('th', { scope: 'col' }, 'Status'),
      ),
    ),
    body,
  );
  return { table, body };
}

export function resultRow(record: Recording, href: string, open: () => void) {
  const cell = (label: string, value: Node | string, className?: string) =>
    h('td', { 'data-label': label, class: className }, value);
  const link = h(
    'a',
    {
      href,
      class: 'open',
      onclick: (event) => {
        const e = event as MouseEvent;
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return; // new tab: let the browser do it
        event.preventDefault();
        open();
      },
    },
    formatTime(recordTimeMs(record)),
  );
  const row = h(
    'tr',
    {
      'data-id': record.recording_id,
      onclick: (event) => {
        if ((event.target as Element).closest('a')) return;
        open();
      },
    },
    cell('Time', link),
    cell('From', text(record.from_number)),
    cell('To', text(record.to_number)),
    cell('Duration', formatDuration(record.recording_duration_ms), 'num'),
    cell('Format', text(record.recording_format)),
    cell('Size', formatSize(record.size_bytes), 'num'),
    cell('Status', recordBadges(record)),
  );
  return row;
}

/**
 * The foot of a paged list: how many rows are shown, then "· end of …" or **Load more** (disabled and
 * saying so while `more` runs).
 */
export function listFooter(
  footer: HTMLElement,
  shown: number,
  end: string,
  more: (() => Promise<void>) | undefined,
): void {
  const count = h('span', { class: 'count' }, `${shown} shown`);
  if (!more) {
    footer.replaceChildren(count, h('span', { class: 'end' }, ` · ${end}`));
    return;
  }
  const button: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      class: 'more',
      onclick: () => {
        button.disabled = true;
        button.textContent = 'Loading…';
        void more();
      },
    },
    'Load more',
  );
  footer.replaceChildren(count, button);
}

export function text(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : '—';
}

/** A boxed message: a bold headline, the detail, and optionally an action or the thing it is about. */
export function noticeBox(
  tone: 'info' | 'warn' | 'error',
  title: string,
  detail: string,
  extra?: Node,
  role: 'alert' | 'status' = 'alert',
) {
  return h(
    'div',
    { class: `notice notice-${tone}`, role },
    h('strong', null, title),
    ' ',
    detail,
    extra ? [' ', extra] : null,
  );
}

/** What the status means for the audio, in words; undefined for a stored recording. */
export function statusNotice(
  record: Recording,
): { tone: 'info' | 'warn' | 'error'; title: string; detail: string } | undefined {
  const attempts = typeof record.attempts === 'number' ? record.attempts : undefined;
  const lastError = typeof record.last_error === 'string' ? record.last_error : undefined;
  const when = (value: unknown) => (typeof value === 'string' ? formatTime(Date.parse(value)) : undefined);
  if (record.erased_at !== undefined || record.status === 'erased') {
    const at = when(record.erased_at);
    return {
      tone: 'info',
      title: 'Erased',
      detail: `This recording was erased${at ? ` on ${at}` : ''}. Only a tombstone is kept: no audio and no personal data.`,
    };
  }
  switch (record.status) {
    case 'stored':
      return undefined;
    case 'pending': {
      const next = when(record.next_attempt_at);
      return {
        tone: 'info',
        title: 'Not archived yet',
        detail:
          `The archive is still fetching this recording from Vobiz${attempts ? ` (${attempts} attempt${attempts === 1 ? '' : 's'} so far)` : ''}` +
          `${next ? `; next attempt at ${next}` : ''}. It retries by itself.${lastError ? ` Last error: ${lastError}` : ''}`,
      };
    }
    case 'failed':
      return {
        tone: 'error',
        title: 'Archiving failed',
        detail:
          `The archive gave up${attempts ? ` after ${attempts} attempts` : ''}: ${lastError ?? 'no error was recorded'}. ` +
          'Once the cause is fixed, an administrator can retry it from this page.',
      };
    case 'expiring':
      return {
        tone: 'warn',
        title: 'Audio being removed',
        detail:
          'The retention policy is removing the audio; the record is kept. The next lifecycle run finishes it.',
      };
    case 'erasing':
      return {
        tone: 'warn',
        title: 'Being erased',
        detail: `An erasure has begun${typeof record.erasure_reason === 'string' ? ` (${record.erasure_reason})` : ''}; the next lifecycle run finishes it if it was interrupted.`,
      };
    case 'expired': {
      const at = when(record.expired_at) ?? when(record.updated_at);
      return {
        tone: 'warn',
        title: 'Audio expired',
        detail: `The audio was removed by the retention policy${at ? ` on ${at}` : ''}. The record is kept.`,
      };
    }
    default:
      return {
        tone: 'info',
        title: `Status: ${record.status}`,
        detail: 'There is no audio to play for this status.',
      };
  }
}

/** A link to a search (a pivot): its URL parameters, the text shown, and what it does in words. */
export type Pivot = (params: Record<string, string>, text: string, title: string) => Node;

/**
 * The record's fields worth reading, in order; the rest are under "All fields". Numbers and the call
 * UUID are pivots: links to a search for them.
 */
export function recordFacts(record: Recording, pivot: Pivot): [string, Node | string][] {
  const time = recordTimeMs(record);
  const number = (value: unknown) =>
    typeof value === 'string' && value !== ''
      ? pivot({ number: value }, value, `Recordings from or to ${value}`)
      : undefined;
  const actor = (value: unknown) => (value === undefined ? undefined : describeActor(value).label);
  const iso = (value: unknown) => (typeof value === 'string' ? formatIso(value) : undefined);
  const facts: [string, Node | string | undefined][] = [
    ['Recording ID', record.recording_id],
    ['Status', record.status],
    [
      'Time',
      time === undefined
        ? undefined
        : `${formatTime(time)} (${timeZoneLabel(time)}) · ${new Date(time).toISOString()}`,
    ],
    ['From', number(record.from_number) ?? text(record.from_number)],
    ['To', number(record.to_number) ?? text(record.to_number)],
    ['Duration', formatDuration(record.recording_duration_ms)],
    ['Format', text(record.recording_format)],
    ['Size', formatSize(record.size_bytes)],
    [
      'Call UUID',
      typeof record.call_uuid === 'string' && record.call_uuid !== ''
        ? pivot({ call: record.call_uuid }, record.call_uuid, 'Every recording of this call')
        : text(record.call_uuid),
    ],
    ['Type', text(record.recording_type)],
    ['Archived', iso(record.archived_at)],
    ['SHA-256', typeof record.sha256 === 'string' ? record.sha256 : undefined],
    [
      'Legal hold',
      record.legal_hold === true ? 'Yes: nothing removes the audio until it is released' : undefined,
    ],
    ['Hold placed', iso(record.legal_hold_at)],
    ['Hold placed by', actor(record.legal_hold_by)],
    ['Hold reason', typeof record.legal_hold_reason === 'string' ? record.legal_hold_reason : undefined],
    ['Deleted at Vobiz', iso(record.vobiz_deleted_at)],
    [
      'Kept at Vobiz',
      typeof record.vobiz_delete_blocked === 'string'
        ? `verification of the archived copy failed: ${record.vobiz_delete_blocked}`
        : undefined,
    ],
    ['Audio expired', iso(record.expired_at)],
    ['Erased', iso(record.erased_at)],
    ['Erased by', actor(record.erased_by)],
    ['Erasure reason', typeof record.erasure_reason === 'string' ? record.erasure_reason : undefined],
    ['Attempts', typeof record.attempts === 'number' ? String(record.attempts) : undefined],
    ['Last error', typeof record.last_error === 'string' ? record.last_error : undefined],
  ];
  return facts.filter((fact): fact is [string, Node | string] => fact[1] !== undefined);
}
