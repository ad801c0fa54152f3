// "Wiederherstellen": the dialog that asks the database's agent to restore a backup. The target is
// a new database (a suggested name), another empty database of the same agent, or the original,
// which needs its name typed and the account password again. The agent holds the key; this only
// queues the job (POST /restores).
import type { Restore, RestoreTargetInput } from '@resistro/contract/restores';
import type { Agent, Backup, Database } from '@resistro/contract/schemas';
import { createEffect, createSignal, createUniqueId, For, type JSX, Show } from 'solid-js';
import { ApiClientError, api } from '../api.ts';
import { t } from '../i18n/index.ts';
import { formatDateTime } from '../lib/format.ts';
import { control, Field } from './field.tsx';
import { ErrorState } from './states.tsx';

type Kind = RestoreTargetInput['kind'];

/** `shop_restored_2026_12_02`: letters, digits and _ only, so every engine takes it as it is. */
export function suggestRestoreName(database: string, day: Date): string {
  const date = day.toISOString().slice(0, 10).replaceAll('-', '_');
  let base = database.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(base)) base = `db_${base}`;
  const suffix = `_restored_${date}`;
  return `${base.slice(0, 63 - suffix.length)}${suffix}`;
}

const family = (engine: Database['engine']) => (engine === 'postgres' ? 'postgres' : 'mysql');

export function RestoreDialog(props: {
  open: boolean;
  database: Database;
  /** undefined: the database's newest successful backup */
  backup: Backup | undefined;
  agent: Agent | undefined;
  /** every database of the account (the other targets are picked from them) */
  databases: Database[];
  onClose: () => void;
  onStarted: (restore: Restore) => void;
}): JSX.Element {
  let dialog!: HTMLDialogElement;
  const id = createUniqueId();
  const [kind, setKind] = createSignal<Kind>('new');
  const [name, setName] = createSignal('');
  const [otherId, setOtherId] = createSignal('');
  const [confirm, setConfirm] = createSignal('');
  const [password, setPassword] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<unknown>();
  const [fields, setFields] = createSignal<Record<string, string>>({});

  const others = () =>
    props.databases.filter(
      (d) =>
        d.id !== props.database.id &&
        d.agentId === props.database.agentId &&
        family(d.engine) === family(props.database.engine),
    );

  createEffect(() => {
    if (props.open) {
      setKind('new');
      setName(suggestRestoreName(props.database.database, new Date()));
      setOtherId(others()[0]?.id ?? '');
      setConfirm('');
      setPassword('');
      setError(undefined);
      setFields({});
      if (dialog.open) return;
      try {
        dialog.showModal();
      } catch {
        dialog.setAttribute('open', ''); // environments without showModal (jsdom)
      }
    } else if (dialog.open) {
      dialog.close();
    }
  });

  const target = (): RestoreTargetInput => {
    if (kind() === 'new') return { kind: 'new', database: name().trim() };
    if (kind() === 'database') return { kind: 'database', databaseId: otherId() };
    return { kind: 'original', confirm: confirm() };
  };
  const confirmed = () => kind() !== 'original' || confirm() === props.database.database;
  const ready = () =>
    !busy() &&
    confirmed() &&
    (kind() !== 'new' || name().trim() !== '') &&
    (kind() !== 'database' || otherId() !== '') &&
    (kind() !== 'original' || password() !== '');

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!ready()) return;
    setBusy(true);
    setError(undefined);
    setFields({});
    try {
      const { restore } = await api.createRestore({
        ...(props.backup ? { backupId: props.backup.id } : { databaseId: props.database.id }),
        target: target(),
        ...(kind() === 'original' && { password: password() }),
      });
      props.onStarted(restore);
      props.onClose();
    } catch (err) {
      if (err instanceof ApiClientError && err.fields) setFields(err.fields);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (key: string) => fields()[key];
  const choice = (value: Kind, label: string, hint: JSX.Element, disabled = false) => (
    <label class="choice" classList={{ selected: kind() === value }}>
      <input
        type="radio"
        name={`${id}-kind`}
        value={value}
        checked={kind() === value}
        disabled={disabled}
        onChange={() => setKind(value)}
      />
      <span>
        <strong>{label}</strong>
        <span class="choice-hint">{hint}</span>
      </span>
    </label>
  );

  return (
    <dialog
      ref={dialog}
      class="dialog dialog-wide"
      aria-labelledby={`${id}-title`}
      data-testid="restore-dialog"
      onCancel={(e) => {
        e.preventDefault();
        if (!busy()) props.onClose();
      }}
    >
      <form onSubmit={submit} novalidate>
        <h2 id={`${id}-title`}>{t('restore.title', { name: props.database.name })}</h2>
        <div class="dialog-body restore-form">
          <dl class="restore-facts">
            <div>
              <dt>{t('restore.what')}</dt>
              <dd>{props.backup ? formatDateTime(props.backup.startedAt) : t('restore.newest')}</dd>
            </div>
            <div>
              <dt>{t('restore.agent')}</dt>
              <dd>{props.agent?.hostname ?? '–'}</dd>
            </div>
          </dl>
          <p class="field-hint">{t('restore.agentHint')}</p>
          <Show when={props.agent && !props.agent.online}>
            <p class="alert alert-warn" role="status">
              {t('restore.agentOffline', { host: props.agent?.hostname ?? '' })}
            </p>
          </Show>

          <fieldset class="choice-group">
            <legend>{t('restore.target')}</legend>
            {choice('new', t('restore.targetNew'), t('restore.targetNewHint'))}
            {choice(
              'database',
              t('restore.targetOther'),
              others().length > 0 ? t('restore.targetOtherHint') : t('restore.noOther'),
              others().length === 0,
            )}
            {choice(
              'original',
              t('restore.targetOriginal'),
              t('restore.targetOriginalHint', { database: props.database.database }),
            )}
          </fieldset>

          <Show when={kind() === 'new'}>
            <Field id={`${id}-name`} label={t('restore.newName')} error={fieldError('target.database')}>
              <input
                {...control(`${id}-name`, fieldError('target.database'))}
                value={name()}
                onInput={(e) => {
                  setName(e.currentTarget.value);
                  setFields({});
                }}
                autocomplete="off"
                spellcheck={false}
              />
            </Field>
          </Show>
          <Show when={kind() === 'database'}>
            <Field
              id={`${id}-other`}
              label={t('restore.otherDatabase')}
              error={fieldError('target.databaseId')}
            >
              <select
                {...control(`${id}-other`, fieldError('target.databaseId'))}
                value={otherId()}
                onChange={(e) => setOtherId(e.currentTarget.value)}
              >
                <For each={others()}>
                  {(d) => (
                    <option value={d.id}>
                      {d.name} ({d.host}:{d.port}/{d.database})
                    </option>
                  )}
                </For>
              </select>
            </Field>
          </Show>
          <Show when={kind() === 'original'}>
            <p class="alert alert-warn" role="note" data-testid="replace-warning">
              {props.database.engine === 'postgres'
                ? t('restore.replaceWarnPg', { database: props.database.database })
                : t('restore.replaceWarnMysql', { database: props.database.database })}
            </p>
            <Field
              id={`${id}-confirm`}
              label={t('restore.confirm', { database: props.database.database })}
              error={
                fieldError('target.confirm') ??
                (confirm() !== '' && !confirmed() ? t('restore.confirmMismatch') : undefined)
              }
            >
              <input
                {...control(`${id}-confirm`, fieldError('target.confirm'))}
                value={confirm()}
                onInput={(e) => {
                  setConfirm(e.currentTarget.value);
                  setFields({});
                }}
                autocomplete="off"
                spellcheck={false}
              />
            </Field>
            <Field
              id={`${id}-password`}
              label={t('restore.password')}
              hint={t('restore.passwordHint')}
              error={fieldError('password')}
            >
              <input
                {...control(`${id}-password`, fieldError('password'), true)}
                type="password"
                value={password()}
                onInput={(e) => {
                  setPassword(e.currentTarget.value);
                  setFields({});
                }}
                autocomplete="current-password"
              />
            </Field>
          </Show>
        </div>
        <Show when={error() && Object.keys(fields()).length === 0}>
          <ErrorState error={error()} compact />
        </Show>
        <div class="dialog-actions">
          <button type="button" class="btn btn-secondary" onClick={() => props.onClose()} disabled={busy()}>
            {t('action.cancel')}
          </button>
          <button
            type="submit"
            class={kind() === 'original' ? 'btn btn-danger' : 'btn btn-primary'}
            disabled={!ready()}
            aria-busy={busy()}
          >
            {busy()
              ? t('state.working')
              : kind() === 'original'
                ? t('restore.submitReplace', { database: props.database.database })
                : t('restore.submit')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
