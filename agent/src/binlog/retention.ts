// The server deletes binlog files after its retention (binlog_expire_logs_seconds, or
// expire_logs_days on older servers). A file deleted before the agent stored it is a gap no restore
// can cross, so the agent compares the retention with how far behind it is and warns early.

/** Warn once the agent's lag has eaten half the retention, or when the retention is below a day. */
export function retentionWarning(
  retentionSeconds: number,
  lagSeconds: number,
  cutIntervalSeconds: number,
): { message: string; hint: string } | undefined {
  if (retentionSeconds <= 0) return undefined; // never expires
  const hint = `Raise the retention on the server (SET PERSIST binlog_expire_logs_seconds = ${7 * 86_400}, or expire_logs_days = 7 on older servers) and check that the agent can reach the server and the storage.`;
  if (lagSeconds >= retentionSeconds / 2) {
    return {
      message: `the agent is ${formatSeconds(lagSeconds)} behind the binary log, and the server deletes binlogs after ${formatSeconds(retentionSeconds)}: what it has not stored by then is lost for point-in-time recovery`,
      hint,
    };
  }
  if (retentionSeconds < Math.max(86_400, 10 * cutIntervalSeconds)) {
    return {
      message: `the server keeps binlogs for only ${formatSeconds(retentionSeconds)}: an agent outage longer than that leaves a gap in point-in-time recovery`,
      hint,
    };
  }
  return undefined;
}

function formatSeconds(seconds: number): string {
  if (seconds >= 86_400) return `${(seconds / 86_400).toFixed(1)} days`;
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)} h`;
  if (seconds >= 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds)} s`;
}
