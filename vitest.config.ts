import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['contract/src/**/*.test.ts', 'agent/src/**/*.test.ts', 'worker/src/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['worker/test/**/*.test.ts', 'agent/test/**/*.test.ts', 'web/test/**/*.test.ts'],
          globalSetup: ['scripts/test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // The servers under test share two cores; a couple of files at once is enough.
          maxWorkers: 2,
        },
      },
    ],
  },
});
