// The agent version this deployment hands out (/downloads and install-agent.sh come from the same
// build), so the dashboard can tell which agents run an older one. The agent reports
// "<version> (<commit>)" in its heartbeat (agent/src/version.ts); agent/package.json must agree
// (agent-version.test.ts).

export const CURRENT_AGENT_VERSION = '0.1.0';

/** [major, minor, patch] of "1.2.3 (commit)", or undefined for anything else. */
export function parseAgentVersion(text: string): [number, number, number] | undefined {
  const m = /^(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:[\s+-]|$)/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/**
 * An agent is outdated when its version is older than the one this service hands out. A version
 * that is not x.y.z (a build from a fork, garbage) is not called outdated: nothing to compare.
 */
export function isAgentOutdated(reported: string, current: string = CURRENT_AGENT_VERSION): boolean {
  const a = parseAgentVersion(reported);
  const b = parseAgentVersion(current);
  if (!a || !b) return false;
  for (let i = 0; i < 3; i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]!;
  }
  return false;
}
