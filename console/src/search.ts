import type { Recording, RecordingPage } from './api.js';

/**
 * What a person searches for, as it appears in the console's URL (so a link can be shared) and as it
 * becomes lookup API parameters. Dates and times are in the viewer's time zone.
 */
export type Direction = 'any' | 'from' | 'to';

export interface SearchQuery {
  number?: string;
  direction: Direction;
  callUuid?: string;
  /** `YYYY-MM-DD` (the whole day) or `YYYY-MM-DDTHH:MM` (that minute), inclusive, local time. */
  since?: string;
  until?: string;
  status?: string;
}

/** Every status a record can have (functions/shared/domain/recording.ts), in the order of its life. */
export const STATUSES = ['pending', 'stored', 'failed', 'expiring', 'expired', 'erasing', 'erased'] as const;
const DAY_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/;
const CALL_UUID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
export const RECORDING_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * The epoch ms a date (and optional time) stands for in the viewer's time zone: the first millisecond of
 * that day or minute (`start`), or its last (`end`). Undefined for something that is not a real date and
 * time there (31 April, 25:00, a time skipped by a daylight-saving change).
 */
export function localBound(value: string, edge: 'start' | 'end'): number | undefined {
  const m = DAY_TIME.exec(value);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const timed = m[4] !== undefined;
  const [hours, minutes] = timed ? [Number(m[4]), Number(m[5])] : [0, 0];
  const date = new Date(year, month, day, hours, minutes);
  // `new Date` rolls 31 April into May and 02:30 of a skipped hour into 03:30: a real one survives.
  if (date.getFullYear() !== year || date.getMonth() !== month || date.getDate() !== day) return undefined;
  if (date.getHours() !== hours || date.getMinutes() !== minutes) return undefined;
  if (edge === 'start') return date.getTime();
  const next = timed ? new Date(year, month, day, hours, minutes + 1) : new Date(year, month, day + 1);
  return next.getTime() - 1;
}

/** `2025-11-06` or `2025-11-06 09:30`, as a person reads a bound. */
export function describeBound(value: string): string {
  return value.replace('T', ' ');
}

/** Spaces, dashes, dots and brackets people type in numbers go; `+91…` and `91…` both stay valid. */
export function cleanNumber(value: string): string {
  return value.trim().replace(/[\s().-]/g, '');
}

export function queryFromUrl(params: URLSearchParams): SearchQuery {
  const value = (name: string) => params.get(name)?.trim() || undefined;
  const direction = value('dir');
  return {
    number: value('number'),
    direction: direction === 'from' || direction === 'to' ? direction : 'any',
    callUuid: value('call'),
    since: value('since'),
    until: value('until'),
    status: value('status'),
  };
}

export function queryToUrl(query: SearchQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.number) {
    params.set('number', query.number);
    if (query.direction !== 'any') params.set('dir', query.direction);
  }
  if (query.callUuid) params.set('call', query.callUuid);
  if (query.since) params.set('since', query.since);
  if (query.until) params.set('until', query.until);
  if (query.status) params.set('status', query.status);
  return params;
}

export function sameQuery(a: SearchQuery, b: SearchQuery): boolean {
  return queryToUrl(a).toString() === queryToUrl(b).toString();
}

/** Every problem with the query, in words; empty when it can be sent. */
export function checkQuery(query: SearchQuery): string[] {
  const problems: string[] = [];
  if (query.number !== undefined && !/^\+?\d{6,20}$/.test(cleanNumber(query.number)))
    problems.push('Phone number: use international form, like +919876543210 or 919876543210.');
  if (query.callUuid !== undefined && !CALL_UUID.test(query.callUuid))
    problems.push('Call UUID: letters, digits, "-" and "_" only.');
  if (query.number !== undefined && query.callUuid !== undefined)
    problems.push('Search by a phone number or by a call UUID, not both.');
  problems.push(...checkBounds(query.since, query.until));
  if (query.status !== undefined && !(STATUSES as readonly string[]).includes(query.status))
    problems.push(`Status: one of ${STATUSES.join(', ')}.`);
  return problems;
}

/** Problems with a from/to pair of dates (and times), shared by the search and the audit log. */
export function checkBounds(since: string | undefined, until: string | undefined): string[] {
  const problems: string[] = [];
  for (const [name, value, edge] of [
    ['From', since, 'start'],
    ['To', until, 'end'],
  ] as const) {
    if (value === undefined) continue;
    if (value.startsWith('T')) problems.push(`${name}: pick a date for the time of day.`);
    else if (localBound(value, edge) === undefined)
      problems.push(`${name}: use a date like 2025-11-06, with an optional time like 09:30.`);
  }
  if (problems.length === 0 && since && until && localBound(since, 'start')! > localBound(until, 'end')!)
    problems.push('The from date is after the to date.');
  return problems;
}

/** The API listings that answer a query: two (calls from and to the number) when the direction is open. */
export function apiQueries(query: SearchQuery): Record<string, string>[] {
  const base: Record<string, string> = {};
  if (query.since) base.since = String(localBound(query.since, 'start'));
  if (query.until) base.until = String(localBound(query.until, 'end'));
  if (query.status) base.status = query.status;
  if (query.callUuid) return [{ call_uuid: query.callUuid, ...base }];
  if (query.number) {
    const number = cleanNumber(query.number);
    const directions = query.direction === 'any' ? (['from', 'to'] as const) : [query.direction];
    return directions.map((direction) => ({ [`${direction}_number`]: number, ...base }));
  }
  return [base];
}

/** Where a record sorts in every listing: the API's order is this key, newest first. */
export function listingKey(record: Recording): string {
  const ms =
    typeof record.add_time_ms === 'number'
      ? record.add_time_ms
      : typeof record.received_at === 'string'
        ? Date.parse(record.received_at)
        : 0;
  return `${String(Math.max(0, Math.trunc(ms))).padStart(15, '0')}#${record.recording_id}`;
}

interface Source {
  params: Record<string, string>;
  cursor: string | null;
  done: boolean;
  buffer: Recording[];
}

/** Recordings per page, and the `limit` of each API request. */
export const PAGE_SIZE = 25;

/** Requests per source in one `next()` before it gives back what it has (sparse status filters). */
const MAX_REQUESTS_PER_PAGE = 8;

/**
 * Pages through one or more API listings as one, newest first, with the API's cursors. With two
 * listings (calls from and to a number) it merges them by the listing order and drops a recording seen
 * in both (a call from the number to itself). A page of one listing costs one API request.
 */
export class Listing {
  private readonly sources: Source[];
  private readonly seen = new Set<string>();

  constructor(
    queries: Record<string, string>[],
    private readonly fetchPage: (params: Record<string, string>) => Promise<RecordingPage>,
    private readonly limit = PAGE_SIZE,
  ) {
    this.sources = queries.map((params) => ({ params, cursor: null, done: false, buffer: [] }));
  }

  get done(): boolean {
    return this.sources.every((s) => s.done && s.buffer.length === 0);
  }

  async next(): Promise<Recording[]> {
    const out: Recording[] = [];
    const requests = new Map<Source, number>();
    while (out.length < this.limit) {
      await Promise.all(
        this.sources.filter((s) => s.buffer.length === 0 && !s.done).map((s) => this.fill(s, requests)),
      );
      // A listing that still may have newer items but gave none yet: wait for the next page.
      if (this.sources.some((s) => s.buffer.length === 0 && !s.done)) break;
      let best: Source | undefined;
      for (const source of this.sources) {
        if (source.buffer.length === 0) continue;
        if (!best || listingKey(source.buffer[0]!) > listingKey(best.buffer[0]!)) best = source;
      }
      if (!best) break;
      const record = best.buffer.shift()!;
      if (this.seen.has(record.recording_id)) continue;
      this.seen.add(record.recording_id);
      out.push(record);
    }
    return out;
  }

  private async fill(source: Source, requests: Map<Source, number>): Promise<void> {
    while (source.buffer.length === 0 && !source.done) {
      const made = requests.get(source) ?? 0;
      if (made >= MAX_REQUESTS_PER_PAGE) return;
      requests.set(source, made + 1);
      const page = await this.fetchPage({
        ...source.params,
        limit: String(this.limit),
        ...(source.cursor ? { cursor: source.cursor } : {}),
      });
      source.buffer.push(...page.items);
      source.cursor = page.next_cursor;
      source.done = page.next_cursor === null;
    }
  }
}
