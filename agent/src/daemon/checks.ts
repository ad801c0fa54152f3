// Connection checks asked for by the control plane (a database was added or edited, or the user
// pressed "test again"): run at once, one at a time and beside any backup (a check is a few short
// queries), and report the result per step. A report the control plane did not get is tried again
// at the next heartbeat, which still lists the check as pending.
import {
  ApiClientError,
  type CheckItem,
  type CheckReportBody,
  type CheckRequest,
  type DatabaseWork,
  toStorableText,
} from '@resistro/contract';
import { type AgentContext, resolveTarget } from '../context.ts';
import { type ConnectionCheckResult, getEngine } from '../engines/index.ts';
import { isTransient } from '../errors.ts';

/** Runs one check; never rejects. A password sealed to another key is a failed step too. */
export async function checkDatabase(ctx: AgentContext, work: DatabaseWork): Promise<ConnectionCheckResult> {
  let target: Awaited<ReturnType<typeof resolveTarget>>;
  try {
    target = await resolveTarget(ctx, work);
  } catch (error) {
    return {
      items: [
        { step: 'authentication', ok: false, code: 'password_unsealable', detail: (error as Error).message },
      ],
    };
  }
  return getEngine(work.engine).checkConnection(target);
}

const storable = (text: string, max: number) => toStorableText(text).slice(0, max);

/** What the report carries: within the contract's bounds, with stderr made storable (NUL, bad UTF-8). */
export function toReport(
  requestedAt: string,
  agentId: string | undefined,
  r: ConnectionCheckResult,
): CheckReportBody {
  const items: CheckItem[] = r.items.slice(0, 60).map((item) => ({
    ...item,
    ...(item.detail !== undefined && { detail: storable(item.detail, 4000) }),
    ...(item.params && {
      params: Object.fromEntries(Object.entries(item.params).map(([k, v]) => [k, storable(v, 2000)])),
    }),
  }));
  return {
    requestedAt,
    ...(agentId && { agentId }),
    ...(r.serverVersion && { serverVersion: storable(r.serverVersion, 200) }),
    ...(r.toolVersion && { toolVersion: storable(r.toolVersion, 200) }),
    items,
  };
}

export class ConnectionChecks {
  readonly #ctx: AgentContext;
  /** `${databaseId} ${requestedAt}` of checks run or queued in this process */
  readonly #seen = new Set<string>();
  #queue: Array<{ work: DatabaseWork; requestedAt: string }> = [];
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(ctx: AgentContext) {
    this.#ctx = ctx;
  }

  /** Queues the heartbeat's check requests that are new; `databases` is the heartbeat's list. */
  handle(requests: CheckRequest[], databases: DatabaseWork[]): void {
    for (const request of requests) {
      const key = `${request.databaseId} ${request.requestedAt}`;
      const work = databases.find((d) => d.id === request.databaseId);
      if (!work || this.#seen.has(key)) continue;
      this.#seen.add(key);
      this.#queue.push({ work, requestedAt: request.requestedAt });
    }
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Takes no new checks and waits for the running one (a check ends within its connect timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue = [];
    await this.#running;
  }

  async #drain(): Promise<void> {
    for (let next = this.#queue.shift(); next && !this.#stopped; next = this.#queue.shift()) {
      await this.#run(next.work, next.requestedAt).catch((error) =>
        this.#ctx.log.error(
          'check.crashed',
          `internal error in the connection check of "${next?.work.name}": ${(error as Error).stack ?? error}`,
          {
            databaseId: next?.work.id,
          },
        ),
      );
    }
  }

  async #run(work: DatabaseWork, requestedAt: string): Promise<void> {
    const { log } = this.#ctx;
    const result = await checkDatabase(this.#ctx, work);
    const failed = result.items.filter((i) => !i.ok);
    if (failed.length === 0) {
      log.info('check.ok', `connection check of "${work.name}": every step passed`, { databaseId: work.id });
    } else {
      log.warn(
        'check.failed',
        `connection check of "${work.name}" failed: ${failed.map((i) => `${i.step}${i.subject ? ` ${i.subject}` : ''}: ${i.code}`).join('; ')}`,
        { databaseId: work.id },
      );
    }
    try {
      await this.#ctx.api.reportCheck(work.id, toReport(requestedAt, this.#ctx.agentId, result));
    } catch (error) {
      if (error instanceof ApiClientError && error.code === 'conflict') {
        // The user asked again or edited meanwhile: the next heartbeat brings the newer request.
        log.info('check.outdated', `the connection check of "${work.name}" was superseded; not reported`, {
          databaseId: work.id,
        });
        return;
      }
      // Forget it, so the next heartbeat (which still lists it) runs and reports it again.
      this.#seen.delete(`${work.id} ${requestedAt}`);
      log[isTransient(error) ? 'warn' : 'error'](
        'check.report-failed',
        `could not report the connection check of "${work.name}": ${(error as Error).message}`,
        { databaseId: work.id },
      );
    }
  }
}
