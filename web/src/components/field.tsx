// A labelled form control with its hint and its own error message, wired for screen readers.
import { type JSX, Show } from 'solid-js';

export type ControlProps = { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string };

/** Attributes the input inside a Field needs: id, invalid state, and what describes it. */
export function control(id: string, error: string | undefined, hint?: boolean): ControlProps {
  const described = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return { id, 'aria-invalid': Boolean(error), ...(described && { 'aria-describedby': described }) };
}

export function Field(props: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: JSX.Element;
  class?: string;
  children: JSX.Element;
}): JSX.Element {
  return (
    <div class={`field ${props.class ?? ''}`} classList={{ 'field-invalid': Boolean(props.error) }}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      <Show when={props.hint}>
        <p class="field-hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      </Show>
      <Show when={props.error}>
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      </Show>
    </div>
  );
}
