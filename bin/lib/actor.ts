import { hostname, userInfo } from 'node:os';
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Actor } from '../../functions/shared/domain/actor.js';

/**
 * Who an operator command records in the audit trail: `LIFECYCLE_ACTOR` when set, else the caller's
 * IAM ARN (STS GetCallerIdentity with the usual AWS credentials), else the local user and host (the
 * local stack, or no AWS credentials). Never fails the command.
 */
export async function resolveActor(
  env: Record<string, string | undefined>,
  region: string | undefined,
): Promise<Actor> {
  const given = env.LIFECYCLE_ACTOR?.trim();
  if (given) return { arn: given.slice(0, 200) };
  const local = { arn: `operator ${safe(() => userInfo().username)}@${safe(hostname)}` };
  if (env.AWS_ENDPOINT_URL_DYNAMODB || !region) return local;
  try {
    const arn = await callerArn(region, env.AWS_PROFILE);
    return arn ? { arn } : local;
  } catch {
    return local;
  }
}

async function callerArn(region: string, profile: string | undefined): Promise<string | undefined> {
  const credentials = await fromNodeProviderChain(profile ? { profile } : {})();
  const host = `sts.${region}.amazonaws.com`;
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const signed = await new SignatureV4({ service: 'sts', region, credentials, sha256: Sha256 }).sign({
    method: 'POST',
    protocol: 'https:',
    hostname: host,
    path: '/',
    headers: { host, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const response = await fetch(`https://${host}/`, {
    method: 'POST',
    headers: signed.headers,
    body,
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) return undefined;
  return /<Arn>([^<]+)<\/Arn>/.exec(await response.text())?.[1];
}

function safe(read: () => string): string {
  try {
    return read();
  } catch {
    return 'unknown';
  }
}
