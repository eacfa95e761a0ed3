import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, optional, validateCredentials, type VobizCredentials } from '../config.js';

/**
 * Vobiz credentials: from the Secrets Manager secret named by `VOBIZ_SECRET_ARN` in AWS (JSON
 * `{auth_id, auth_token, parent_auth_token?}`), or from `VOBIZ_AUTH_ID`/`VOBIZ_AUTH_TOKEN` locally.
 * The result is cached by the caller for the life of the container.
 */
export async function loadVobizCredentials(
  env: Record<string, string | undefined>,
  secrets: () => SecretsManagerClient,
): Promise<VobizCredentials> {
  const secretArn = optional(env, 'VOBIZ_SECRET_ARN');
  if (secretArn) {
    const result = await secrets().send(new GetSecretValueCommand({ SecretId: secretArn }));
    let parsed: unknown;
    try {
      parsed = JSON.parse(result.SecretString ?? '');
    } catch {
      throw new ConfigError(
        'VOBIZ_SECRET_ARN: the secret is not JSON {"auth_id", "auth_token", "parent_auth_token"?}',
      );
    }
    const value = parsed as Record<string, unknown>;
    if (typeof value.auth_id !== 'string' || typeof value.auth_token !== 'string') {
      throw new ConfigError('VOBIZ_SECRET_ARN: the secret must hold string fields auth_id and auth_token');
    }
    const parent =
      typeof value.parent_auth_token === 'string' && value.parent_auth_token
        ? value.parent_auth_token
        : undefined;
    return validateCredentials(
      { authId: value.auth_id, authToken: value.auth_token, parentAuthToken: parent },
      'VOBIZ_SECRET_ARN',
    );
  }
  const authId = optional(env, 'VOBIZ_AUTH_ID');
  const authToken = optional(env, 'VOBIZ_AUTH_TOKEN');
  if (!authId || !authToken) {
    throw new ConfigError('Set VOBIZ_SECRET_ARN (AWS) or VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN (local)');
  }
  return validateCredentials(
    { authId, authToken, parentAuthToken: optional(env, 'VOBIZ_PARENT_AUTH_TOKEN') },
    'VOBIZ_AUTH_ID/VOBIZ_AUTH_TOKEN',
  );
}
