// A one-line progress bar on a terminal: bytes so far, rate, and a bar when the total is known.
// Off a terminal it does nothing; the commands log one line per event instead.
import { formatBytes, type Logger } from './log.ts';

export type Progress = {
  add(bytes: number): void;
  done(): void;
};

const REDRAW_MS = 150;

/** where and when: a terminal's stderr and the clock, unless a test gives others */
export type ProgressIo = {
  stream: { isTTY?: boolean; write(text: string): unknown };
  now: () => number;
};

export function createProgress(
  log: Logger,
  label: string,
  total?: number,
  io: ProgressIo = { stream: process.stderr, now: Date.now },
): Progress {
  const { stream, now: clock } = io;
  if (log.json || !stream.isTTY) return { add() {}, done() {} };
  const started = clock();
  let bytes = 0;
  let lastDraw = 0;
  let drawn = false;
  const clear = () => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = () => {
    const seconds = Math.max((clock() - started) / 1000, 0.001);
    const rate = `${formatBytes(bytes / seconds)}/s`;
    let bar = '';
    if (total && total > 0) {
      const width = 24;
      const filled = Math.min(width, Math.round((bytes / total) * width));
      bar = ` [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.min(100, Math.floor((bytes / total) * 100))}%`;
    }
    stream.write(
      `\r\x1b[2K${label}${bar} ${formatBytes(bytes)}${total ? ` of ${formatBytes(total)}` : ''}  ${rate}`,
    );
    drawn = true;
  };
  log.setInterrupt(clear);
  return {
    add(n) {
      bytes += n;
      const now = clock();
      if (now - lastDraw >= REDRAW_MS || (total !== undefined && bytes >= total)) {
        lastDraw = now;
        draw();
      }
    },
    done() {
      clear();
      log.setInterrupt(undefined);
    },
  };
}
