// The parts the history tables of restores and restore tests share: the table with its hidden
// caption and column heads, a time cell, and the cancel button of a job still under way.
import { For, type JSX } from 'solid-js';
import { type Action, actionAttr } from '../lib/actions.ts';
import { formatDateTime } from '../lib/format.ts';
import { actionBlocked } from '../lib/session.ts';

export type HistoryColumn = { label: string; num?: boolean; title?: string };

/** A responsive table (each cell labelled for narrow screens) of one row per job. */
export function HistoryTable(props: {
  testid: string;
  caption: string;
  columns: HistoryColumn[];
  children: JSX.Element;
}): JSX.Element {
  return (
    <div class="table-wrap">
      <table class="table responsive-table" data-testid={props.testid}>
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            <For each={props.columns}>
              {(c) => (
                <th scope="col" class={c.num ? 'num' : undefined} title={c.title}>
                  {c.label}
                </th>
              )}
            </For>
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** A date and time cell; '–' when there is none. */
export function TimeCell(props: { label: string; at: string | null | undefined }): JSX.Element {
  return (
    <td data-label={props.label}>
      <time datetime={props.at ?? ''} class="nowrap">
        {formatDateTime(props.at)}
      </time>
    </td>
  );
}

/** Cancels a job under way; disabled once asked, while `busy`, or where the member may not. */
export function CancelJobButton(props: {
  action: Action;
  requested: boolean;
  busy?: boolean;
  label: string;
  requestedLabel: string;
  onClick: () => void;
}): JSX.Element {
  return (
    <button
      type="button"
      class="btn btn-danger-outline btn-sm"
      disabled={props.requested || props.busy === true || actionBlocked(props.action) !== undefined}
      title={actionBlocked(props.action)}
      data-action={actionAttr(props.action)}
      onClick={() => props.onClick()}
    >
      {props.requested ? props.requestedLabel : props.label}
    </button>
  );
}
