import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './worker/src/**/*.sql.ts',
  out: './migrations',
});
