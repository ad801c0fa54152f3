import type { JSX } from 'solid-js';

export function Logo(props: { class?: string }): JSX.Element {
  return (
    <span class={`logo ${props.class ?? ''}`}>
      <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true">
        <rect width="32" height="32" rx="8" fill="#4f46e5" />
        <path
          d="M9 11c0-2 3.1-3.5 7-3.5s7 1.5 7 3.5v10c0 2-3.1 3.5-7 3.5S9 23 9 21zM9 11c0 2 3.1 3.5 7 3.5s7-1.5 7-3.5M9 16c0 2 3.1 3.5 7 3.5s7-1.5 7-3.5"
          fill="none"
          stroke="#fff"
          stroke-width="2"
        />
      </svg>
      <span class="logo-text">Resistro</span>
    </span>
  );
}
