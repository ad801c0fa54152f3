import { type Accessor, createEffect, createSignal, onCleanup } from 'solid-js';

/**
 * Calls `tick` every `ms` while `active()` holds and the tab is visible; stops with the owner.
 * Used for live data: agents coming online, backups finishing.
 */
export function createPoll(tick: () => void, ms: number, active: Accessor<boolean> = () => true): void {
  createEffect(() => {
    if (!active()) return;
    const timer = setInterval(() => {
      if (typeof document === 'undefined' || document.visibilityState !== 'hidden') tick();
    }, ms);
    onCleanup(() => clearInterval(timer));
  });
}

/** A clock signal for "12 seconds ago" labels. */
export function createNow(ms = 10_000): Accessor<Date> {
  const [now, setNow] = createSignal(new Date());
  const timer = setInterval(() => setNow(new Date()), ms);
  onCleanup(() => clearInterval(timer));
  return now;
}
