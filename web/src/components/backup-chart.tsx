// Backup size and duration over time (uPlot). The backups table next to it carries the same
// numbers as text for screen readers; the chart itself is labelled as an image with a summary.
import type { Backup } from '@resistro/contract/schemas';
import { createEffect, type JSX, on, onCleanup, onMount } from 'solid-js';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { intlLocale, locale, t } from '../i18n/index.ts';
import { formatBytes, formatDuration } from '../lib/format.ts';

export function BackupChart(props: { backups: Backup[] }): JSX.Element {
  let host!: HTMLDivElement;
  let chart: uPlot | undefined;

  const points = () =>
    props.backups
      .filter((b) => b.status === 'succeeded')
      .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));

  const build = () => {
    chart?.destroy();
    const list = points();
    const xs = list.map((b) => Date.parse(b.startedAt) / 1000);
    const sizes = list.map((b) => b.sizeBytes);
    const seconds = list.map((b) => (b.durationMs == null ? null : b.durationMs / 1000));
    // Tick labels as precise as the spacing between ticks needs, in the user's language.
    const tickFormat = (increment: number) =>
      new Intl.DateTimeFormat(
        intlLocale(),
        increment < 60
          ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
          : increment < 86400
            ? { hour: '2-digit', minute: '2-digit' }
            : { day: 'numeric', month: 'short' },
      );
    const full = new Intl.DateTimeFormat(intlLocale(), { dateStyle: 'medium', timeStyle: 'short' });
    const last = list.length - 1;
    // Without a cursor on the chart the legend shows the latest backup.
    const at = <T,>(values: T[], v: T | null | undefined, idx: number | null | undefined) =>
      idx == null ? values[last] : v;
    const axis = {
      stroke: '#475569',
      grid: { stroke: '#e2e8f0', width: 1 },
      ticks: { stroke: '#e2e8f0', width: 1 },
      font: '12px system-ui, sans-serif',
    };
    chart = new uPlot(
      {
        width: Math.max(280, host.clientWidth),
        height: 260,
        legend: { show: true, live: true },
        cursor: { points: { size: 8 } },
        scales: {
          x: { time: true },
          bytes: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
          seconds: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
        },
        series: [
          {
            label: t('chart.time'),
            value: (_u, v, _s, idx) => {
              const x = at(xs, v, idx);
              return x == null ? '–' : full.format(x * 1000);
            },
          },
          {
            label: t('chart.size'),
            scale: 'bytes',
            stroke: '#4f46e5',
            fill: 'rgba(79, 70, 229, 0.10)',
            width: 2,
            points: { show: true, size: 6, fill: '#4f46e5' },
            value: (_u, v, _s, idx) => {
              const y = at(sizes, v, idx);
              return y == null ? '–' : formatBytes(y);
            },
          },
          {
            label: t('chart.duration'),
            scale: 'seconds',
            stroke: '#d97706',
            width: 2,
            dash: [6, 4],
            points: { show: true, size: 6, fill: '#d97706' },
            value: (_u, v, _s, idx) => {
              const y = at(seconds, v, idx);
              return y == null ? '–' : formatDuration(y * 1000);
            },
          },
        ],
        axes: [
          {
            ...axis,
            space: 70,
            // whole seconds at least: backups seconds apart must not get sub-second ticks
            incrs: [
              1, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 604800,
              2592000,
            ],
            values: (_u, splits, _axis, _space, increment) => {
              const f = tickFormat(increment);
              return splits.map((s) => f.format(s * 1000));
            },
          },
          {
            ...axis,
            scale: 'bytes',
            size: 72,
            values: (_u, splits) => splits.map((s) => (s === 0 ? '0' : formatBytes(s))),
          },
          {
            ...axis,
            scale: 'seconds',
            side: 1,
            size: 64,
            grid: { show: false },
            values: (_u, splits) => splits.map((s) => (s === 0 ? '0' : formatDuration(s * 1000))),
          },
        ],
      },
      [xs, sizes, seconds],
      host,
    );
  };

  onMount(() => {
    const observer = new ResizeObserver(() =>
      chart?.setSize({ width: Math.max(280, host.clientWidth), height: 260 }),
    );
    observer.observe(host);
    onCleanup(() => {
      observer.disconnect();
      chart?.destroy();
    });
  });
  // Rebuild when the data or the language changes (axis and legend labels are formatted text).
  createEffect(on([() => props.backups, locale], build));

  const summary = () => {
    const list = points();
    const last = list[list.length - 1];
    return t('chart.summary', {
      count: list.length,
      size: formatBytes(last?.sizeBytes ?? null),
      duration: formatDuration(last?.durationMs ?? null),
    });
  };

  return <div class="chart" ref={host} role="img" aria-label={summary()} />;
}
