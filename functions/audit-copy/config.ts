import { AWS_ENV, envVars, requiredVar, RUNTIME_ENV, variablesOf } from '../shared/config.js';

export const AUDIT_COPY_ENV = envVars({
  AUDIT_BUCKET_NAME: requiredVar(
    'the audit bucket (S3 Object Lock) the audit entries are copied to (the `AuditBucketName` output)',
  ),
});

/** Everything the audit copy function reads. */
export const AUDIT_COPY_VARIABLES = variablesOf(AUDIT_COPY_ENV, AWS_ENV.AWS_ENDPOINT_URL_S3, RUNTIME_ENV);
