import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';
import { bundleSize } from './bundle-size.ts';

export default defineConfig({
  // 86 kB for the first visit: the app, and one language's texts (i18n/index.ts loads the active
  // language's chunk before the first render and the other only on a switch; the larger of the two
  // counts). Until 2026-12-02 both languages loaded up front (43 kB of 86 kB). The API's route
  // table (every request schema, 27 kB) loads after the first paint (lib/session.ts).
  plugins: [solid(), bundleSize({ limitBytes: 86_000, oneOf: /\/i18n\/(en|de)\.ts$/ })],
  build: { target: 'es2022', chunkSizeWarningLimit: 200 },
  server: {
    // `npm run dev -w web` against a running `npm start` (RESISTRO_URL overrides the address).
    proxy: { '/api': { target: process.env.RESISTRO_URL ?? 'http://127.0.0.1:8787', changeOrigin: false } },
  },
});
