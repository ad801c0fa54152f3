// `npm run db:migrate`: apply migrations/ to DATABASE_URL (Neon in production: use its direct,
// non-pooled connection string).
import { applyMigrations } from './stack/migrate.ts';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error(
    'DATABASE_URL is not set.\nhint: DATABASE_URL=postgres://user:pass@host/db npm run db:migrate',
  );
  process.exit(2);
}
await applyMigrations(url);
console.log('migrations applied');
