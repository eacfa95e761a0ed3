import { createHash, randomUUID } from 'node:crypto';
import { actorOf, type Actor } from './actor.js';

export { SYSTEM_ACTOR } from './actor.js';
import { shardOf, timeSortKey } from './recording.js';
import { AUDIT_SHARDS, INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from './table.js';

/**
 * The audit trail: one item per hold, release, erasure, expiry, delete at Vobiz, retry of a failed
 * recording, and per audio link handed out (who listened). Items live in the table itself under
 * `AUDIT#<shard>` partitions, sorted by time; they are only ever put (conditionally, never overwritten)
 * and no function role may update or delete them (IAM denies it on `AUDIT#` keys, see
 * infra/data-store.ts).
 */
export type AuditAction =
  'legal_hold' | 'legal_hold_release' | 'erase' | 'expire' | 'vobiz_delete' | 'retry' | 'audio_link';
export const AUDIT_ACTIONS: readonly AuditAction[] = [
  'legal_hold',
  'legal_hold_release',
  'erase',
  'expire',
  'vobiz_delete',
  'retry',
  'audio_link',
];

/** `done`: the action took effect; `refused`: it was not allowed (a legal hold, a failed verification). */
export type AuditOutcome = 'done' | 'refused';

/**
 * What a reason may be (an erasure's, a legal hold's): a reference to the request or case it serves,
 * such as `DSR-2026-0042` or `case:2026/17`, never free text. The trail is immutable and readable by
 * every reviewer, so it must not carry what a person wrote about someone.
 */
export const REASON_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,63}$/;

/** The rule in words, for error messages (API 400, CLI usage errors). */
export const REASON_RULE =
  'a reference such as DSR-2026-0042 (1 to 64 letters, digits and . _ : / # -, starting with a letter or digit); free text is not kept in the audit trail';

export function isValidReason(value: unknown): value is string {
  return typeof value === 'string' && REASON_PATTERN.test(value);
}

/** How an audio link was handed out: a `302` to it, or the JSON `{url, expires_at}` (the console). */
export type AudioLinkVariant = 'redirect' | 'json';

export interface AuditEntry {
  audit_id: string;
  time: string;
  action: AuditAction;
  recording_id: string;
  actor: Actor;
  outcome: AuditOutcome;
  /** A short explanation without secrets or personal data (a reason reference, what was verified, why refused). */
  detail?: string;
  /** `audio_link` only: how the link was handed out. */
  variant?: AudioLinkVariant;
  /** `audio_link` only: a download link (`Content-Disposition: attachment`), else one to play inline. */
  download?: boolean;
  /** `audio_link` only: when the link stops working. Never the link itself. */
  link_expires_at?: string;
}

export const AUDIT_PARTITION_PREFIX = 'AUDIT#';

export function auditPartition(shard: number): string {
  return `${AUDIT_PARTITION_PREFIX}${shard}`;
}

/**
 * Where a recording's audit entries are found together: a partition of the `by-call` index, which audit
 * items share with recordings (`CALL#…` partitions) under their own prefix. So `GET /audit?recording_id=`
 * and "listened by" are one Query of one partition, with no index added to the table.
 */
export function auditRecordingPartition(recordingId: string): string {
  return `RECAUDIT#${recordingId}`;
}

/**
 * An audit id from the parts that identify one occurrence of an action. An operation that can be resumed
 * after a crash (an erasure, an expiry) passes parts that stay the same across resumes (its erasure id,
 * the time the expiry began), so its entry is written once (the put is conditional on the key being
 * new); every other action passes a random part, so two of them never share an entry.
 */
export function auditId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

/**
 * The entry of an action that happens once per request, done now by `actor`: its id has a random part,
 * so two requests never share an entry. `more` adds the fields of its kind (a detail, an audio link's).
 */
export function requestAuditEntry(
  action: AuditAction,
  recordingId: string,
  actor: Actor,
  time: string,
  more: Pick<AuditEntry, 'detail' | 'variant' | 'download' | 'link_expires_at'> = {},
): AuditEntry {
  return {
    audit_id: auditId(action, recordingId, time, randomUUID()),
    time,
    action,
    recording_id: recordingId,
    actor,
    outcome: 'done',
    ...more,
  };
}

export function auditKeys(entry: Pick<AuditEntry, 'audit_id' | 'time'>): Record<string, string> {
  return {
    [TABLE_KEYS.partitionKey]: auditPartition(shardOf(entry.audit_id, AUDIT_SHARDS)),
    [TABLE_KEYS.sortKey]: timeSortKey(Date.parse(entry.time), entry.audit_id),
  };
}

/**
 * The item of an entry: its keys, and the index keys that list it under its recording. It never
 * carries the TTL attribute, whatever the entry object holds: TTL must not delete an audit entry (IAM
 * also denies a put of one with it, infra/data-store.ts).
 */
export function auditItem(entry: AuditEntry): Record<string, unknown> {
  const { [TTL_ATTRIBUTE]: _ttl, ...fields } = entry as AuditEntry & { [TTL_ATTRIBUTE]?: unknown };
  const keys = auditKeys(entry);
  return {
    ...fields,
    ...keys,
    [INDEXES.byCall.partitionKey]: auditRecordingPartition(entry.recording_id),
    [INDEXES.byCall.sortKey]: keys[TABLE_KEYS.sortKey],
  };
}

const FIELDS = [
  'audit_id',
  'time',
  'action',
  'recording_id',
  'actor',
  'outcome',
  'detail',
  'variant',
  'download',
  'link_expires_at',
] as const;

/**
 * The public JSON shape of an audit entry (`GET /audit`), in a stable field order; `actor` is always an
 * object (entries written before it was one hold the ARN as a string).
 */
export function renderAudit(item: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    FIELDS.filter((name) => item[name] !== undefined).map((name) => [
      name,
      name === 'actor' ? (actorOf(item[name]) ?? item[name]) : item[name],
    ]),
  );
}
