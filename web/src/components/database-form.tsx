// Add/edit a database: one message per invalid field, the port following the engine, the
// password sealed to the chosen agent, and the next runs of the schedule as you type.
import type { Engine } from '@resistro/contract/schemas';
import { createMemo, createSignal, For, type JSX, Show } from 'solid-js';
import { createStore } from 'solid-js/store';
import { ApiClientError } from '../api.ts';
import { t } from '../i18n/index.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import {
  type DatabaseFormContext,
  type DatabaseFormField,
  type DatabaseFormProblems,
  type DatabaseFormValues,
  defaultValues,
  engineKind,
  passwordRequired,
  portAfterEngineChange,
  previewRuns,
  serverFieldErrors,
  validateDatabaseForm,
  valuesFromDatabase,
} from '../lib/database-form.ts';
import { ENGINES_IN_FORM, engineLabel } from '../lib/engines.ts';
import { formatRelative, formatRun } from '../lib/format.ts';
import { actionBlocked } from '../lib/session.ts';
import { timeZones } from '../lib/time-zones.ts';
import { focusFirstInvalid } from '../lib/validate.ts';
import { ConnectionCheckPanel } from './connection-check.tsx';
import { control, Field } from './field.tsx';
import { Icon } from './icons.tsx';
import { ErrorState } from './states.tsx';

export type DatabaseFormProps = {
  ctx: DatabaseFormContext;
  planName: string;
  onSubmit: (values: DatabaseFormValues) => Promise<void>;
  onCancel: () => void;
};

export function DatabaseForm(props: DatabaseFormProps): JSX.Element {
  const editing = () => props.ctx.editing;
  const action = () => (editing() ? ACTIONS.editDatabase : ACTIONS.createDatabase);
  const [values, setValues] = createStore<DatabaseFormValues>(
    props.ctx.editing ? valuesFromDatabase(props.ctx.editing) : defaultValues(props.ctx),
  );
  const [submitted, setSubmitted] = createSignal(false);
  const [serverErrors, setServerErrors] = createSignal<Partial<Record<DatabaseFormField, string>>>({});
  const [error, setError] = createSignal<unknown>();
  const [busy, setBusy] = createSignal(false);
  let form: HTMLFormElement | undefined;

  const problems = createMemo<DatabaseFormProblems>(() =>
    submitted() ? validateDatabaseForm(values, props.ctx) : {},
  );
  const message = (f: DatabaseFormField) => {
    const p = problems()[f];
    return p ? t(p.key, p.params) : serverErrors()[f];
  };
  const set = <K extends DatabaseFormField>(field: K, value: DatabaseFormValues[K]) => {
    setValues(field, value);
    if (serverErrors()[field]) setServerErrors(({ [field]: _, ...rest }) => rest);
  };
  const zones = timeZones(values.timezone);
  const runs = createMemo(() => previewRuns(values, new Date(), 5));
  const agent = () => props.ctx.agents.find((a) => a.id === values.agentId);
  const kind = () => engineKind(values.engine);

  const changeEngine = (engine: Engine) => {
    setValues('port', portAfterEngineChange(values.port, values.engine, engine));
    setValues('engine', engine);
  };

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    setSubmitted(true);
    setError(undefined);
    setServerErrors({});
    if (Object.keys(validateDatabaseForm(values, props.ctx)).length > 0) return focusFirstInvalid(form);
    setBusy(true);
    try {
      await props.onSubmit({ ...values });
    } catch (err) {
      setError(err);
      if (err instanceof ApiClientError) {
        setServerErrors(serverFieldErrors(err.fields));
        focusFirstInvalid(form);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form ref={form} class="form" onSubmit={submit} novalidate aria-describedby="db-form-error">
      <div id="db-form-error">
        <Show when={error()}>
          <ErrorState error={error()} compact />
        </Show>
        <Show when={submitted() && Object.keys(problems()).length > 0}>
          <div class="alert alert-error" role="alert">
            <Icon name="alert" />
            <p>{t('dbForm.fixFields', { count: Object.keys(problems()).length })}</p>
          </div>
        </Show>
      </div>

      {/* what the last connection test found, next to the fields that fix it; saving tests again */}
      <Show when={props.ctx.editing?.connectionCheck?.status === 'failed'}>
        <ConnectionCheckPanel check={props.ctx.editing?.connectionCheck ?? null} />
      </Show>

      <section class="form-section card">
        <div class="form-section-head">
          <h2>{t('dbForm.agentSection')}</h2>
          <p class="muted">{t('dbForm.agentSectionHint')}</p>
        </div>
        <Field id="db-agent" label={t('dbForm.agent')} error={message('agentId')}>
          <select
            {...control('db-agent', message('agentId'))}
            value={values.agentId}
            onChange={(e) => set('agentId', e.currentTarget.value)}
          >
            <option value="">{t('dbForm.chooseAgent')}</option>
            <For each={props.ctx.agents}>
              {(a) => (
                <option value={a.id} selected={a.id === values.agentId}>
                  {a.hostname} — {a.online ? t('agents.online') : t('agents.offline')}
                </option>
              )}
            </For>
          </select>
        </Field>
      </section>

      <section class="form-section card">
        <div class="form-section-head">
          <h2>{t('dbForm.connectionSection')}</h2>
        </div>
        <div class="form-grid">
          <Field
            id="db-name"
            label={t('dbForm.name')}
            error={message('name')}
            hint={t('dbForm.nameHint')}
            class="span-2"
          >
            <input
              {...control('db-name', message('name'), true)}
              value={values.name}
              onInput={(e) => set('name', e.currentTarget.value)}
              autocomplete="off"
            />
          </Field>
          <Field
            id="db-engine"
            label={t('dbForm.engine')}
            error={message('engine')}
            hint={editing() ? t('dbForm.engineFixed') : undefined}
          >
            <select
              {...control('db-engine', message('engine'), Boolean(editing()))}
              value={values.engine}
              disabled={Boolean(editing())}
              onChange={(e) => changeEngine(e.currentTarget.value as Engine)}
            >
              <For each={ENGINES_IN_FORM}>
                {(en) => (
                  <option value={en} selected={en === values.engine}>
                    {engineLabel(en)}
                  </option>
                )}
              </For>
            </select>
          </Field>
          <Show when={kind() === 'server' || kind() === 'redis'}>
            <div class="form-grid-inner">
              <Field id="db-host" label={t('dbForm.host')} error={message('host')}>
                <input
                  {...control('db-host', message('host'))}
                  value={values.host}
                  onInput={(e) => set('host', e.currentTarget.value)}
                  autocomplete="off"
                  spellcheck={false}
                  autocapitalize="none"
                />
              </Field>
              <Field id="db-port" label={t('dbForm.port')} error={message('port')} class="field-port">
                <input
                  {...control('db-port', message('port'))}
                  inputmode="numeric"
                  value={values.port}
                  onInput={(e) => set('port', e.currentTarget.value)}
                />
              </Field>
            </div>
          </Show>
          <Show when={kind() === 'server'}>
            <Field id="db-database" label={t('dbForm.database')} error={message('database')}>
              <input
                {...control('db-database', message('database'))}
                value={values.database}
                onInput={(e) => set('database', e.currentTarget.value)}
                autocomplete="off"
                spellcheck={false}
                autocapitalize="none"
              />
            </Field>
          </Show>
          <Show when={kind() === 'server' || kind() === 'redis'}>
            <Field
              id="db-user"
              label={kind() === 'redis' ? t('dbForm.redisUser') : t('dbForm.user')}
              error={message('user')}
              hint={kind() === 'redis' ? t('dbForm.redisUserHint') : undefined}
            >
              <input
                {...control('db-user', message('user'))}
                value={values.user}
                onInput={(e) => set('user', e.currentTarget.value)}
                autocomplete="off"
                spellcheck={false}
                autocapitalize="none"
              />
            </Field>
          </Show>
          <Show when={kind() === 'redis'}>
            <label class="checkbox span-2">
              <input
                type="checkbox"
                checked={values.redisTls}
                onChange={(e) => set('redisTls', e.currentTarget.checked)}
              />
              {t('dbForm.redisTls')}
            </label>
          </Show>
          <Show when={kind() === 'sqlite'}>
            <Field
              id="db-sqlite-path"
              label={t('dbForm.sqlitePath')}
              error={message('sqlitePath')}
              hint={t('dbForm.sqlitePathHint')}
              class="span-2"
            >
              <input
                {...control('db-sqlite-path', message('sqlitePath'), true)}
                value={values.sqlitePath}
                placeholder="/srv/app/data/app.sqlite"
                onInput={(e) => set('sqlitePath', e.currentTarget.value)}
                autocomplete="off"
                spellcheck={false}
                autocapitalize="none"
              />
            </Field>
          </Show>
          <Show when={kind() === 'directory'}>
            <Field
              id="db-paths"
              label={t('dbForm.paths')}
              error={message('paths')}
              hint={t('dbForm.pathsHint')}
              class="span-2"
            >
              <textarea
                {...control('db-paths', message('paths'), true)}
                rows={3}
                value={values.paths}
                placeholder={'/srv/app/uploads\n/etc/app'}
                onInput={(e) => set('paths', e.currentTarget.value)}
                spellcheck={false}
              />
            </Field>
            <Field id="db-include" label={t('dbForm.include')} hint={t('dbForm.includeHint')}>
              <textarea
                id="db-include"
                rows={2}
                value={values.include}
                placeholder="*.jpg"
                onInput={(e) => set('include', e.currentTarget.value)}
                spellcheck={false}
              />
            </Field>
            <Field id="db-exclude" label={t('dbForm.exclude')} hint={t('dbForm.excludeHint')}>
              <textarea
                id="db-exclude"
                rows={2}
                value={values.exclude}
                placeholder={'cache\n*.tmp'}
                onInput={(e) => set('exclude', e.currentTarget.value)}
                spellcheck={false}
              />
            </Field>
          </Show>
        </div>
      </section>

      <Show when={kind() === 'server' || kind() === 'redis'}>
        <section class="form-section card">
          <div class="form-section-head">
            <h2>{t('dbForm.credentialsSection')}</h2>
          </div>
          <fieldset class="choice-group">
            <legend class="sr-only">{t('dbForm.credentialsSection')}</legend>
            <label class="choice" classList={{ selected: values.credentialsMode === 'sealed' }}>
              <input
                type="radio"
                name="credentialsMode"
                value="sealed"
                checked={values.credentialsMode === 'sealed'}
                onChange={() => set('credentialsMode', 'sealed')}
              />
              <span>
                <strong>{t('dbForm.sealed')}</strong>
                <span class="choice-hint">{t('dbForm.sealedHint')}</span>
              </span>
            </label>
            <label class="choice" classList={{ selected: values.credentialsMode === 'local' }}>
              <input
                type="radio"
                name="credentialsMode"
                value="local"
                checked={values.credentialsMode === 'local'}
                onChange={() => set('credentialsMode', 'local')}
              />
              <span>
                <strong>{t('dbForm.local')}</strong>
                <span class="choice-hint">{t('dbForm.localHint')}</span>
              </span>
            </label>
          </fieldset>
          <Show when={values.credentialsMode === 'sealed'}>
            <Field
              id="db-password"
              label={t('dbForm.password')}
              error={message('password')}
              hint={
                <>
                  <Icon name="shield" size={14} />{' '}
                  {passwordRequired(values, props.ctx)
                    ? t('dbForm.passwordSealedTo', { host: agent()?.hostname ?? '…' })
                    : t('dbForm.passwordKeep')}
                </>
              }
            >
              <input
                {...control('db-password', message('password'), true)}
                type="password"
                autocomplete="new-password"
                value={values.password}
                onInput={(e) => set('password', e.currentTarget.value)}
              />
            </Field>
          </Show>
        </section>
      </Show>

      <section class="form-section card">
        <div class="form-section-head">
          <h2>{t('dbForm.scheduleSection')}</h2>
        </div>
        <fieldset class="segmented" aria-describedby="schedule-kind-hint">
          <legend class="sr-only">{t('dbForm.scheduleKind')}</legend>
          <label classList={{ selected: values.scheduleKind === 'daily' }}>
            <input
              type="radio"
              name="scheduleKind"
              value="daily"
              checked={values.scheduleKind === 'daily'}
              onChange={() => set('scheduleKind', 'daily')}
            />
            {t('dbForm.daily')}
          </label>
          <label classList={{ selected: values.scheduleKind === 'cron' }}>
            <input
              type="radio"
              name="scheduleKind"
              value="cron"
              checked={values.scheduleKind === 'cron'}
              onChange={() => set('scheduleKind', 'cron')}
            />
            {t('dbForm.cron')}
          </label>
        </fieldset>
        <p class="field-hint" id="schedule-kind-hint">
          {values.scheduleKind === 'daily' ? t('dbForm.dailyHint') : t('dbForm.cronHint')}
        </p>
        <div class="form-grid">
          <Show
            when={values.scheduleKind === 'daily'}
            fallback={
              <Field
                id="db-cron"
                label={t('dbForm.expression')}
                error={message('expression')}
                hint={t('dbForm.expressionHint')}
              >
                <input
                  {...control('db-cron', message('expression'), true)}
                  class="mono"
                  value={values.expression}
                  onInput={(e) => set('expression', e.currentTarget.value)}
                  spellcheck={false}
                  autocomplete="off"
                />
              </Field>
            }
          >
            <Field id="db-time" label={t('dbForm.time')} error={message('time')}>
              <input
                {...control('db-time', message('time'))}
                type="time"
                value={values.time}
                onInput={(e) => set('time', e.currentTarget.value)}
              />
            </Field>
          </Show>
          <Field id="db-timezone" label={t('dbForm.timezone')} error={message('timezone')}>
            <select
              {...control('db-timezone', message('timezone'))}
              value={values.timezone}
              onChange={(e) => set('timezone', e.currentTarget.value)}
            >
              <For each={zones}>
                {(z) => (
                  <option value={z} selected={z === values.timezone}>
                    {z.replaceAll('_', ' ')}
                  </option>
                )}
              </For>
            </select>
          </Field>
        </div>
        <div class="preview" aria-live="polite">
          <h3>{t('dbForm.nextRuns')}</h3>
          <Show when={runs()} fallback={<p class="muted">{t('dbForm.noPreview')}</p>}>
            {(list) => (
              <ol class="run-list" data-testid="next-runs">
                <For each={list()}>
                  {(d) => (
                    <li>
                      <time datetime={d.toISOString()}>{formatRun(d, values.timezone)}</time>
                      <span class="muted"> · {formatRelative(d)}</span>
                    </li>
                  )}
                </For>
              </ol>
            )}
          </Show>
        </div>
      </section>

      <section class="form-section card">
        <div class="form-section-head">
          <h2>{t('dbForm.retentionSection')}</h2>
        </div>
        <Field
          id="db-retention"
          label={t('dbForm.retentionDays')}
          error={message('retentionDays')}
          hint={t('dbForm.retentionHint', { plan: props.planName, max: props.ctx.maxRetentionDays })}
        >
          <input
            {...control('db-retention', message('retentionDays'), true)}
            type="number"
            min="1"
            max={props.ctx.maxRetentionDays}
            inputmode="numeric"
            class="input-short"
            value={values.retentionDays}
            onInput={(e) => set('retentionDays', e.currentTarget.value)}
          />
        </Field>
      </section>

      <div class="form-actions">
        <button type="button" class="btn btn-secondary" onClick={() => props.onCancel()}>
          {t('action.cancel')}
        </button>
        <button
          type="submit"
          class="btn btn-primary"
          disabled={busy() || actionBlocked(action()) !== undefined}
          title={actionBlocked(action())}
          data-action={actionAttr(action())}
        >
          {busy() ? t('state.working') : editing() ? t('dbForm.save') : t('dbForm.create')}
        </button>
      </div>
    </form>
  );
}
