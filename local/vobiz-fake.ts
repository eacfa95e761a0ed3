import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import type { SignatureScheme } from '../functions/shared/domain/signature.js';
import { audioChunks, audioDurationMs, audioSizeBytes } from './audio/simulated-audio.js';

/**
 * A Vobiz API fake that speaks HTTP as shared/vobiz/retrieve-recording.md documents it: Retrieve a
 * Recording (flat body, decimal strings, nullable fields, `add_time` with microseconds and offset), List
 * All Recordings (`meta` + `objects[]`), the audio files, and signed callbacks. Fault knobs let tests and
 * the local simulator reproduce what goes wrong in real life.
 */
export interface FakeRecordingInput {
  recording_id?: string;
  format?: 'mp3' | 'wav';
  sizeBytes?: number;
  /** Epoch ms; rendered as Vobiz does (`YYYY-MM-DD HH:MM:SS.ffffff+05:30` when `utcOffsetMinutes` is 330). */
  addTimeMs?: number;
  utcOffsetMinutes?: number;
  call_uuid?: string;
  from_number?: string;
  to_number?: string;
  recording_type?: 'call' | 'conference' | 'trunk';
  /**
   * Used only without `sizeBytes`: the file is made as long as this (MP3: to the nearest 36 ms frame).
   * With `sizeBytes` the duration follows from the size, so `recording_duration_ms` is always what a
   * player plays.
   */
  durationMs?: number;
}

export interface FakeFaults {
  /** Answer Retrieve Recording with this status for the first `times` calls. */
  retrieveFailures?: { status: number; times: number };
  /** Delay before answering Retrieve Recording. */
  retrieveDelayMs?: number;
  /** Answer the audio download with this status for the first `times` calls. */
  mediaFailures?: { status: number; times: number };
  /** Send the full Content-Length but cut the connection after this many bytes. */
  truncateAudioAt?: number;
  /** Delay between audio chunks (slow download). */
  mediaChunkDelayMs?: number;
  /** Return this `recording_url` instead of our own (e.g. a foreign origin). */
  recordingUrl?: string;
  /** Answer the audio download with a redirect to this URL (e.g. another fake: a second origin). */
  mediaRedirectTo?: string;
  /**
   * Answer the audio download gzip-compressed, with the compressed Content-Length: `'if-accepted'`
   * when the request's Accept-Encoding allows gzip (as a CDN does), `'always'` whatever it asked for.
   */
  mediaGzip?: 'if-accepted' | 'always';
}

/** Faults and latency of the API as a whole (not per recording): set on `VobizFake.api`. */
export interface ApiBehaviour {
  /** Delay before answering any API request (Retrieve, List, Delete, Bulk Delete). */
  latencyMs?: number;
  /**
   * Answer Delete a Recording with this status for the next `times` calls (429 carries `Retry-After`
   * of `retryAfterSeconds`, default 1).
   */
  deleteFailures?: { status: number; times: number; retryAfterSeconds?: number };
  /** How long a Bulk Delete takes before its recordings are gone (it is asynchronous at Vobiz). */
  bulkDeleteDelayMs?: number;
}

/** The filters Bulk Delete accepts (facts.md); anything else is a 400. */
export const BULK_DELETE_FILTERS = [
  'add_time__gte',
  'add_time__lte',
  'call_uuid',
  'conference_name',
  'from_number',
  'to_number',
] as const;

export interface FakeRecording {
  metadata: Record<string, unknown>;
  sizeBytes: number;
  format: 'mp3' | 'wav';
  /** The instant of `add_time` (which is rendered in its own offset, so its text does not sort). */
  addTimeMs: number;
  faults: FakeFaults;
  retrieveCalls: number;
  mediaCalls: number;
  /** Audio bytes written to clients so far, over all downloads. */
  mediaBytesSent: number;
}

// Playable, deterministic audio (local/audio/): the exact bytes of a recording for an id, format and size.
export {
  audioChunks,
  audioDurationMs,
  audioHeader,
  audioSha256,
  audioSizeBytes,
} from './audio/simulated-audio.js';

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `2025-11-06 13:49:10.751756+00:00`, as Vobiz renders `add_time`. */
export function vobizTimestamp(epochMs: number, offsetMinutes = 0): string {
  const local = new Date(epochMs + offsetMinutes * 60_000);
  const micros = `${String(local.getUTCMilliseconds()).padStart(3, '0')}${String(Math.abs(epochMs * 7) % 1000).padStart(3, '0')}`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${local.getUTCFullYear()}-${two(local.getUTCMonth() + 1)}-${two(local.getUTCDate())} ` +
    `${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())}.${micros}` +
    `${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`
  );
}

export interface VobizFakeOptions {
  authId?: string;
  authToken?: string;
  port?: number;
  /** Require X-Auth-ID/X-Auth-Token on audio downloads too (the real media host's behaviour is uncertain). */
  mediaRequiresAuth?: boolean;
}

export class VobizFake {
  readonly authId: string;
  readonly authToken: string;
  private readonly recordings = new Map<string, FakeRecording>();
  private server: Server | undefined;
  private origin = '';
  /** Every request's method, path and headers (credentials included: it is a fake), for assertions. */
  readonly requests: { method: string; path: string; headers: IncomingHttpHeaders }[] = [];
  /** Faults for every recording (merged under per-recording faults). */
  globalFaults: FakeFaults = {};
  /** Audio downloads being served right now, and the most there ever were at once. */
  activeMediaDownloads = 0;
  maxActiveMediaDownloads = 0;
  /** Latency and faults of the API as a whole. */
  api: ApiBehaviour = {};
  /** Every Delete a Recording call, in order, with the status it was answered. */
  readonly deleteCalls: { recordingId: string; status: number }[] = [];
  /** Every Bulk Delete call, with its filters and the recordings it removed once it ran. */
  readonly bulkDeleteCalls: { filters: Record<string, string>; deleted: string[] }[] = [];
  private deleteFailuresServed = 0;
  private readonly pendingBulkDeletes = new Set<NodeJS.Timeout>();

  constructor(private readonly options: VobizFakeOptions = {}) {
    this.authId = options.authId ?? 'MA_FAKE0001';
    this.authToken = options.authToken ?? 'fake-auth-token-0123456789';
  }

  get baseUrl(): string {
    if (!this.origin) throw new Error('VobizFake is not started');
    return this.origin;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ api_id: randomUUID(), error: String(error) }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.pendingBulkDeletes) clearTimeout(timer);
    this.pendingBulkDeletes.clear();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** Adds a recording to the account and returns its Retrieve Recording body. */
  addRecording(input: FakeRecordingInput = {}, faults: FakeFaults = {}): FakeRecording {
    const id = input.recording_id ?? randomUUID();
    const format = input.format ?? 'mp3';
    const sizeBytes =
      input.sizeBytes ??
      (input.durationMs === undefined ? 32 * 1024 : audioSizeBytes(id, format, input.durationMs));
    const addTimeMs = input.addTimeMs ?? Date.now();
    const durationMs = audioDurationMs(id, format, sizeBytes);
    const start = addTimeMs - durationMs - 330;
    const metadata: Record<string, unknown> = {
      add_time: vobizTimestamp(addTimeMs, input.utcOffsetMinutes ?? 0),
      api_id: randomUUID(),
      call_uuid: input.call_uuid ?? randomUUID(),
      conference_name: input.recording_type === 'conference' ? 'conf-1' : null,
      from_number: input.from_number ?? '+918071387423',
      monthly_recording_storage_amount: 0,
      recording_duration_ms: `${durationMs}.00000`,
      recording_end_ms: input.recording_type === 'trunk' ? null : `${start + durationMs}.00000`,
      recording_format: format,
      recording_id: id,
      recording_start_ms: input.recording_type === 'trunk' ? null : `${start}.00000`,
      recording_storage_duration: 1,
      recording_storage_rate: 0.005,
      recording_type: input.recording_type ?? 'call',
      recording_url: '', // filled per request: depends on the server's origin
      resource_uri: `/v1/Account/${this.authId}/Recording/${id}/`,
      rounded_recording_duration: Math.ceil(durationMs / 60_000) * 60,
      to_number: input.to_number ?? '919624705678',
    };
    const recording: FakeRecording = {
      metadata,
      sizeBytes,
      format,
      addTimeMs,
      faults,
      retrieveCalls: 0,
      mediaCalls: 0,
      mediaBytesSent: 0,
    };
    this.recordings.set(id, recording);
    return recording;
  }

  recording(id: string): FakeRecording | undefined {
    return this.recordings.get(id);
  }

  /** Recordings the account holds now (deleted ones are gone, as at Vobiz). */
  get recordingIds(): string[] {
    return [...this.recordings.keys()];
  }

  /** Removes a recording for good, as Delete a Recording does (a hook for subclasses that keep state). */
  protected removeRecording(id: string): boolean {
    return this.recordings.delete(id);
  }

  /** Delete calls answered 204 or 404 for this recording. */
  deletesOf(id: string): number {
    return this.deleteCalls.filter(
      (call) => call.recordingId === id && call.status < 500 && call.status !== 429,
    ).length;
  }

  mediaUrl(id: string, format: 'mp3' | 'wav'): string {
    return `${this.baseUrl}/api/v1/Account/${this.authId}/Recording/${id}.${format}`;
  }

  /** The Retrieve Recording body as it would be served now. */
  retrieveBody(recording: FakeRecording): Record<string, unknown> {
    const id = recording.metadata.recording_id as string;
    const faults = { ...this.globalFaults, ...recording.faults };
    return {
      ...recording.metadata,
      recording_url: faults.recordingUrl ?? this.mediaUrl(id, recording.format),
    };
  }

  /**
   * Signature headers for a callback to `url`, as Vobiz would send them (facts.md). Written from the
   * documentation rather than with the verifier's code, so the two cannot share a misreading: one nonce
   * header per version, which the parent account's signature shares (MA-V3 signs the V3 nonce).
   */
  sign(
    url: string,
    options: { schemes?: SignatureScheme[]; token?: string; parentToken?: string; nonce?: string } = {},
  ): Record<string, string> {
    const headers: Record<string, string> = {};
    const baseUrl = url.split(/[?#]/)[0]!;
    for (const scheme of options.schemes ?? ['V3', 'V2']) {
      const v3 = scheme.endsWith('V3');
      const nonceHeader = v3 ? 'x-vobiz-signature-v3-nonce' : 'x-vobiz-signature-v2-nonce';
      const nonce = (headers[nonceHeader] ??= options.nonce ?? randomNonce());
      const parent = scheme.startsWith('MA-');
      const token = parent ? (options.parentToken ?? this.authToken) : (options.token ?? this.authToken);
      headers[`x-vobiz-signature-${scheme.toLowerCase()}`] = createHmac('sha256', token)
        .update(v3 ? `${baseUrl}.${nonce}` : `${baseUrl}${nonce}`)
        .digest('base64');
    }
    return headers;
  }

  /** The form fields of a Record callback for a recording (informative fields included). */
  callbackFields(recording: FakeRecording): Record<string, string> {
    const m = recording.metadata;
    return {
      RecordingID: m.recording_id as string,
      RecordUrl: this.mediaUrl(m.recording_id as string, recording.format),
      RecordingDuration: String(Math.round(Number(m.recording_duration_ms) / 1000)),
      RecordingDurationMs: String(Number(m.recording_duration_ms)),
      CallUUID: m.call_uuid as string,
      From: m.from_number as string,
      To: m.to_number as string,
      Direction: 'inbound',
      Event: 'RecordStop',
      CallStatus: 'in-progress',
    };
  }

  private authorized(req: IncomingMessage): boolean {
    return req.headers['x-auth-id'] === this.authId && req.headers['x-auth-token'] === this.authToken;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, headers: { ...req.headers } });
    const prefix = `/api/v1/Account/${this.authId}/Recording/`;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'DELETE')
      return json(405, { api_id: randomUUID(), error: 'Method not allowed' });

    const media = /^\/api\/v1\/Account\/([^/]+)\/Recording\/([^/]+)\.(mp3|wav)$/.exec(url.pathname);
    if (media && req.method === 'GET') return this.serveMedia(req, res, media[2]!, media[3] as 'mp3' | 'wav');

    if (!url.pathname.startsWith('/api/v1/Account/'))
      return json(404, { api_id: randomUUID(), error: 'Not found' });
    if (!this.authorized(req) || !url.pathname.startsWith(prefix)) {
      return json(401, {
        api_id: randomUUID(),
        error: 'Authentication credentials were not provided or are invalid',
      });
    }
    if (this.api.latencyMs) await sleep(this.api.latencyMs);
    const rest = url.pathname.slice(prefix.length);
    if (req.method === 'DELETE') {
      if (rest === 'BulkDelete/') return this.bulkDelete(url, json);
      const target = /^([^/]+)\/$/.exec(rest);
      if (!target) return json(404, { api_id: randomUUID(), error: 'Not found' });
      return this.deleteOne(decodeURIComponent(target[1]!), res, json);
    }
    if (rest === '') return this.serveList(url, json);
    const match = /^([^/]+)\/$/.exec(rest);
    if (!match) return json(404, { api_id: randomUUID(), error: 'Not found' });

    const recording = this.recordings.get(decodeURIComponent(match[1]!));
    if (!recording) return json(404, { api_id: randomUUID(), error: 'Recording not found' });
    recording.retrieveCalls++;
    const faults = { ...this.globalFaults, ...recording.faults };
    if (faults.retrieveDelayMs) await sleep(faults.retrieveDelayMs);
    if (faults.retrieveFailures && recording.retrieveCalls <= faults.retrieveFailures.times) {
      const status = faults.retrieveFailures.status;
      return json(status, {
        api_id: randomUUID(),
        error: status === 404 ? 'Recording not found' : 'Internal server error',
      });
    }
    return json(200, { ...this.retrieveBody(recording), api_id: randomUUID() });
  }

  /** Delete a Recording: 204 without a body, then 404 `Recording not found` (facts.md). */
  private deleteOne(id: string, res: ServerResponse, json: (status: number, body: unknown) => void): void {
    const failures = this.api.deleteFailures;
    if (failures && this.deleteFailuresServed < failures.times) {
      this.deleteFailuresServed++;
      this.deleteCalls.push({ recordingId: id, status: failures.status });
      if (failures.status === 429) res.setHeader('retry-after', String(failures.retryAfterSeconds ?? 1));
      return json(failures.status, {
        api_id: randomUUID(),
        error: failures.status === 429 ? 'Too many requests' : 'Internal server error',
      });
    }
    if (!this.removeRecording(id)) {
      this.deleteCalls.push({ recordingId: id, status: 404 });
      return json(404, { api_id: randomUUID(), error: 'Recording not found' });
    }
    this.deleteCalls.push({ recordingId: id, status: 204 });
    res.writeHead(204);
    res.end();
  }

  /** Bulk Delete: accepted at once, the matching recordings disappear later (asynchronous at Vobiz). */
  private bulkDelete(url: URL, json: (status: number, body: unknown) => void): void {
    const filters: Record<string, string> = {};
    for (const [name, value] of url.searchParams) {
      if (!(BULK_DELETE_FILTERS as readonly string[]).includes(name))
        return json(400, { api_id: randomUUID(), error: `Unknown filter ${name}` });
      filters[name] = value;
    }
    if (Object.keys(filters).length === 0)
      return json(400, { api_id: randomUUID(), error: 'At least one filter is required' });
    const call = { filters, deleted: [] as string[] };
    this.bulkDeleteCalls.push(call);
    const timer = setTimeout(() => {
      this.pendingBulkDeletes.delete(timer);
      for (const [id, recording] of [...this.recordings]) {
        if (matchesFilters(recording.metadata, filters) && this.removeRecording(id)) call.deleted.push(id);
      }
    }, this.api.bulkDeleteDelayMs ?? 50);
    this.pendingBulkDeletes.add(timer);
    return json(202, {
      api_id: randomUUID(),
      message: 'Bulk delete request accepted; it runs asynchronously',
    });
  }

  private serveList(url: URL, json: (status: number, body: unknown) => void): void {
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 20) || 20));
    const offset = Math.max(0, Number(url.searchParams.get('offset') ?? 0) || 0);
    const callUuid = url.searchParams.get('call_uuid');
    const type = url.searchParams.get('recording_type');
    // Newest first, as Vobiz lists.
    const all = [...this.recordings.values()]
      .filter(
        (r) =>
          (!callUuid || r.metadata.call_uuid === callUuid) && (!type || r.metadata.recording_type === type),
      )
      .sort((a, b) => b.addTimeMs - a.addTimeMs);
    const page = all.slice(offset, offset + limit);
    const base = `/api/v1/Account/${this.authId}/Recording/`;
    json(200, {
      api_id: randomUUID(),
      meta: {
        limit,
        offset,
        total_count: all.length,
        next: offset + limit < all.length ? `${base}?limit=${limit}&offset=${offset + limit}` : null,
        previous: offset > 0 ? `${base}?limit=${limit}&offset=${Math.max(0, offset - limit)}` : null,
      },
      objects: page.map((r) => this.retrieveBody(r)),
    });
  }

  private async serveMedia(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    format: 'mp3' | 'wav',
  ): Promise<void> {
    const recording = this.recordings.get(id);
    if (
      !recording ||
      recording.format !== format ||
      (this.options.mediaRequiresAuth && !this.authorized(req))
    ) {
      res.writeHead(recording ? 403 : 404, { 'content-type': 'text/plain' });
      res.end('not available');
      return;
    }
    recording.mediaCalls++;
    const faults = { ...this.globalFaults, ...recording.faults };
    if (faults.mediaRedirectTo) {
      res.writeHead(302, { location: faults.mediaRedirectTo });
      res.end();
      return;
    }
    if (faults.mediaFailures && recording.mediaCalls <= faults.mediaFailures.times) {
      res.writeHead(faults.mediaFailures.status, { 'content-type': 'text/plain' });
      res.end('media error');
      return;
    }
    const contentType = format === 'mp3' ? 'audio/mpeg' : 'audio/wav';
    if (faults.mediaGzip === 'always' || (faults.mediaGzip && acceptsGzip(req.headers['accept-encoding']))) {
      // Compressed whole (the fake's recordings are small): the header must state the compressed size.
      const body = gzipSync(Buffer.concat([...audioChunks(id, format, recording.sizeBytes)]));
      res.writeHead(200, {
        'content-type': contentType,
        'content-encoding': 'gzip',
        'content-length': String(body.length),
      });
      res.end(body);
      return;
    }
    res.writeHead(200, {
      'content-type': contentType,
      'content-length': String(recording.sizeBytes),
    });
    this.maxActiveMediaDownloads = Math.max(this.maxActiveMediaDownloads, ++this.activeMediaDownloads);
    try {
      let sent = 0;
      for (const chunk of audioChunks(id, format, recording.sizeBytes)) {
        if (faults.truncateAudioAt !== undefined && sent + chunk.length > faults.truncateAudioAt) {
          const part = chunk.subarray(0, faults.truncateAudioAt - sent);
          await new Promise<void>((resolve) => res.write(part, () => resolve()));
          recording.mediaBytesSent += part.length;
          res.socket?.destroy();
          return;
        }
        sent += chunk.length;
        recording.mediaBytesSent += chunk.length;
        if (!res.write(chunk))
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.once('drain', done);
            res.once('close', done);
          });
        if (res.destroyed) return;
        // Read per chunk, so a test can speed up a download that is under way.
        const delay = recording.faults.mediaChunkDelayMs ?? this.globalFaults.mediaChunkDelayMs;
        if (delay) await sleep(delay);
      }
      res.end();
    } finally {
      this.activeMediaDownloads--;
    }
  }
}

/** `YYYY-MM-DD HH:MM:SS` (UTC), the form Bulk Delete's add_time filters take. */
export function bulkDeleteTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ');
}

function matchesFilters(metadata: Record<string, unknown>, filters: Record<string, string>): boolean {
  const addTimeMs = Date.parse(String(metadata.add_time).replace(' ', 'T'));
  return Object.entries(filters).every(([name, value]) => {
    if (name === 'add_time__gte') return addTimeMs >= Date.parse(`${value.replace(' ', 'T')}Z`);
    if (name === 'add_time__lte') return addTimeMs <= Date.parse(`${value.replace(' ', 'T')}Z`);
    return metadata[name] === value;
  });
}

/** Whether an Accept-Encoding header allows gzip (named, or `*`, without `q=0`). */
export function acceptsGzip(header: string | undefined): boolean {
  const codings = new Map(
    (header ?? '').split(',').map((part) => {
      const [coding = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return [coding, q === undefined ? 1 : Number(q.slice(2))] as const;
    }),
  );
  const q = codings.get('gzip') ?? codings.get('x-gzip') ?? codings.get('*') ?? 0;
  return q > 0;
}

/** A random 20-digit nonce, as Vobiz sends. */
export function randomNonce(): string {
  const digits = [...randomBytes(20)].map((b) => String(b % 10)).join('');
  return digits.replace(/^0/, '1');
}
