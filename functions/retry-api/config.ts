import { AWS_ENV, RUNTIME_ENV, STORAGE_ENV, variablesOf } from '../shared/config.js';

/** Everything the retry API function reads: the table alone (it never touches the audio or Vobiz). */
export const RETRY_API_VARIABLES = variablesOf(
  STORAGE_ENV.TABLE_NAME,
  AWS_ENV.AWS_ENDPOINT_URL_DYNAMODB,
  RUNTIME_ENV,
);
