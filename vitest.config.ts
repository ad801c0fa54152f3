import solid from 'vite-plugin-solid';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // The default 5 s is for idle machines; CI machines are shared (load averages of 10+
          // were seen), and a timeout is no assertion about speed.
          testTimeout: 30_000,
          include: [
            'contract/src/**/*.test.ts',
            'agent/src/**/*.test.ts',
            'worker/src/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
        },
      },
      {
        // Engines against real PostgreSQL and MariaDB servers the tests start; no control plane.
        test: {
          name: 'engines',
          include: ['agent/test/engines/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['worker/test/**/*.test.ts', 'agent/test/**/*.test.ts', 'web/test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'agent/test/engines/**'],
          globalSetup: ['scripts/test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // The servers under test share two cores; a couple of files at once is enough.
          maxWorkers: 2,
        },
      },
      {
        // Dashboard components in jsdom, compiled by Solid's own JSX transform.
        plugins: [solid()],
        resolve: { conditions: ['development', 'browser'] },
        test: {
          name: 'web',
          environment: 'jsdom',
          // jsdom and user-event under a loaded machine: a form test took over 5 s in CI.
          testTimeout: 30_000,
          include: ['web/src/**/*.test.tsx'],
          setupFiles: ['web/src/test-setup.ts'],
          // Solid libraries ship JSX sources; they must go through the same transform.
          server: { deps: { inline: [/@solidjs\/router/] } },
        },
      },
    ],
  },
});
