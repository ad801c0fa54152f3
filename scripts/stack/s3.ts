import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const S3_ACCESS_KEY_ID = 'S3RVER';
export const S3_SECRET_ACCESS_KEY = 'S3RVER';

export type S3Server = {
  url: string;
  port: number;
  bucket: string;
  stop(): Promise<void>;
  start(): Promise<void>;
};

/** The local signature-checking S3 server in its own process, so tests can stop and restart it. */
export async function startS3(opts: {
  dir: string;
  port: number;
  bucket: string;
  /** the bucket is created with S3 Object Lock (as the stack's is) */
  objectLock?: boolean;
  /** more buckets on the same server (a second location at the same provider) */
  extraBuckets?: string[];
}): Promise<S3Server> {
  let child: ChildProcess | undefined;
  const entry = fileURLToPath(new URL('./s3-server.ts', import.meta.url));
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const buckets = [opts.bucket, ...(opts.extraBuckets ?? [])].join(',');
      const args = [opts.dir, String(opts.port), buckets, ...(opts.objectLock ? ['object-lock'] : [])];
      const c = fork(entry, args, {
        execArgv: ['--no-warnings'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      child = c;
      c.once('message', () => resolve());
      c.once('exit', (code) => reject(new Error(`S3 server exited with ${code}`)));
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const c = child;
      if (!c || c.exitCode !== null) return resolve();
      c.removeAllListeners('exit');
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  await start();
  return { url: `http://127.0.0.1:${opts.port}`, port: opts.port, bucket: opts.bucket, stop, start };
}
