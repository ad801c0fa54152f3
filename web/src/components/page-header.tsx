import { createEffect, type JSX, Show } from 'solid-js';

export function PageHeader(props: {
  title: string;
  description?: JSX.Element;
  actions?: JSX.Element;
  back?: JSX.Element;
}): JSX.Element {
  // The tab title names the page too (history, tabs, and screen readers announce it).
  createEffect(() => {
    document.title = `${props.title} · Resistro`;
  });
  return (
    <header class="page-header">
      <div class="page-header-text">
        <Show when={props.back}>
          <div class="page-back">{props.back}</div>
        </Show>
        <h1 tabindex="-1">{props.title}</h1>
        <Show when={props.description}>
          <p class="page-description">{props.description}</p>
        </Show>
      </div>
      <Show when={props.actions}>
        <div class="page-actions">{props.actions}</div>
      </Show>
    </header>
  );
}
