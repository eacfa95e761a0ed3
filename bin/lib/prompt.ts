import type { CommandIo } from './command.js';

type Stdin = NonNullable<CommandIo['stdin']>;

/** The whole of stdin as text (a pipe or a file: `set-secret < creds.json`). */
export async function readAll(stdin: Stdin): Promise<string> {
  let text = '';
  for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  return text;
}

/**
 * Asks one question on a terminal and reads the answer up to Enter; with `hidden` nothing is echoed
 * (the terminal is put in raw mode, as `read -s` does). Ctrl-C or Ctrl-D ends with undefined.
 */
export function ask(
  io: CommandIo,
  stdin: Stdin,
  question: string,
  options: { hidden?: boolean } = {},
): Promise<string | undefined> {
  io.stderr.write(question);
  return new Promise((resolve) => {
    let answer = '';
    const raw = options.hidden === true && typeof stdin.setRawMode === 'function';
    if (raw) stdin.setRawMode!(true);
    stdin.resume();
    const finish = (value: string | undefined) => {
      stdin.off('data', onData);
      if (raw) stdin.setRawMode!(false);
      stdin.pause();
      io.stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish(answer);
        if (char === '\u0003' || char === '\u0004') return finish(undefined);
        if (char === '\u007f' || char === '\b') answer = answer.slice(0, -1);
        else answer += char;
      }
    };
    stdin.on('data', onData);
  });
}
