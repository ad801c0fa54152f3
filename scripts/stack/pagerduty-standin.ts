// The local stand-in for PagerDuty's Events API v2 (POST /v2/enqueue): it checks an event the way
// PagerDuty documents it (a 32-character routing key, trigger/acknowledge/resolve, a trigger's
// summary/source/severity) and keeps incidents by routing key and dedup key, so a test can see
// that an alert opened exactly one incident and that its resolve closed that same one.
import { randomUUID } from 'node:crypto';

export type PagerDutyIncident = {
  routingKey: string;
  dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  severity: string;
  source: string;
  /** every accepted event for this incident, in order */
  actions: string[];
};

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

export type PagerDutyAnswer = { status: number; body: Record<string, unknown> };

export function createPagerDutyStandIn() {
  const incidents = new Map<string, PagerDutyIncident>();
  const invalid = (errors: string[]): PagerDutyAnswer => ({
    status: 400,
    body: { status: 'invalid event', message: 'Event object is invalid', errors },
  });

  function enqueue(raw: string): PagerDutyAnswer {
    let e: Record<string, any>;
    try {
      e = JSON.parse(raw);
    } catch {
      return { status: 400, body: { status: 'invalid request', message: 'Invalid JSON' } };
    }
    const errors: string[] = [];
    if (typeof e.routing_key !== 'string' || !/^[A-Za-z0-9]{32}$/.test(e.routing_key))
      errors.push("'routing_key' is invalid");
    if (!['trigger', 'acknowledge', 'resolve'].includes(e.event_action))
      errors.push("'event_action' must be one of trigger, acknowledge, resolve");
    if (e.event_action !== 'trigger' && typeof e.dedup_key !== 'string')
      errors.push("'dedup_key' is required for acknowledge and resolve");
    if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255))
      errors.push("'dedup_key' must be a string of at most 255 characters");
    if (e.event_action === 'trigger') {
      const p = e.payload;
      if (!p || typeof p !== 'object') errors.push("'payload' is missing");
      else {
        if (typeof p.summary !== 'string' || !p.summary || p.summary.length > 1024)
          errors.push("'payload.summary' must be 1–1024 characters");
        if (typeof p.source !== 'string' || !p.source) errors.push("'payload.source' is missing");
        if (!SEVERITIES.includes(p.severity)) errors.push("'payload.severity' is invalid");
      }
    }
    if (errors.length > 0) return invalid(errors);
    const dedupKey: string = e.dedup_key ?? randomUUID();
    const key = `${e.routing_key}/${dedupKey}`;
    const current = incidents.get(key);
    if (e.event_action === 'trigger') {
      if (current && current.status !== 'resolved') current.actions.push('trigger');
      else
        incidents.set(key, {
          routingKey: e.routing_key,
          dedupKey,
          status: 'triggered',
          summary: e.payload.summary,
          severity: e.payload.severity,
          source: e.payload.source,
          actions: [...(current?.actions ?? []), 'trigger'],
        });
    } else if (current && current.status !== 'resolved') {
      current.status = e.event_action === 'resolve' ? 'resolved' : 'acknowledged';
      current.actions.push(e.event_action);
    }
    // PagerDuty accepts a resolve for an unknown key too (and does nothing).
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
  }

  return {
    enqueue,
    incidents: () => [...incidents.values()].map((i) => ({ ...i, actions: [...i.actions] })),
    clear: () => incidents.clear(),
  };
}
