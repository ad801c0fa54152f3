// `npm run test:container`: the container image's round trip (agent/test/container-image.e2e.ts)
// on the local stack. Kept out of `npm test` because building the image (the executable, then
// podman build) takes one to two minutes; the suite keeps the cheap checks of
// agent/test/container.test.ts.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['agent/test/container-image.e2e.ts'],
    globalSetup: ['scripts/test/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 900_000,
  },
});
