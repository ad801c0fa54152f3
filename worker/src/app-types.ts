import type { Role } from '@resistro/contract';
import type { Db } from './db.ts';
import type { Bindings, Config } from './env.ts';
import type { ObjectStorage } from './storage/storage.ts';

export type Principal = {
  accountId: string;
  /** set for browser sessions */
  userId: string | null;
  sessionId: string | null;
  apiKeyId: string | null;
  /** 'session' can do everything a logged-in user can */
  scope: 'session' | 'agent' | 'read' | 'full';
  /** the member's role, or the API key's (never more than its creator's when created) */
  role: Role;
  /** a viewer granted backup downloads (operator and higher always may) */
  canDownload: boolean;
};

export type AppEnv = {
  Bindings: Bindings;
  Variables: {
    config: Config;
    db: Db;
    /** a database pool of its own, for a response body that outlives the request's pool */
    openDb: () => { db: Db; close: () => Promise<void> };
    storage: ObjectStorage;
    principal: Principal | null;
    now: Date;
  };
};
