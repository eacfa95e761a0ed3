import type { TestProject } from 'vitest/node';
import {
  startDynamoDbLocal,
  startS3Server,
  type RunningDynamo,
  type RunningS3,
} from '../../local/emulators.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    s3Endpoint: string;
  }
}

let dynamo: RunningDynamo | undefined;
let s3: RunningS3 | undefined;

/** Starts the real emulators once for the integration project: DynamoDB Local (Java) and s3rver. */
export async function setup(project: TestProject): Promise<void> {
  // The machine runs Node 20 (Lambda runs 22); the SDK's reminder about that is known and noisy.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  [dynamo, s3] = await Promise.all([startDynamoDbLocal(), startS3Server()]);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('s3Endpoint', s3.endpoint);
}

export async function teardown(): Promise<void> {
  await Promise.all([dynamo?.stop(), s3?.stop()]);
}
