// The parallel restore's scheduler: a table's index builds start as soon as that table's data is
// in, while other sessions still load theirs; nothing starts before what it waits for.
import { describe, expect, it } from 'vitest';
import { schedule, type Task } from './parallel.ts';

/** A task that runs until the test finishes it; records when it started and ended. */
function controlled(name: string, events: string[], ready: () => boolean = () => true) {
  let finish!: () => void;
  let started!: () => void;
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  const state = { done: false };
  const task: Task = {
    size: 0,
    ready,
    run: () =>
      new Promise<void>((resolve) => {
        events.push(`start ${name}`);
        started();
        finish = () => {
          events.push(`end ${name}`);
          state.done = true;
          resolve();
        };
      }),
  };
  return { task, state, running, finish: () => finish() };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('restore scheduling', () => {
  it("starts a table's indexes when its own data is in, while another table still loads", async () => {
    const events: string[] = [];
    const big = controlled('data big', events);
    const small = controlled('data small', events);
    const smallIndexes = controlled('indexes small', events, () => small.state.done);
    const bigIndexes = controlled('indexes big', events, () => big.state.done);
    const all = schedule([big.task, small.task, bigIndexes.task, smallIndexes.task], 2, () => false);
    await Promise.all([big.running, small.running]);
    await turn();
    expect(events).toEqual(['start data big', 'start data small']);
    small.finish();
    await smallIndexes.running;
    expect(events).toEqual(['start data big', 'start data small', 'end data small', 'start indexes small']);
    smallIndexes.finish();
    await turn();
    // the big table's indexes wait for its data, though a session is free
    expect(events.at(-1)).toBe('end indexes small');
    big.finish();
    await bigIndexes.running;
    bigIndexes.finish();
    await all;
    expect(events.slice(-3)).toEqual(['end data big', 'start indexes big', 'end indexes big']);
  });

  it('takes no new task after a failure', async () => {
    const events: string[] = [];
    let failed = false;
    const first = controlled('first', events);
    const second = controlled('second', events);
    const all = schedule([first.task, second.task], 1, () => failed);
    await first.running;
    failed = true;
    first.finish();
    await all;
    expect(events).toEqual(['start first', 'end first']);
  });

  it('refuses to wait for something nothing will do (never hangs)', async () => {
    const never: Task = { size: 0, ready: () => false, run: async () => {} };
    await expect(schedule([never], 2, () => false)).rejects.toThrow(/tasks wait for data/);
  });
});
