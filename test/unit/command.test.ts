import { describe, expect, it } from 'vitest';
import { UsageError } from '../../bin/lib/cli.js';
import { checkRecordingIds, commandCredentials, HELP, setUp, storageEnv } from '../../bin/lib/command.js';
import { ConfigError } from '../../functions/shared/config.js';
import { TargetError } from '../../bin/lib/targets.js';

function io() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: { write: (text: string) => (out.stderr += text) },
  };
}

describe('setUp', () => {
  it('hands back what the set-up prepared', async () => {
    const streams = io();
    expect(await setUp('cmd', 'Usage: cmd', streams, () => ({ table: 't' }))).toEqual({
      ok: true,
      value: { table: 't' },
    });
    expect(streams.out).toEqual({ stdout: '', stderr: '' });
  });

  it('prints the usage on stdout for --help and exits 0', async () => {
    const streams = io();
    expect(await setUp('cmd', 'Usage: cmd', streams, () => HELP)).toEqual({ ok: false, exitCode: 0 });
    expect(streams.out).toEqual({ stdout: 'Usage: cmd\n', stderr: '' });
  });

  it.each([new UsageError('--since is required'), new ConfigError('TABLE_NAME is required')])(
    'prints a usage or configuration error with the usage on stderr and exits 2 (%s)',
    async (error) => {
      const streams = io();
      const result = await setUp('cmd', 'Usage: cmd', streams, () => {
        throw error;
      });
      expect(result).toEqual({ ok: false, exitCode: 2 });
      expect(streams.out).toEqual({ stdout: '', stderr: `cmd: ${error.message}\n\nUsage: cmd\n` });
    },
  );

  it('reports a stage it cannot read without the usage (exit 1), and as a JSON document with --json', async () => {
    const streams = io();
    const missing = new TargetError('there is no stack VobizRecordingArchive-dev in this account and region');
    expect(
      await setUp('cmd', 'Usage: cmd', streams, async () => {
        await Promise.resolve();
        throw missing;
      }),
    ).toEqual({ ok: false, exitCode: 1 });
    expect(streams.out).toEqual({ stdout: '', stderr: `cmd: ${missing.message}\n` });
    const json = io();
    await setUp(
      'cmd',
      'Usage: cmd',
      json,
      () => {
        throw missing;
      },
      { json: true },
    );
    expect(JSON.parse(json.out.stdout)).toEqual({ ok: false, error: missing.message });
  });

  it('lets any other error through (a bug, not a usage problem)', async () => {
    await expect(
      setUp('cmd', 'Usage: cmd', io(), () => {
        throw new TypeError('boom');
      }),
    ).rejects.toThrow(TypeError);
  });
});

describe('checkRecordingIds', () => {
  it('refuses the first argument that is not a recording id, shortened', () => {
    expect(() => checkRecordingIds(['rec-1', 'REC_2'])).not.toThrow();
    expect(() => checkRecordingIds(['rec-1', 'bad..id', '../x'])).toThrow(
      /^"bad\.\.id" is not a recording id$/,
    );
    expect(() => checkRecordingIds(['x'.repeat(300)])).toThrow(
      new UsageError(`"${'x'.repeat(140)}" is not a recording id`),
    );
  });
});

describe('commandCredentials', () => {
  it('reads the credentials from the environment', async () => {
    const env = { VOBIZ_AUTH_ID: 'MA_TEST', VOBIZ_AUTH_TOKEN: 'token-token-token' };
    await expect(commandCredentials('cmd', env, io())).resolves.toMatchObject({
      authId: 'MA_TEST',
      authToken: 'token-token-token',
    });
  });

  it('says why they cannot be read, prefixed with the command, and returns nothing', async () => {
    const streams = io();
    await expect(commandCredentials('erase: --also-vobiz', {}, streams)).resolves.toBeUndefined();
    expect(streams.out.stderr).toMatch(/^erase: --also-vobiz: .*VOBIZ/);
  });
});

describe('storageEnv', () => {
  it('puts --table and --bucket in place of TABLE_NAME and BUCKET_NAME, and keeps the rest', () => {
    const env = { TABLE_NAME: 'a', BUCKET_NAME: 'b', AWS_REGION: 'r' };
    expect(storageEnv(env, {})).toEqual(env);
    expect(storageEnv(env, { table: 't', bucket: 'u' })).toEqual({
      TABLE_NAME: 't',
      BUCKET_NAME: 'u',
      AWS_REGION: 'r',
    });
  });
});
