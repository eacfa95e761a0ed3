import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { SignatureScheme } from '../functions/shared/domain/signature.js';
import { audioSha256, VobizFake, type FakeRecording, type FakeRecordingInput } from './vobiz-fake.js';

/**
 * The Vobiz simulator of the local stack: the tests' fake (Retrieve Recording, List All Recordings,
 * audio, signatures) plus a small admin API, kept off Vobiz's documented paths, that creates
 * recordings and hands back the signed callback Vobiz would send for each. Recordings can be kept in a
 * JSON file so that archived records still resolve after a restart.
 */
export const ADMIN_PREFIX = '/_simulator';

/** The signature headers real callbacks carry, rotated so a batch exercises every scheme. */
export const SCHEME_MIX: readonly SignatureScheme[][] = [['V3', 'V2'], ['V3'], ['V2'], ['MA-V3', 'MA-V2']];

export const MAX_SIMULATED_BYTES = 512 * 1024 * 1024;
const MAX_BATCH = 1000;

export interface SimulatorOptions {
  port?: number;
  /** Where recordings are kept across restarts; in memory only when absent. */
  stateFile?: string;
  authId?: string;
  authToken?: string;
  parentAuthToken?: string;
  /** Called for every request the simulator answers. */
  onRequest?: (line: { method: string; path: string; status: number; ms: number }) => void;
}

export interface CreateRecordingsRequest {
  count?: number;
  format?: 'mp3' | 'wav' | 'mixed';
  /** Every file this big; without it each recording lasts 4–64 s and its size follows. */
  size_bytes?: number;
  /** Give every recording this caller or called number (e.g. to page through one customer's calls). */
  from_number?: string;
  to_number?: string;
  /** The webhook URL the callbacks are signed for (Vobiz signs the URL it calls). */
  callback_url?: string;
  /** Signature schemes for every callback; rotated through SCHEME_MIX when absent. */
  schemes?: SignatureScheme[];
}

export interface SimulatedCallback {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  schemes: SignatureScheme[];
}

export interface SimulatedRecording {
  recording_id: string;
  call_uuid: string;
  format: 'mp3' | 'wav';
  size_bytes: number;
  sha256: string;
  recording_url: string;
  callback?: SimulatedCallback;
}

interface StoredState {
  version: 1;
  /** The account's tokens, kept like a real account's: callbacks signed before a restart still verify. */
  tokens?: { authToken: string; parentAuthToken: string };
  recordings: (FakeRecordingInput & { recording_id: string; addTimeMs: number })[];
}

function readState(stateFile: string | undefined): StoredState | undefined {
  if (!stateFile || !existsSync(stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as StoredState;
  } catch (error) {
    throw new Error(`${stateFile} is not readable simulator state; delete it to start afresh`, {
      cause: error,
    });
  }
}

const SCHEMES = new Set<SignatureScheme>(['V3', 'V2', 'MA-V3', 'MA-V2']);

class BadRequest extends Error {}

export class VobizSimulator extends VobizFake {
  readonly parentAuthToken: string;
  private readonly stateFile: string | undefined;
  private readonly inputs: StoredState['recordings'] = [];
  private readonly onRequest: SimulatorOptions['onRequest'];
  private restoring = false;
  private created = 0;

  constructor(options: SimulatorOptions = {}) {
    const saved = readState(options.stateFile);
    super({
      port: options.port,
      authId: options.authId ?? 'MA_SIMULATOR',
      // New for every new account (in memory: every run); kept with the state file otherwise.
      authToken: options.authToken ?? saved?.tokens?.authToken ?? randomBytes(24).toString('base64url'),
    });
    this.parentAuthToken =
      options.parentAuthToken ?? saved?.tokens?.parentAuthToken ?? randomBytes(24).toString('base64url');
    this.stateFile = options.stateFile;
    this.onRequest = options.onRequest;
    if (saved) this.restore(saved);
    if (!saved?.tokens) this.persist();
  }

  get size(): number {
    return this.inputs.length;
  }

  /** Adds a recording with a fixed id and time, so it can be recreated identically after a restart. */
  override addRecording(input: FakeRecordingInput = {}, faults = {}): FakeRecording {
    const fixed = {
      ...input,
      recording_id: input.recording_id ?? randomUUID(),
      addTimeMs: input.addTimeMs ?? Date.now(),
    };
    const recording = super.addRecording(fixed, faults);
    if (!this.restoring) {
      this.inputs.push(fixed);
      this.persist();
    }
    return recording;
  }

  /** Creates `count` recordings and the signed callback Vobiz would send for each. */
  createRecordings(request: CreateRecordingsRequest): SimulatedRecording[] {
    const count = request.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH)
      throw new BadRequest(`count must be an integer from 1 to ${MAX_BATCH}`);
    const format = request.format ?? 'mp3';
    if (!['mp3', 'wav', 'mixed'].includes(format)) throw new BadRequest('format must be mp3, wav or mixed');
    const sizeBytes = request.size_bytes;
    if (
      sizeBytes !== undefined &&
      (!Number.isInteger(sizeBytes) || sizeBytes < 64 || sizeBytes > MAX_SIMULATED_BYTES)
    ) {
      throw new BadRequest(`size_bytes must be an integer from 64 to ${MAX_SIMULATED_BYTES}`);
    }
    for (const name of ['from_number', 'to_number'] as const) {
      const value = request[name];
      if (value !== undefined && (typeof value !== 'string' || !/^\+?\d{6,20}$/.test(value)))
        throw new BadRequest(`${name} must be a phone number like +919876543210`);
    }
    if (
      request.schemes !== undefined &&
      (request.schemes.length === 0 || !request.schemes.every((s) => SCHEMES.has(s)))
    ) {
      throw new BadRequest('schemes must list some of V3, V2, MA-V3, MA-V2');
    }
    if (request.callback_url !== undefined && !/^https?:\/\//.test(request.callback_url))
      throw new BadRequest('callback_url must be an http(s) URL');

    const out: SimulatedRecording[] = [];
    for (let i = 0; i < count; i++) {
      const n = this.created++;
      const recordingFormat = format === 'mixed' ? (n % 2 === 0 ? 'mp3' : 'wav') : format;
      const recording = this.addRecordingQuietly({
        format: recordingFormat,
        ...(sizeBytes === undefined ? { durationMs: 4_000 + ((n * 1_237) % 60_000) } : { sizeBytes }),
        // Some with an Indian offset, as Vobiz renders them, so the time parsing is exercised too.
        utcOffsetMinutes: n % 3 === 2 ? 330 : 0,
        from_number:
          request.from_number ?? `+9180${String(71_000_000 + ((n * 7919) % 1_000_000)).padStart(8, '0')}`,
        to_number:
          request.to_number ?? `9196${String(24_000_000 + ((n * 104_729) % 1_000_000)).padStart(8, '0')}`,
        recording_type: n % 5 === 4 ? 'trunk' : 'call',
      });
      const body = this.retrieveBody(recording);
      const id = body.recording_id as string;
      const schemes = request.schemes ?? SCHEME_MIX[n % SCHEME_MIX.length]!;
      out.push({
        recording_id: id,
        call_uuid: body.call_uuid as string,
        format: recording.format,
        size_bytes: recording.sizeBytes,
        sha256: audioSha256(id, recording.format, recording.sizeBytes),
        recording_url: body.recording_url as string,
        ...(request.callback_url
          ? { callback: this.callback(recording, request.callback_url, schemes) }
          : {}),
      });
    }
    this.persist(); // once per batch, not once per recording
    return out;
  }

  /** The callback Vobiz would send for `recording` to `url`: form-encoded fields and signature headers. */
  callback(
    recording: FakeRecording,
    url: string,
    schemes: SignatureScheme[] = ['V3', 'V2'],
  ): SimulatedCallback {
    return {
      url,
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...this.sign(url, { schemes, parentToken: this.parentAuthToken }),
      },
      body: new URLSearchParams(this.callbackFields(recording)).toString(),
      schemes,
    };
  }

  summary(recording: FakeRecording): SimulatedRecording {
    const body = this.retrieveBody(recording);
    const id = body.recording_id as string;
    return {
      recording_id: id,
      call_uuid: body.call_uuid as string,
      format: recording.format,
      size_bytes: recording.sizeBytes,
      sha256: audioSha256(id, recording.format, recording.sizeBytes),
      recording_url: body.recording_url as string,
    };
  }

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    res.once('finish', () =>
      this.onRequest?.({
        method: req.method ?? 'GET',
        path,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      }),
    );
    // The fake records every request for test assertions; a long-running simulator must not grow.
    if (this.requests.length > 1000) this.requests.splice(0);
    if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) return this.handleAdmin(req, res, path);
    return super.handle(req, res);
  }

  private async handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (path === ADMIN_PREFIX && req.method === 'GET') {
      return json(200, { auth_id: this.authId, api_base_url: this.baseUrl, recordings: this.size });
    }
    if (path !== `${ADMIN_PREFIX}/recordings`)
      return json(404, { error: { code: 'not_found', message: `No simulator route ${path}` } });
    if (req.method === 'GET') {
      const list = this.inputs
        .map((input) => this.recording(input.recording_id))
        .filter((r) => r !== undefined);
      return json(200, { recordings: list.map((r) => this.summary(r)) });
    }
    if (req.method !== 'POST')
      return json(405, { error: { code: 'method_not_allowed', message: 'Use GET or POST' } });
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    let request: CreateRecordingsRequest;
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      request = (text ? JSON.parse(text) : {}) as CreateRecordingsRequest;
    } catch {
      return json(400, { error: { code: 'validation_error', message: 'Body must be JSON' } });
    }
    try {
      return json(201, { recordings: this.createRecordings(request) });
    } catch (error) {
      if (error instanceof BadRequest)
        return json(400, { error: { code: 'validation_error', message: error.message } });
      throw error;
    }
  }

  /** A deleted recording is gone for good, also after a restart. */
  protected override removeRecording(id: string): boolean {
    const removed = super.removeRecording(id);
    const index = this.inputs.findIndex((input) => input.recording_id === id);
    if (index >= 0) {
      this.inputs.splice(index, 1);
      this.persist();
    }
    return removed;
  }

  private addRecordingQuietly(input: FakeRecordingInput): FakeRecording {
    const fixed = { ...input, recording_id: randomUUID(), addTimeMs: Date.now() };
    this.inputs.push(fixed);
    this.restoring = true;
    try {
      return super.addRecording(fixed);
    } finally {
      this.restoring = false;
    }
  }

  private restore(state: StoredState): void {
    this.restoring = true;
    try {
      for (const input of state.recordings ?? []) {
        this.inputs.push(input);
        super.addRecording(input);
      }
    } finally {
      this.restoring = false;
    }
    this.created = this.inputs.length;
  }

  private persist(): void {
    if (!this.stateFile) return;
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const state: StoredState = {
      version: 1,
      tokens: { authToken: this.authToken, parentAuthToken: this.parentAuthToken },
      recordings: this.inputs,
    };
    const temporary = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(state), { mode: 0o600 });
    renameSync(temporary, this.stateFile);
  }
}
