import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';
import { bundleSize } from './bundle-size.ts';

export default defineConfig({
  // 82 kB: the dashboard's texts in both languages load up front; teams, billing and identity
  // (issue 16: 2FA, sessions, reset) added about 2 kB of them.
  plugins: [solid(), bundleSize({ limitBytes: 82_000 })],
  build: { target: 'es2022', chunkSizeWarningLimit: 200 },
  server: {
    // `npm run dev -w web` against a running `npm start` (RESISTRO_URL overrides the address).
    proxy: { '/api': { target: process.env.RESISTRO_URL ?? 'http://127.0.0.1:8787', changeOrigin: false } },
  },
});
