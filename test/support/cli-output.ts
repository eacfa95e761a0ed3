/** What an operator command writes, captured as text (the commands' `Output`). */
export function textOutput(options: { isTTY?: boolean; columns?: number } = {}) {
  let text = '';
  return {
    write: (chunk: string) => (text += chunk),
    isTTY: options.isTTY ?? false,
    ...(options.columns !== undefined ? { columns: options.columns } : {}),
    get text() {
      return text;
    },
  };
}

/**
 * A command's summary (`label   123` lines) as an object. `withoutNotes` drops a trailing ` (…)` from
 * each label, for summaries whose labels carry explanations.
 */
export function summaryOf(stdout: string, options: { withoutNotes?: boolean } = {}): Record<string, number> {
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => /^(.*?)\s{2,}(\d+)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [options.withoutNotes ? m[1]!.replace(/ \(.*\)$/, '') : m[1]!, Number(m[2])]),
  );
}
