/**
 * How every command prints: results on stdout (aligned rows or a table for people, exactly one JSON
 * document with `--json`), progress and notes on stderr, so that `--json | jq` and `2>/dev/null` work.
 */

/** The smallest interface of a stream the commands write to (process.stdout/stderr, or a test buffer). */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** One JSON document on stdout: what `--json` prints, the whole of it. */
export function writeJson(out: Output, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `label   value` lines with the values in one column (command summaries). */
export function formatRows(rows: readonly (readonly [string, string | number | boolean])[]): string {
  const width = Math.max(0, ...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${String(value)}`).join('\n') + '\n';
}

/** A table with a header row, columns padded to their widest cell, trailing spaces trimmed. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  return (
    [header, ...rows]
      .map((row) =>
        row
          .map((cell, i) => (cell ?? '').padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/**
 * A command's result: the JSON document with `--json`, otherwise the text for people. Both are built
 * from the same values, so the two outputs cannot tell different stories.
 */
export function writeResult(out: Output, json: boolean, document: unknown, text: () => string): void {
  if (json) writeJson(out, document);
  else out.write(text());
}

/**
 * Progress on stderr: a redrawn bar on a terminal, an occasional plain line otherwise (logs, CI), so
 * that redirected output never fills with carriage returns.
 */
export function createProgress(out: Output, options: { everyLines?: number } = {}) {
  let updates = 0;
  let drawn = false;
  return {
    update(fraction: number, label: string): void {
      updates++;
      if (out.isTTY) {
        const width = Math.max(10, Math.min(40, (out.columns ?? 80) - label.length - 10));
        const clamped = Math.max(0, Math.min(1, fraction));
        const filled = Math.round(clamped * width);
        out.write(
          `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(clamped * 100)).padStart(3)}% ${label}\x1b[K`,
        );
        drawn = true;
      } else if (updates % (options.everyLines ?? 10) === 1) {
        out.write(`${label}\n`);
      }
    },
    /** A line that must be seen (not thinned out), printed above the bar. */
    note(line: string): void {
      out.write(`${drawn ? '\r\x1b[K' : ''}${line}\n`);
      drawn = false;
    },
    done(): void {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}

export type Progress = ReturnType<typeof createProgress>;

/** Errors whose message says it all (ours); others (SDK, network) get their name in front. */
const OWN_ERRORS = new Set(['Error', 'TargetError', 'UsageError', 'ConfigError']);

/** A failure's message for people: fetch's "fetch failed" gets its cause, SDK errors their name. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  const named = error.name && !OWN_ERRORS.has(error.name) && !error.message.includes(error.name);
  return `${named ? `${error.name}: ` : ''}${error.message}${cause}`;
}
