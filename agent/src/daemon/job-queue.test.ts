import { describe, expect, it } from 'vitest';
import { JobQueue } from './job-queue.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('JobQueue', () => {
  it('runs each job once, one at a time, in the order asked', async () => {
    const ran: string[] = [];
    let active = 0;
    let most = 0;
    const q = new JobQueue<string>(
      async (item) => {
        active++;
        most = Math.max(most, active);
        await tick();
        ran.push(item);
        active--;
      },
      () => {},
    );
    q.add('a', 'a');
    q.add('b', 'b');
    q.add('a', 'a again');
    expect(q.busy).toBe(true);
    while (q.busy) await tick();
    expect(ran).toEqual(['a', 'b']);
    expect(most).toBe(1);
  });

  it('queues a forgotten job again, and goes on after a job crashes', async () => {
    const ran: string[] = [];
    const crashed: string[] = [];
    const q = new JobQueue<string>(
      async (item) => {
        ran.push(item);
        if (item === 'x') throw new Error('boom');
      },
      (item, error) => crashed.push(`${item}: ${(error as Error).message}`),
    );
    q.add('x', 'x');
    q.add('y', 'y');
    while (q.busy) await tick();
    q.forget('x');
    q.add('x', 'x');
    while (q.busy) await tick();
    expect(ran).toEqual(['x', 'y', 'x']);
    expect(crashed).toEqual(['x: boom', 'x: boom']);
  });

  it('stop aborts the running job with its reason, drops the queued ones and takes no more', async () => {
    const reasons: unknown[] = [];
    const ran: string[] = [];
    const q = new JobQueue<string>(
      (item, stop) =>
        new Promise<void>((resolve) => {
          ran.push(item);
          // a job that only ends when stopped
          stop.signal.addEventListener('abort', () => {
            reasons.push(stop.signal.reason);
            resolve();
          });
        }),
      () => {},
    );
    q.add('long', 'long');
    q.add('next', 'next');
    await tick();
    const reason = new Error('the agent was stopped');
    await q.stop(reason);
    q.add('late', 'late');
    expect(q.busy).toBe(false);
    expect(q.stopped).toBe(true);
    expect(ran).toEqual(['long']);
    expect(reasons).toEqual([reason]);
  });
});
