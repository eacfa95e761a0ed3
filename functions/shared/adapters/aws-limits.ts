/**
 * Per-request limits for DynamoDB. Without them a request that hangs (a half-open connection) is never
 * given up: a lease renewal that hangs lets the lease lapse while the transfer goes on. DynamoDB answers
 * in milliseconds; 3 s per attempt, 3 attempts, is at most about 10 s: a renewal (every 20 s of a 60 s
 * lease) settles before the next one is due, and every function still answers within its timeout
 * (webhook and lookup 10 s, lifecycle API 28 s).
 *
 * No AWS SDK import here: the webhook's own client (aws-json.ts) reads these too.
 */
export const DYNAMODB_TIMEOUTS = {
  connectionTimeout: 1_000,
  requestTimeout: 3_000,
  socketTimeout: 3_000,
  throwOnRequestTimeout: true,
} as const;
export const DYNAMODB_MAX_ATTEMPTS = 3;

/**
 * Per-request limits for S3. A 6 MiB part needs 0.2 MB/s to be sent within 30 s (Lambda reaches S3 at
 * tens of MB/s); a body that stops flowing for 30 s is given up. Three attempts bound the life of any S3
 * request, a CompleteMultipartUpload included, to about 91 s: the erasure waits that long after a
 * worker's lease ends (LEASE_AFTERLIFE_MS) before it lists what to delete.
 */
export const S3_TIMEOUTS = {
  connectionTimeout: 3_000,
  requestTimeout: 30_000,
  socketTimeout: 30_000,
  throwOnRequestTimeout: true,
} as const;
export const S3_MAX_ATTEMPTS = 3;

/**
 * The webhook's Secrets Manager read (aws-json.ts: once per container, and again on a refused token):
 * bounded like a DynamoDB call, since it lies inside the answer to Vobiz. The SDK's Secrets Manager client
 * in the other functions (aws-clients.ts createSecretsClient) keeps the SDK's defaults.
 */
export const SECRETS_TIMEOUTS = {
  connectionTimeout: 1_000,
  requestTimeout: 3_000,
  socketTimeout: 3_000,
  throwOnRequestTimeout: true,
} as const;
export const SECRETS_MAX_ATTEMPTS = 3;

/**
 * Against an emulator (an endpoint override: the local stack, the tests) the limits are this many times
 * longer: DynamoDB Local on a busy machine pauses for seconds at times, which in AWS would be a hang.
 */
export const EMULATOR_TIMEOUT_FACTOR = 10;

export interface RequestLimits {
  connectionTimeout: number;
  requestTimeout: number;
  socketTimeout: number;
}

/** `base`, or `base` stretched by EMULATOR_TIMEOUT_FACTOR when the endpoint is an emulator's. */
export function limits<T extends RequestLimits>(base: T, emulator: boolean): T {
  if (!emulator) return { ...base };
  return {
    ...base,
    connectionTimeout: base.connectionTimeout * EMULATOR_TIMEOUT_FACTOR,
    requestTimeout: base.requestTimeout * EMULATOR_TIMEOUT_FACTOR,
    socketTimeout: base.socketTimeout * EMULATOR_TIMEOUT_FACTOR,
  };
}
