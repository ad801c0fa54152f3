// What cli.ts hands to a command, and what a command module exports. A file of its own so that
// the commands need not import cli.ts (which loads them).
import type { Config } from './config.ts';
import type { Logger } from './log.ts';

export type CommandInput = {
  options: Record<string, string | boolean | undefined>;
  config: Config;
  log: Logger;
  env: NodeJS.ProcessEnv;
  /** aborted on SIGINT/SIGTERM */
  signal: AbortSignal;
  /** command output (a key, a report); logs go to stderr */
  out: (text: string) => void;
};

export type CommandModule = { run(input: CommandInput): Promise<number> };
