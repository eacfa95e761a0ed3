import type { Actor } from '../shared/domain/actor.js';
import { renderAudit, requestAuditEntry, type AudioLinkVariant } from '../shared/domain/audit.js';
import {
  ConflictError,
  GoneError,
  NotFoundError,
  ServiceUnavailableError,
  ValidationError,
} from '../shared/domain/errors.js';
import {
  audioDownloadName,
  isValidRecordingId,
  REMOVED_STATUSES,
  renderRecording,
  type RecordingRecord,
} from '../shared/domain/recording.js';
import type {
  AudioLinks,
  AuditQueries,
  AuditWriter,
  RecordingQueries,
} from '../shared/ports/recording-queries.js';
import type { CursorCodec } from './cursor.js';
import { parseAudioParams, parseAuditParams, parseListParams } from './params.js';

export interface LookupDependencies {
  recordings: RecordingQueries;
  /** The audit trail (`GET /audit`); without it that route is not served. */
  audit?: AuditQueries;
  audio: AudioLinks;
  /** Where every audio link handed out is recorded (who listened). */
  auditLog: AuditWriter;
  /** Resolved lazily: only listings need the signing key. */
  cursors: () => Promise<CursorCodec>;
  presignTtlSeconds: number;
  now?: () => number;
}

export interface AudioLink {
  url: string;
  /** When the presigned URL stops working (ISO-8601). */
  expires_at: string;
  /** The file name the link downloads as, when it is a download link. */
  filename?: string;
}

export interface RecordingList {
  items: Record<string, unknown>[];
  next_cursor: string | null;
}

/** Who asks for an audio link, and how it is handed out: both go into its audit entry. */
export interface AudioAccess {
  actor: Actor;
  variant: AudioLinkVariant;
}

export interface Lookup {
  getRecording(recordingId: string): Promise<Record<string, unknown>>;
  /**
   * A presigned link to the stored audio; `params` is the route's query string (`download`, `filename`).
   * The link is handed out only once its audit entry is written.
   */
  audioLink(recordingId: string, params: Record<string, string>, access: AudioAccess): Promise<AudioLink>;
  listRecordings(params: Record<string, string>): Promise<RecordingList>;
  listAudit(params: Record<string, string>): Promise<RecordingList>;
}

export function makeLookup({
  recordings,
  audit,
  audio,
  auditLog,
  cursors,
  presignTtlSeconds,
  now = Date.now,
}: LookupDependencies): Lookup {
  async function find(recordingId: string): Promise<RecordingRecord> {
    if (!isValidRecordingId(recordingId)) {
      throw new ValidationError(
        'recording_id must be 1–128 letters, digits, "-" or "_", starting with a letter or digit',
      );
    }
    const record = await recordings.get(recordingId);
    if (!record) throw new NotFoundError(`recording ${recordingId} is not in the archive`);
    return record;
  }

  /**
   * The link exists only in this function until the entry is written: if the write fails, nobody gets
   * it (an unaudited listen is a gap in the record an auditor relies on), and the caller may ask again.
   */
  async function recordAccess(
    recordingId: string,
    link: AudioLink,
    access: AudioAccess,
    issuedAt: number,
  ): Promise<void> {
    const entry = requestAuditEntry(
      'audio_link',
      recordingId,
      access.actor,
      new Date(issuedAt).toISOString(),
      {
        variant: access.variant,
        download: link.filename !== undefined,
        link_expires_at: link.expires_at,
      },
    );
    try {
      await auditLog.record(entry);
    } catch (error) {
      throw new ServiceUnavailableError(
        'audit_unavailable',
        'The access could not be recorded in the audit trail, so no link was handed out. Try again in a moment.',
        2,
        { cause: error },
      );
    }
  }

  return {
    async getRecording(recordingId) {
      return renderRecording(await find(recordingId));
    },

    async audioLink(recordingId, rawParams, access) {
      const options = parseAudioParams(rawParams);
      const record = await find(recordingId);
      if (REMOVED_STATUSES.has(record.status)) {
        const erased = record.status === 'erased' || record.status === 'erasing';
        throw new GoneError(
          erased ? 'erased' : 'expired',
          erased
            ? `the audio of recording ${recordingId} was erased${record.erased_at ? ` on ${record.erased_at}` : ''}`
            : `the audio of recording ${recordingId} was removed by retention${record.expired_at ? ` on ${record.expired_at}` : ''}; its metadata is kept`,
        );
      }
      if (record.status !== 'stored') {
        throw new ConflictError(
          'not_stored',
          `the audio of recording ${recordingId} is not stored yet (status ${record.status})`,
        );
      }
      if (!record.s3_key) throw new Error(`stored recording ${recordingId} has no s3_key`);
      const filename = options.download ? (options.filename ?? audioDownloadName(record)) : undefined;
      const issuedAt = now();
      const url = await audio.downloadUrl(
        record.s3_key,
        presignTtlSeconds,
        filename === undefined ? {} : { attachmentFilename: filename },
      );
      const link: AudioLink = {
        url,
        expires_at: new Date(issuedAt + presignTtlSeconds * 1000).toISOString(),
        ...(filename === undefined ? {} : { filename }),
      };
      await recordAccess(recordingId, link, access, issuedAt);
      return link;
    },

    async listRecordings(rawParams) {
      const params = parseListParams(rawParams);
      const codec = await cursors();
      const after = params.cursor === undefined ? undefined : codec.decode(params.cursor, params.binding);
      const page = await recordings.list(params.query, { limit: params.limit, after });
      return {
        items: page.items.map(renderRecording),
        next_cursor: page.next === undefined ? null : codec.encode(page.next, params.binding),
      };
    },

    async listAudit(rawParams) {
      if (!audit) throw new NotFoundError('no route for GET /audit');
      const params = parseAuditParams(rawParams);
      const codec = await cursors();
      const after = params.cursor === undefined ? undefined : codec.decode(params.cursor, params.binding);
      const page = await audit.list(params.query, { limit: params.limit, after });
      return {
        items: page.items.map(renderAudit),
        next_cursor: page.next === undefined ? null : codec.encode(page.next, params.binding),
      };
    },
  };
}
