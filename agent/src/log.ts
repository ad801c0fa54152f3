// One logger for every command. On a terminal it prints short human lines to stderr; otherwise
// (systemd, pipes, tests) one JSON object per event, so journald and log shippers can parse it.
// stdout stays free for what a command outputs (a key, a status report).
// SECURITY: callers pass named fields, never a whole config or error object with secrets in it;
// the encryption key and the API key are never logged.

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export type Logger = {
  debug(event: string, message: string, fields?: LogFields): void;
  info(event: string, message: string, fields?: LogFields): void;
  warn(event: string, message: string, fields?: LogFields): void;
  error(event: string, message: string, fields?: LogFields): void;
  readonly json: boolean;
  readonly level: LogLevel;
  /** a logger that adds `fields` to every line */
  child(fields: LogFields): Logger;
  /** lets a progress bar clear its line before a log line is printed */
  setInterrupt(fn: (() => void) | undefined): void;
};

export type LoggerOptions = {
  level?: LogLevel;
  /** JSON lines (default: when stderr is not a terminal) */
  json?: boolean;
  write?: (line: string) => void;
};

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const json = opts.json ?? !process.stderr.isTTY;
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const state: { interrupt: (() => void) | undefined } = { interrupt: undefined };
  const threshold = LOG_LEVELS.indexOf(level);

  const make = (base: LogFields): Logger => {
    const emit = (lvl: LogLevel, event: string, message: string, fields: LogFields = {}) => {
      if (LOG_LEVELS.indexOf(lvl) < threshold) return;
      state.interrupt?.();
      if (json) {
        const record: Record<string, unknown> = {
          time: new Date().toISOString(),
          level: lvl,
          event,
          msg: message,
        };
        for (const [k, v] of Object.entries({ ...base, ...fields })) if (v !== undefined) record[k] = v;
        write(`${JSON.stringify(record)}\n`);
      } else {
        const tag = lvl === 'info' ? '' : `${lvl}: `;
        write(`resistro: ${tag}${message}\n`);
      }
    };
    return {
      debug: (e, m, f) => emit('debug', e, m, f),
      info: (e, m, f) => emit('info', e, m, f),
      warn: (e, m, f) => emit('warn', e, m, f),
      error: (e, m, f) => emit('error', e, m, f),
      json,
      level,
      child: (fields) => make({ ...base, ...fields }),
      setInterrupt(fn) {
        state.interrupt = fn;
      },
    };
  };
  return make({});
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1536 → "1.5 KB" (decimal units, as disks and plans count) */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
