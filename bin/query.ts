/**
 * Calls the archive's IAM-protected API with your AWS credentials (default provider chain: env vars,
 * `--profile`/AWS_PROFILE, SSO, instance roles), so nobody has to build SigV4 signatures by hand.
 *
 *   npm run query -- GET '/recordings?call_uuid=…'
 *   npm run query -- /recordings/<recording_id>
 *   npm run query -- /recordings/<recording_id>/audio      (prints the presigned Location)
 *
 * API URL: --api-url, else ARCHIVE_API_URL, else `ApiUrl` in cdk-outputs.json (written by
 * `npx cdk deploy --outputs-file cdk-outputs.json`; --stack picks one of several stacks).
 */
import { parseArgs } from 'node:util';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { apiUrlFromOutputsFile, joinUrl, regionFromApiUrl, signApiRequest } from './signed-request.js';

const USAGE = `usage: npm run query -- [GET] <path> [--api-url URL] [--stack NAME] [--outputs FILE] [--region R] [--profile P]
  e.g. npm run query -- '/recordings?from_number=%2B911234567890&limit=10'`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'api-url': { type: 'string' },
      stack: { type: 'string' },
      outputs: { type: 'string', default: 'cdk-outputs.json' },
      region: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0 || positionals.length > 2) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const [method, path] =
    positionals.length === 2 ? [positionals[0]!, positionals[1]!] : ['GET', positionals[0]!];

  const apiUrl =
    values['api-url'] ?? process.env.ARCHIVE_API_URL ?? apiUrlFromOutputsFile(values.outputs, values.stack);
  if (!apiUrl) {
    console.error(
      `No API URL: pass --api-url, set ARCHIVE_API_URL, or deploy with --outputs-file ${values.outputs}.\n${USAGE}`,
    );
    return 2;
  }
  const region =
    values.region ?? regionFromApiUrl(apiUrl) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) {
    console.error('Cannot tell the region from the API URL: pass --region');
    return 2;
  }

  const credentials = await fromNodeProviderChain(values.profile ? { profile: values.profile } : {})();
  const signed = await signApiRequest({ url: joinUrl(apiUrl, path), method, region, credentials });
  const response = await fetch(signed.url, {
    method: signed.method,
    headers: signed.headers,
    redirect: 'manual',
  });

  const location = response.headers.get('location');
  console.error(`${response.status} ${response.statusText}`);
  if (response.status >= 300 && response.status < 400 && location) {
    // The audio link: print it alone on stdout so it can be piped (curl -o rec.mp3 "$(npm run -s query -- …)").
    console.log(location);
    return 0;
  }
  const text = await response.text();
  try {
    console.log(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    console.log(text);
  }
  return response.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // fetch reports network problems as "fetch failed" with the reason in `cause`.
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    console.error(error instanceof Error ? `${error.message}${cause}` : error);
    process.exitCode = 1;
  },
);
