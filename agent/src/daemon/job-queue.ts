/**
 * One job at a time, in the order asked, each job once: the shape both the restores and the test
 * restores the control plane hands the daemon need. The queue owns each job's AbortController
 * from before it starts, so a stop can never fall between "taken" and "stoppable".
 */
export class JobQueue<T> {
  readonly #run: (item: T, stop: AbortController) => Promise<void>;
  readonly #crashed: (item: T, error: unknown) => void;
  readonly #seen = new Set<string>();
  #queue: T[] = [];
  #running: Promise<void> | undefined;
  #current: AbortController | undefined;
  #stopped = false;

  constructor(
    /** `stop`: aborted by `stop()`; the job may abort it itself too (a cancel from the dashboard) */
    run: (item: T, stop: AbortController) => Promise<void>,
    crashed: (item: T, error: unknown) => void,
  ) {
    this.#run = run;
    this.#crashed = crashed;
  }

  /** True while a job is queued or running. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Whether a job with this id was queued before (and not forgotten since). */
  has(id: string): boolean {
    return this.#seen.has(id);
  }

  /** Queues a job not seen before; starts working if idle. */
  add(id: string, item: T): void {
    if (this.#stopped || this.#seen.has(id)) return;
    this.#seen.add(id);
    this.#queue.push(item);
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Lets the job be queued again (it could not be taken this time; the next poll asks again). */
  forget(id: string): void {
    this.#seen.delete(id);
  }

  /** Takes no new jobs, drops the queued ones, stops the running one with `reason`, and waits for it. */
  async stop(reason: unknown): Promise<void> {
    this.#stopped = true;
    this.#queue = [];
    this.#current?.abort(reason);
    await this.#running;
  }

  async #drain(): Promise<void> {
    for (let next = this.#queue.shift(); next !== undefined && !this.#stopped; next = this.#queue.shift()) {
      const stop = new AbortController();
      this.#current = stop;
      try {
        await this.#run(next, stop);
      } catch (error) {
        this.#crashed(next, error);
      } finally {
        this.#current = undefined;
      }
    }
  }
}
