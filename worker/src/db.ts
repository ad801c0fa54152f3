import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { Config } from './env.ts';
import * as schema from './schema.ts';

export type Db = ReturnType<typeof drizzle<typeof schema>>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

/**
 * A pool per request (or cron run), as Workers require: sockets cannot outlive a request.
 * Locally the Neon driver speaks to a plain PostgreSQL through a WebSocket-to-TCP proxy.
 */
export function createDb(config: Config): { db: Db; close: () => Promise<void> } {
  if (config.neonWsProxy) {
    const proxy = config.neonWsProxy;
    neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineConnect = false;
    neonConfig.pipelineTLS = false;
  }
  const pool = new Pool({ connectionString: config.databaseUrl, max: 4 });
  const db = drizzle({ client: pool, schema });
  return { db, close: () => pool.end() };
}
