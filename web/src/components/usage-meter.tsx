import type { JSX } from 'solid-js';
import { formatPercent } from '../lib/format.ts';

/** A labelled bar for usage against a limit; turns amber at 80 % and red at 95 %. */
export function UsageMeter(props: {
  value: number;
  max: number | null;
  label: string;
  text: string;
}): JSX.Element {
  const fraction = () => (props.max ? Math.min(1, props.value / props.max) : 0);
  const tone = () => (fraction() >= 0.95 ? 'error' : fraction() >= 0.8 ? 'warn' : 'ok');
  return (
    <div class="meter">
      <div class="meter-text">
        <span>{props.text}</span>
        <span class="muted">{props.max ? formatPercent(fraction()) : ''}</span>
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: <meter> cannot be styled alike across browsers; the ARIA meter role says the same */}
      <div
        class={`meter-bar meter-${tone()}`}
        role="meter"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={props.max ?? 0}
        aria-valuenow={props.value}
        aria-valuetext={props.text}
      >
        <span style={{ width: `${Math.max(fraction() * 100, props.value > 0 ? 1 : 0)}%` }} />
      </div>
    </div>
  );
}
