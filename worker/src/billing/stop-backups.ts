// New backups stop when the subscription is unpaid past its grace period (or paused): the agent's
// start of a backup is refused here, before the backups feature sees it, as the read-only closing
// is refused in one middleware. The heartbeat tells the agent the same (agent-work/).
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-types.ts';
import { ApiError } from '../errors.ts';
import { backupsStopReason } from './billing.ts';

const START_BACKUP = '/api/v1/backups';

export const refuseBackupsWhenUnpaid = createMiddleware<AppEnv>(async (c, next) => {
  const principal = c.get('principal');
  if (!principal || c.req.method !== 'POST' || c.req.path !== START_BACKUP) return next();
  const stopped = await backupsStopReason(
    c.get('db'),
    c.get('config').billing,
    principal.accountId,
    c.get('now'),
  );
  if (stopped) throw new ApiError('payment_required', stopped);
  return next();
});
