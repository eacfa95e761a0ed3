import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Whether the last run of the local stack stopped cleanly. A marker file in the data directory says a
 * run is (or was) under way; a clean stop removes it, so a marker found at the next start means the
 * last run was killed (SIGKILL, the OOM killer, a machine that died) and may have lost writes its
 * emulator acknowledged: local/crash-recovery.ts is what the next start does about it. The time of the
 * last start after which nothing was in doubt is kept beside it, as the start of the window to check.
 */

const MARKER = 'running.json';
const CLEAN_START = 'clean-start.json';

/**
 * How far before the last clean start the sweep reaches: a callback arrives some time after its
 * recording was added (delivery, Vobiz's retries). Older ones are within the scheduled sweep's lookback.
 */
export const RECOVERY_MARGIN_MS = 15 * 60_000;

export type PreviousRun =
  | { clean: true }
  | {
      clean: false;
      /** The sweep's lower bound on `add_time`: the last clean start (or the run's own start) minus the margin. */
      sinceMs: number;
      /** What the marker says about the run that did not stop cleanly. */
      pid: number | undefined;
      startedAtMs: number;
    };

interface MarkerFile {
  pid: number;
  started_at: string;
}

/** How the previous run ended, and this run's own marker. The data directory is only written by `running()`. */
export class RunMarker {
  readonly previous: PreviousRun;
  private owed: boolean;

  constructor(
    private readonly dataDir: string,
    private readonly startedAtMs: number,
  ) {
    this.previous = readPrevious(dataDir);
    this.owed = !this.previous.clean;
  }

  /**
   * This run may now accept callbacks. After a clean stop its start becomes the last clean start; after
   * an unclean one the marker stays (rewritten for this run) until the recovery has finished.
   */
  running(): void {
    if (!this.owed) writeJson(join(this.dataDir, CLEAN_START), { started_at: iso(this.startedAtMs) });
    writeJson(join(this.dataDir, MARKER), {
      pid: process.pid,
      started_at: iso(this.startedAtMs),
    } satisfies MarkerFile);
  }

  /** The recovery found everything: what the earlier runs acknowledged is in the table again. */
  recovered(): void {
    this.owed = false;
    writeJson(join(this.dataDir, CLEAN_START), { started_at: iso(this.startedAtMs) });
  }

  /** A clean stop. With a recovery still owed the marker stays, so the next start sweeps again. */
  stopped(): void {
    if (!this.owed) rmSync(join(this.dataDir, MARKER), { force: true });
  }
}

function readPrevious(dataDir: string): PreviousRun {
  const marker = join(dataDir, MARKER);
  if (!existsSync(marker)) return { clean: true };
  const saved = readJson<Partial<MarkerFile>>(marker);
  // A marker cut short by the kill still says when it was written: at that run's start.
  const startedAtMs = parseTime(saved?.started_at) ?? statSync(marker).mtimeMs;
  const cleanStartMs = parseTime(readJson<{ started_at?: string }>(join(dataDir, CLEAN_START))?.started_at);
  return {
    clean: false,
    sinceMs: Math.min(cleanStartMs ?? startedAtMs, startedAtMs) - RECOVERY_MARGIN_MS,
    pid: typeof saved?.pid === 'number' ? saved.pid : undefined,
    startedAtMs,
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function parseTime(value: unknown): number | undefined {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Written aside and renamed into place, so a kill never leaves half a file. */
function writeJson(file: string, value: unknown): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value)}\n`);
  renameSync(temporary, file);
}
