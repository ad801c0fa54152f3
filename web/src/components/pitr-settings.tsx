// Continuous protection on or off, with its RPO target, base-backup interval, window and (for
// PostgreSQL) how the WAL reaches the agent. The server checks every field (the window against the
// plan); its field errors show under the inputs.
import type { PitrSettingsBody, PitrStatus } from '@resistro/contract/pitr';
import { createSignal, type JSX, Show } from 'solid-js';
import { ApiClientError, api, errorMessage } from '../api.ts';
import { pt } from '../i18n/pitr-texts.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import { actionBlocked } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { control, Field } from './field.tsx';

/** Minutes as typed ("5", "0.5") to whole seconds; anything else goes as it is and the server refuses it. */
export function rpoSecondsOf(minutes: string): number {
  const n = Number(minutes.replace(',', '.'));
  return Number.isFinite(n) ? Math.round(n * 60) : Number.NaN;
}

export function PitrSettingsForm(props: {
  databaseId: string;
  status: PitrStatus;
  onSaved: (status: PitrStatus) => void;
}): JSX.Element {
  const s = props.status.settings;
  const [enabled, setEnabled] = createSignal(s.enabled);
  const [rpo, setRpo] = createSignal(String(Math.round((s.rpoSeconds / 60) * 100) / 100));
  const [every, setEvery] = createSignal(String(s.baseBackupEveryDays));
  const [windowDays, setWindowDays] = createSignal(String(s.windowDays));
  const [method, setMethod] = createSignal(s.method);
  const [busy, setBusy] = createSignal(false);
  const [fields, setFields] = createSignal<Record<string, string>>({});
  const blocked = () => actionBlocked(ACTIONS.setPitr);

  const save = async (e: SubmitEvent) => {
    e.preventDefault();
    setBusy(true);
    setFields({});
    const body: PitrSettingsBody = {
      enabled: enabled(),
      rpoSeconds: rpoSecondsOf(rpo()),
      baseBackupEveryDays: Number(every()),
      windowDays: Number(windowDays()),
      ...(props.status.engine === 'postgres' && { method: method() }),
    };
    try {
      const status = await api.putPitrSettings(props.databaseId, body);
      const turned = status.settings.enabled !== s.enabled;
      showToast(turned ? pt(status.settings.enabled ? 'pitr.savedOn' : 'pitr.savedOff') : pt('pitr.saved'));
      props.onSaved(status);
    } catch (err) {
      if (err instanceof ApiClientError && err.fields) setFields(err.fields);
      showToast(errorMessage(err), 'error', 10_000);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="pitr-settings" data-testid="pitr-settings" onSubmit={save} novalidate>
      <label class="checkbox">
        <input
          type="checkbox"
          name="pitr-enabled"
          checked={enabled()}
          onChange={(e) => setEnabled(e.currentTarget.checked)}
        />
        {pt('pitr.enabled')}
      </label>
      <div class="form-grid">
        <Field id="pitr-rpo" label={pt('pitr.rpo')} hint={pt('pitr.rpoHint')} error={fields().rpoSeconds}>
          <input
            {...control('pitr-rpo', fields().rpoSeconds, true)}
            type="number"
            min="0.17"
            step="any"
            inputmode="decimal"
            value={rpo()}
            onInput={(e) => setRpo(e.currentTarget.value)}
          />
        </Field>
        <Field
          id="pitr-every"
          label={pt('pitr.baseEvery')}
          hint={pt('pitr.baseEveryHint')}
          error={fields().baseBackupEveryDays}
        >
          <input
            {...control('pitr-every', fields().baseBackupEveryDays, true)}
            type="number"
            min="1"
            max="30"
            step="1"
            inputmode="numeric"
            value={every()}
            onInput={(e) => setEvery(e.currentTarget.value)}
          />
        </Field>
        <Field
          id="pitr-window"
          label={pt('pitr.windowDays')}
          hint={pt('pitr.windowDaysHint', { max: props.status.maxWindowDays })}
          error={fields().windowDays}
        >
          <input
            {...control('pitr-window', fields().windowDays, true)}
            type="number"
            min="1"
            max={props.status.maxWindowDays}
            step="1"
            inputmode="numeric"
            value={windowDays()}
            onInput={(e) => setWindowDays(e.currentTarget.value)}
          />
        </Field>
      </div>
      <Show when={props.status.engine === 'postgres'}>
        <fieldset class="radio-group">
          <legend>{pt('pitr.method')}</legend>
          <label class="radio">
            <input
              type="radio"
              name="pitr-method"
              checked={method() === 'stream'}
              onChange={() => setMethod('stream')}
            />
            {pt('pitr.methodStream')}
          </label>
          <label class="radio">
            <input
              type="radio"
              name="pitr-method"
              checked={method() === 'archive_command'}
              onChange={() => setMethod('archive_command')}
            />
            {pt('pitr.methodArchive')}
          </label>
        </fieldset>
      </Show>
      <div class="form-actions">
        <button
          type="submit"
          class="btn btn-primary"
          disabled={busy() || blocked() !== undefined}
          title={blocked()}
          data-action={actionAttr(ACTIONS.setPitr)}
        >
          {pt('pitr.save')}
        </button>
      </div>
    </form>
  );
}
