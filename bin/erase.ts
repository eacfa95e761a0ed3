import { runEraseCommand } from './lib/erase-command.js';

const controller = new AbortController();
// The first Ctrl-C stops after the recording in progress (each erasure is resumable); a second one kills.
process.once('SIGINT', () => controller.abort(new Error('interrupted')));

process.exitCode = await runEraseCommand(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
