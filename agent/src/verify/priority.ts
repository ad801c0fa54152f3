// A test restore must not compete with the production database: every client tool it starts
// (psql, mysql, the re-dump) runs at the lowest CPU priority (nice 19) and in the idle I/O class
// (ionice -c 3), so the server's own work goes first. The database server's backend doing the
// restore is not our child and keeps its priority: a separate target server (the per-database
// setting) is what takes the load off production entirely.
import { spawn as nodeSpawn } from 'node:child_process';
import { setPriority } from 'node:os';
import type { SpawnFn } from '../engines/process.ts';

export const LOW_CPU_PRIORITY = 19;

/** Wraps a spawn: each started process is reniced and put in the idle I/O class (best effort). */
export function lowPrioritySpawn(inner: SpawnFn, onLowered?: (pid: number) => void): SpawnFn {
  return (command, args, options) => {
    const child = inner(command, args, options);
    const pid = child.pid;
    if (pid !== undefined) {
      try {
        setPriority(pid, LOW_CPU_PRIORITY);
      } catch {
        // already gone, or not permitted: the tool still runs, only at normal priority
      }
      // ionice is util-linux; where it is missing the CPU priority alone applies.
      const io = nodeSpawn('ionice', ['-c', '3', '-p', String(pid)], { stdio: 'ignore' });
      io.on('error', () => {});
      onLowered?.(pid);
    }
    return child;
  };
}
