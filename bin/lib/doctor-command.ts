import { DOCTOR_USAGE, parseCommandLine, UsageError } from './cli.js';
import { HELP, setUp, type CommandIo, wantsJson } from './command.js';
import { runDoctor, type Check } from './doctor.js';
import { awsProbes, localProbes } from './doctor-probes.js';
import { writeResult } from './output.js';
import { resolveEnv } from './targets.js';

/**
 * `vobiz-archive doctor`: whether a stage (or the local stack) works, one check per line with what it
 * saw and the one thing to do. Exit code 0 when every check holds, 1 otherwise, 2 usage.
 */
export async function runDoctorCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
  fetchImpl: typeof fetch = fetch,
): Promise<number> {
  const setup = await setUp(
    'doctor',
    DOCTOR_USAGE,
    io,
    async () => {
      const { positionals, help, json, target } = parseCommandLine(argv, {}, 'stage-or-local');
      if (help) return HELP;
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      if (target.kind === 'local') return { json, probes: await localProbes(target.port, env, fetchImpl) };
      if (target.kind !== 'stage') throw new UsageError('give --stage <name> or --local');
      const { env: resolved } = await resolveEnv(target, env, [], { stderr: io.stderr });
      return { json, probes: awsProbes(target, resolved) };
    },
    { json: wantsJson(argv) },
  );
  if (!setup.ok) return setup.exitCode;
  const { json, probes } = setup.value;
  io.stderr.write(`doctor: checking ${probes.where}…\n`);
  const checks = await runDoctor(probes, { nowMs: io.clock?.nowMs() ?? Date.now(), fetch: fetchImpl });
  const ok = checks.every((check) => check.ok);
  writeResult(io.stdout, json, { ok, where: probes.where, checks }, () => human(checks));
  return ok ? 0 : 1;
}

function human(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map(
    (c) =>
      `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}` +
      (c.fix ? `\n      ${' '.repeat(width)}  fix: ${c.fix}` : ''),
  );
  const failed = checks.filter((c) => !c.ok).length;
  return `${lines.join('\n')}\n${failed === 0 ? `all ${checks.length} checks hold` : `${failed} of ${checks.length} checks failed`}\n`;
}
