import { defineConfig } from 'vitest/config';

const silentEnv = {
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_REGION: 'us-east-1',
  // The machine runs Node 20 (Lambda runs 22); the SDK's reminder about that is known and noisy.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export default defineConfig({
  test: {
    // Most files wait on emulators, a spawned stack or Chromium rather than on the CPU: two at a time
    // on CI's two cores (vitest's default there is one): 518 s one at a time (load average ~2), 486 s two
    // at a time with other jobs raising the load average to 5-6 (2026-12-04).
    maxWorkers: 2,
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], env: silentEnv },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/integration-setup.ts'],
          env: silentEnv,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: { name: 'infra', include: ['test/infra/**/*.test.ts'], env: silentEnv, testTimeout: 120_000 },
      },
      {
        // The console in headless Chromium against `npm start` (which starts its own emulators).
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          env: silentEnv,
          testTimeout: 60_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
