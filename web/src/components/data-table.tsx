// The one list table of the dashboard (agents, databases, API keys, alerts, deliveries): a
// caption for screen readers, column headers that double as labels on narrow screens, an optional
// actions column, and an empty state instead of an empty table.
import { For, type JSX, Show } from 'solid-js';
import { t } from '../i18n/index.ts';

export type Column<T> = {
  label: string;
  cell: (row: T) => JSX.Element;
  /** cells that take the full width on narrow screens */
  wide?: boolean;
  class?: string;
};

export function DataTable<T>(props: {
  caption: string;
  rows: readonly T[];
  columns: Column<T>[];
  /** e.g. `{ 'data-agent-id': id }`, for tests and deep links */
  rowAttrs?: (row: T) => Record<string, string>;
  actions?: (row: T) => JSX.Element;
  /** shown instead of the table when there are no rows */
  empty?: JSX.Element;
  /** a card of its own, edge to edge (otherwise the table sits inside the caller's card) */
  card?: boolean;
}): JSX.Element {
  const table = () => (
    <div class="table-wrap">
      <table class="table responsive-table">
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            <For each={props.columns}>{(c) => <th scope="col">{c.label}</th>}</For>
            <Show when={props.actions}>
              <th scope="col" class="actions-col">
                <span class="sr-only">{t('backups.col.actions')}</span>
              </th>
            </Show>
          </tr>
        </thead>
        <tbody>
          <For each={props.rows}>
            {(row) => (
              <tr {...(props.rowAttrs?.(row) ?? {})}>
                <For each={props.columns}>
                  {(c) => (
                    <td
                      data-label={c.label}
                      class={[c.wide ? 'cell-wide' : '', c.class ?? ''].join(' ').trim()}
                    >
                      {c.cell(row)}
                    </td>
                  )}
                </For>
                <Show when={props.actions}>
                  {(actions) => <td class="actions-cell">{actions()(row)}</td>}
                </Show>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
  return (
    <Show
      when={props.rows.length > 0 || props.empty === undefined}
      fallback={props.card ? <div class="card">{props.empty}</div> : props.empty}
    >
      <Show when={props.card} fallback={table()}>
        <div class="card card-flush">{table()}</div>
      </Show>
    </Show>
  );
}
