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
    ],
  },
});
