import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../config.js';

/** The SecretString of a Secrets Manager secret, as is (for secrets that hold one raw value, like a key). */
export async function readSecretString(
  secrets: SecretsManagerClient,
  secretArn: string,
  name: string,
): Promise<string> {
  const result = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const value = result.SecretString;
  if (!value) throw new ConfigError(`${name}: the secret has no SecretString`);
  return value;
}
