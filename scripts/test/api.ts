// Helpers for integration tests that talk to the local stack over HTTP, as real clients do.
import { createApiClient } from '@resistro/contract';
import pg from 'pg';
import { inject } from 'vitest';

export function stackInfo() {
  return inject('stack');
}

let counter = 0;
export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${process.pid}-${Date.now()}-${++counter}@example.test`;
}

/** A browser-like session: keeps the cookie and sends our Origin. */
export class Session {
  cookie = '';
  readonly url: string;
  constructor(url = stackInfo().url) {
    this.url = url;
  }
  async fetch(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('origin')) headers.set('origin', this.url);
    if (this.cookie) headers.set('cookie', this.cookie);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    const res = await fetch(`${this.url}/api/v1${path}`, { ...init, headers, body, redirect: 'manual' });
    const set = res.headers.get('set-cookie');
    if (set) {
      const pair = set.split(';')[0] ?? '';
      this.cookie = pair.endsWith('=') ? '' : pair;
    }
    return res;
  }
  async json<T = any>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: T }> {
    const res = await this.fetch(path, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
}

export async function signup(opts: { plan?: string; email?: string; password?: string } = {}) {
  const s = new Session();
  const email = opts.email ?? uniqueEmail();
  const password = opts.password ?? 'correct horse battery staple';
  const r = await s.json('/auth/signup', { method: 'POST', json: { email, password, ...(opts.plan && { plan: opts.plan }) } });
  if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { session: s, email, password, user: r.body.user, account: r.body.account };
}

export async function createKey(s: Session, scope: 'agent' | 'read' | 'full', name = `${scope} key`): Promise<string> {
  const r = await s.json('/api-keys', { method: 'POST', json: { name, scope } });
  if (r.status !== 201) throw new Error(`key creation failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.secret;
}

export function keyClient(apiKey: string) {
  return createApiClient({ endpoint: `${stackInfo().url}/api`, apiKey });
}

/** Raw SQL on the control plane's database, e.g. to move time for a test. */
export async function sql<T extends pg.QueryResultRow = any>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: stackInfo().databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Run the worker's cron handler as if the trigger fired at `at`. */
export async function runCron(at: Date = new Date()): Promise<void> {
  const { url } = stackInfo();
  const r = await fetch(`${url}/__scheduled?cron=${encodeURIComponent('* * * * *')}&time=${at.getTime()}`);
  if (!r.ok) throw new Error(`cron failed: ${r.status} ${await r.text()}`);
}
