// The environment of every program the agent starts (pg_dump, psql, mysqldump, mysql, zstd,
// systemctl): the agent's own, without its configuration. Whoever spawns asks here, so no caller
// can forget it.
// SECURITY: RESISTRO_API_KEY and RESISTRO_ENCRYPTION_KEY are parsed once by config.ts; no child
// needs them, and in a child's environment /proc/<pid>/environ would show them to every process of
// the same user. A database password goes only to the one tool that needs it, through `extra`.

/** `base` without any RESISTRO_* variable, plus `extra`. */
export function childEnv(
  extra: Record<string, string> = {},
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && !name.startsWith('RESISTRO_')) env[name] = value;
  }
  return { ...env, ...extra };
}
