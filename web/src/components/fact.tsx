// One labelled figure in a card's list of facts (a database's page, its continuous protection).
import { type JSX, Show } from 'solid-js';

export function Fact(props: { label: string; children: JSX.Element; sub?: JSX.Element }): JSX.Element {
  return (
    <div class="fact">
      <dt>{props.label}</dt>
      <dd>
        {props.children}
        <Show when={props.sub}>
          <span class="fact-sub">{props.sub}</span>
        </Show>
      </dd>
    </div>
  );
}
