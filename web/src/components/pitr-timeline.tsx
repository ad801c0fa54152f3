// The restorable window as a timeline: the stretches a restore can reach (holes a gap left stay
// empty), with the base backups and the dumps on it. Every mark carries its text for screen
// readers and as a tooltip; the list under it says the same in words.
import type { PitrStatus } from '@resistro/contract/pitr';
import { For, type JSX, Show } from 'solid-js';
import { pt } from '../i18n/pitr-texts.ts';
import { formatMoment } from '../lib/format.ts';

/**
 * The stretch of time the timeline shows: from the oldest restorable point or base backup to now
 * (the last day while there is none), so the window fills the width however short it is.
 */
export function timelineSpan(status: PitrStatus, now: Date): { from: number; to: number } {
  const starts = [
    ...status.ranges.map((r) => Date.parse(r.start)),
    ...status.baseBackups.map((b) => Date.parse(b.consistentAt)),
  ];
  const ends = [now.getTime(), ...status.ranges.map((r) => Date.parse(r.end))];
  const to = Math.max(...ends);
  const from = starts.length > 0 ? Math.min(...starts) : to - 86400_000;
  // a little room on the left, so the first mark is not cut in half
  return { from: from - Math.max(1000, (to - from) * 0.02), to };
}

export function PitrTimeline(props: { status: PitrStatus; now: Date }): JSX.Element {
  const span = () => timelineSpan(props.status, props.now);
  const at = (iso: string) => {
    const { from, to } = span();
    const x = ((Date.parse(iso) - from) / Math.max(1, to - from)) * 100;
    return Math.min(100, Math.max(0, x));
  };
  const inView = (iso: string) => Date.parse(iso) >= span().from;
  const holes = () =>
    props.status.ranges.slice(1).map((r, i) => ({ start: props.status.ranges[i]!.end, end: r.start }));
  return (
    <div class="pitr-timeline" data-testid="pitr-timeline">
      <div
        class="pitr-track"
        role="img"
        aria-label={pt('pitr.timelineLabel', {
          start: formatMoment(new Date(span().from)),
          end: formatMoment(new Date(span().to)),
        })}
      >
        <For each={props.status.ranges}>
          {(r) => (
            <span
              class="pitr-range"
              title={pt('pitr.rangeText', { start: formatMoment(r.start), end: formatMoment(r.end) })}
              style={{ left: `${at(r.start)}%`, width: `${Math.max(0.5, at(r.end) - at(r.start))}%` }}
            />
          )}
        </For>
        <For each={props.status.dumps.filter((d) => inView(d.startedAt))}>
          {(d) => (
            <span
              class="pitr-mark pitr-mark-dump"
              title={pt('pitr.dumpAt', { when: formatMoment(d.startedAt) })}
              style={{ left: `${at(d.startedAt)}%` }}
            />
          )}
        </For>
        <For each={props.status.baseBackups.filter((b) => inView(b.consistentAt))}>
          {(b) => (
            <span
              class="pitr-mark pitr-mark-base"
              title={pt('pitr.baseAt', { when: formatMoment(b.consistentAt) })}
              style={{ left: `${at(b.consistentAt)}%` }}
            />
          )}
        </For>
      </div>
      <div class="pitr-axis">
        <span>{formatMoment(new Date(span().from))}</span>
        <span>{formatMoment(new Date(span().to))}</span>
      </div>
      <ul class="pitr-legend">
        <li>
          <span class="pitr-key pitr-range" aria-hidden="true" />
          {pt('pitr.legendRestorable')}
        </li>
        <li>
          <span class="pitr-key pitr-mark-base" aria-hidden="true" />
          {pt('pitr.legendBase')}
        </li>
        <li>
          <span class="pitr-key pitr-mark-dump" aria-hidden="true" />
          {pt('pitr.legendDump')}
        </li>
      </ul>
      <ul class="pitr-stretches" data-testid="pitr-stretches">
        <For each={props.status.ranges}>
          {(r, i) => (
            <>
              <li>{pt('pitr.rangeText', { start: formatMoment(r.start), end: formatMoment(r.end) })}</li>
              <Show when={holes()[i()]}>
                {(h) => (
                  <li class="pitr-hole-text">
                    {pt('pitr.holeText', { start: formatMoment(h().start), end: formatMoment(h().end) })}
                  </li>
                )}
              </Show>
            </>
          )}
        </For>
      </ul>
    </div>
  );
}
