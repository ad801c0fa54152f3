// Each database's schedule, evaluated locally from the last configuration received, so backups go
// on while the control plane is unreachable. The last slot handled per database is kept on disk:
// a restart neither repeats a slot nor skips one. A slot missed while the agent was down runs once
// when it is back (not once per missed slot). A database seen for the first time starts with its
// next slot, never with a backfill.
import type { DatabaseWork, Schedule } from '@resistro/contract';
import { nextRuns } from '@resistro/contract';

/** what schedule.json holds: per database, the slot handled last and the schedule it belonged to */
export type ScheduleState = Record<string, { lastSlot: string; schedule: string }>;

type Entry = { work: DatabaseWork; lastSlot: Date; next: Date | undefined; scheduleKey: string };

const MAX_CATCH_UP_STEPS = 20_000;

function keyOf(schedule: Schedule): string {
  return JSON.stringify(schedule);
}

function nextAfter(schedule: Schedule, after: Date): Date | undefined {
  try {
    return nextRuns(schedule, after, 1)[0];
  } catch {
    return undefined; // an expression croner cannot evaluate: never due (the API validates them)
  }
}

export class Scheduler {
  readonly #entries = new Map<string, Entry>();
  readonly #state: ScheduleState;

  constructor(state: ScheduleState = {}) {
    this.#state = { ...state };
  }

  /** Takes the databases of a heartbeat (or the cache). Returns true when the state changed. */
  setDatabases(databases: DatabaseWork[], now: Date): boolean {
    let changed = false;
    const ids = new Set(databases.map((d) => d.id));
    for (const id of [...this.#entries.keys()]) if (!ids.has(id)) this.#entries.delete(id);
    for (const id of Object.keys(this.#state)) {
      if (!ids.has(id)) {
        delete this.#state[id];
        changed = true;
      }
    }
    for (const work of databases) {
      const key = keyOf(work.schedule);
      const saved = this.#state[work.id];
      let lastSlot = saved ? new Date(saved.lastSlot) : now;
      // Paused: nothing runs and nothing is owed when it resumes.
      if (work.paused || Number.isNaN(lastSlot.getTime())) lastSlot = now;
      if (!saved || work.paused || saved.lastSlot !== lastSlot.toISOString() || saved.schedule !== key) {
        // A changed schedule counts from now: the new times apply from here on, without backfill.
        if (saved && saved.schedule !== key) lastSlot = now;
        this.#state[work.id] = { lastSlot: lastSlot.toISOString(), schedule: key };
        changed = true;
      }
      const existing = this.#entries.get(work.id);
      const next = work.paused ? undefined : nextAfter(work.schedule, lastSlot);
      if (existing && existing.scheduleKey === key && !work.paused && !existing.work.paused) {
        existing.work = work;
        continue;
      }
      this.#entries.set(work.id, { work, lastSlot, next, scheduleKey: key });
    }
    return changed;
  }

  /** Databases whose slot has come, each once; their slot is marked handled. */
  due(now: Date): { work: DatabaseWork; slot: Date }[] {
    const out: { work: DatabaseWork; slot: Date }[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.work.paused) {
        // Time passes for a paused database too: resuming it owes no backfill.
        entry.lastSlot = now;
        this.#state[entry.work.id] = { lastSlot: now.toISOString(), schedule: entry.scheduleKey };
        continue;
      }
      if (!entry.next || entry.next.getTime() > now.getTime()) continue;
      // Several slots passed (the agent was down): run once, for the latest of them.
      let slot = entry.next;
      for (let i = 0; i < MAX_CATCH_UP_STEPS; i++) {
        const following = nextAfter(entry.work.schedule, slot);
        if (!following || following.getTime() > now.getTime()) break;
        slot = following;
      }
      entry.lastSlot = slot;
      entry.next = nextAfter(entry.work.schedule, slot);
      this.#state[entry.work.id] = { lastSlot: slot.toISOString(), schedule: entry.scheduleKey };
      out.push({ work: entry.work, slot });
    }
    return out;
  }

  nextRunOf(databaseId: string): Date | undefined {
    return this.#entries.get(databaseId)?.next;
  }

  state(): ScheduleState {
    return { ...this.#state };
  }
}
