// A database's restore test settings: on or off, how often (no shorter than the plan allows),
// where the scratch copy is made, the time limit, when to alert, and the customer's own checks.
import {
  CHECK_OPS,
  type CheckOp,
  RESTORE_TEST_MAX_CHECKS,
  type RestoreTestSettings,
} from '@resistro/contract/restore-tests';
import type { Database } from '@resistro/contract/schemas';
import { createSignal, createUniqueId, For, type JSX, Show } from 'solid-js';
import { ApiClientError, api, errorMessage } from '../api.ts';
import { t, tn } from '../i18n/index.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import { formatDateTime } from '../lib/format.ts';
import { actionBlocked } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { control, Field } from './field.tsx';

const INTERVALS = [1, 6, 12, 24, 72, 168, 336, 720];
const family = (engine: string) => (engine === 'postgres' ? 'postgres' : 'mysql');

function intervalLabel(hours: number): string {
  if (hours === 24) return t('rtest.form.daily');
  if (hours === 168) return t('rtest.form.weekly');
  if (hours === 720) return t('rtest.form.monthly');
  return tn('rtest.form.every', hours);
}

type CheckDraft = { id?: string | undefined; name: string; sql: string; op: CheckOp; value: string };

export function RestoreTestSettingsForm(props: {
  database: Database;
  databases: Database[];
  settings: RestoreTestSettings;
  onSaved: (settings: RestoreTestSettings) => void;
}): JSX.Element {
  const id = createUniqueId();
  const s = props.settings;
  const [enabled, setEnabled] = createSignal(s.enabled);
  const [interval, setIntervalHours] = createSignal(Math.max(s.intervalHours, s.minIntervalHours));
  const [targetId, setTargetId] = createSignal(s.target.databaseId ?? '');
  const [timeLimit, setTimeLimit] = createSignal(String(s.timeLimitMinutes));
  const [alertAfter, setAlertAfter] = createSignal(String(s.alertAfterDays));
  const [checks, setChecks] = createSignal<CheckDraft[]>(
    s.checks.map((c) => ({ id: c.id, name: c.name, sql: c.sql, op: c.expect.op, value: c.expect.value })),
  );
  const [fields, setFields] = createSignal<Record<string, string>>({});
  const [busy, setBusy] = createSignal(false);

  // another server: a database of the same kind on the same agent
  const others = () =>
    props.databases.filter(
      (d) =>
        d.id !== props.database.id &&
        d.agentId === props.database.agentId &&
        (d.engine === 'postgres' || d.engine === 'mysql' || d.engine === 'mariadb') &&
        family(d.engine) === family(props.database.engine),
    );
  const intervals = () => {
    const allowed = INTERVALS.filter((h) => h >= s.minIntervalHours);
    return allowed.includes(interval()) ? allowed : [...allowed, interval()].sort((a, b) => a - b);
  };
  const updateCheck = (i: number, patch: Partial<CheckDraft>) =>
    setChecks(checks().map((c, j) => (j === i ? { ...c, ...patch } : c)));

  const save = async (e: SubmitEvent) => {
    e.preventDefault();
    setBusy(true);
    setFields({});
    try {
      const { settings } = await api.putRestoreTestSettings(props.database.id, {
        enabled: enabled(),
        intervalHours: interval(),
        target: targetId() ? { kind: 'database', databaseId: targetId() } : { kind: 'scratch' },
        timeLimitMinutes: Number(timeLimit()),
        alertAfterDays: Number(alertAfter()),
        checks: checks().map((c) => ({
          ...(c.id && { id: c.id }),
          name: c.name.trim(),
          sql: c.sql,
          expect: { op: c.op, value: c.value },
        })),
      });
      showToast(t('rtest.form.saved'));
      props.onSaved(settings);
    } catch (err) {
      if (err instanceof ApiClientError && err.fields) setFields(err.fields);
      showToast(errorMessage(err), 'error', 10_000);
    } finally {
      setBusy(false);
    }
  };
  const err = (key: string) => fields()[key];

  return (
    <form class="restore-test-settings" data-testid="restore-test-settings" onSubmit={save}>
      <label class="checkbox">
        <input type="checkbox" checked={enabled()} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        {t('rtest.form.enabled')}
      </label>
      <p class="field-hint">
        {s.nextDueAt ? t('rtest.form.nextDue', { when: formatDateTime(s.nextDueAt) }) : t('rtest.form.off')}
      </p>
      <Field
        id={`${id}-interval`}
        label={t('rtest.form.interval')}
        hint={t('rtest.form.intervalHint', { hours: s.minIntervalHours })}
        error={err('intervalHours')}
      >
        <select
          {...control(`${id}-interval`, err('intervalHours'), true)}
          value={String(interval())}
          disabled={!enabled()}
          onChange={(e) => setIntervalHours(Number(e.currentTarget.value))}
        >
          <For each={intervals()}>{(h) => <option value={String(h)}>{intervalLabel(h)}</option>}</For>
        </select>
      </Field>
      <fieldset class="choice-group">
        <legend>{t('rtest.form.target')}</legend>
        <label class="choice" classList={{ selected: !targetId() }}>
          <input type="radio" name={`${id}-target`} checked={!targetId()} onChange={() => setTargetId('')} />
          <span>
            <strong>{t('rtest.form.targetScratch')}</strong>
            <span class="choice-hint">{t('rtest.form.targetScratchHint')}</span>
          </span>
        </label>
        <label class="choice" classList={{ selected: Boolean(targetId()) }}>
          <input
            type="radio"
            name={`${id}-target`}
            checked={Boolean(targetId())}
            disabled={others().length === 0}
            onChange={() => setTargetId(others()[0]?.id ?? '')}
          />
          <span>
            <strong>{t('rtest.form.targetOther')}</strong>
            <span class="choice-hint">
              {others().length > 0 ? t('rtest.form.targetOtherHint') : t('rtest.form.noOther')}
            </span>
          </span>
        </label>
      </fieldset>
      <Show when={targetId()}>
        <Field id={`${id}-other`} label={t('restore.otherDatabase')} error={err('target.databaseId')}>
          <select
            {...control(`${id}-other`, err('target.databaseId'))}
            value={targetId()}
            onChange={(e) => setTargetId(e.currentTarget.value)}
          >
            <For each={others()}>
              {(d) => (
                <option value={d.id}>
                  {d.name} ({d.host}:{d.port})
                </option>
              )}
            </For>
          </select>
        </Field>
      </Show>
      <div class="form-row">
        <Field id={`${id}-limit`} label={t('rtest.form.timeLimit')} error={err('timeLimitMinutes')}>
          <input
            {...control(`${id}-limit`, err('timeLimitMinutes'))}
            type="number"
            min="1"
            max="1440"
            value={timeLimit()}
            onInput={(e) => setTimeLimit(e.currentTarget.value)}
          />
        </Field>
        <Field id={`${id}-alert`} label={t('rtest.form.alertAfter')} error={err('alertAfterDays')}>
          <input
            {...control(`${id}-alert`, err('alertAfterDays'))}
            type="number"
            min="1"
            max="365"
            value={alertAfter()}
            onInput={(e) => setAlertAfter(e.currentTarget.value)}
          />
        </Field>
      </div>
      <fieldset class="restore-test-checks">
        <legend>{t('rtest.form.checks')}</legend>
        <p class="field-hint">{t('rtest.form.checksHint')}</p>
        <For each={checks()}>
          {(c, i) => (
            <div class="check-row" data-testid="check-row">
              <Field
                id={`${id}-c${i()}-name`}
                label={t('rtest.form.checkName')}
                error={err(`checks.${i()}.name`)}
              >
                <input
                  {...control(`${id}-c${i()}-name`, err(`checks.${i()}.name`))}
                  value={c.name}
                  maxLength={100}
                  onInput={(e) => updateCheck(i(), { name: e.currentTarget.value })}
                />
              </Field>
              <Field
                id={`${id}-c${i()}-sql`}
                label={t('rtest.form.checkSql')}
                error={err(`checks.${i()}.sql`)}
              >
                <textarea
                  {...control(`${id}-c${i()}-sql`, err(`checks.${i()}.sql`))}
                  rows={2}
                  spellcheck={false}
                  value={c.sql}
                  onInput={(e) => updateCheck(i(), { sql: e.currentTarget.value })}
                />
              </Field>
              <Field id={`${id}-c${i()}-op`} label={t('rtest.form.checkOp')}>
                <select
                  {...control(`${id}-c${i()}-op`, undefined)}
                  value={c.op}
                  onChange={(e) => updateCheck(i(), { op: e.currentTarget.value as CheckOp })}
                >
                  <For each={CHECK_OPS}>{(op) => <option value={op}>{op}</option>}</For>
                </select>
              </Field>
              <Field
                id={`${id}-c${i()}-value`}
                label={t('rtest.form.checkValue')}
                error={err(`checks.${i()}.expect.value`)}
              >
                <input
                  {...control(`${id}-c${i()}-value`, err(`checks.${i()}.expect.value`))}
                  value={c.value}
                  onInput={(e) => updateCheck(i(), { value: e.currentTarget.value })}
                />
              </Field>
              <button
                type="button"
                class="btn btn-ghost btn-sm"
                onClick={() => setChecks(checks().filter((_, j) => j !== i()))}
              >
                {t('rtest.form.removeCheck')}
              </button>
            </div>
          )}
        </For>
        <button
          type="button"
          class="btn btn-secondary btn-sm"
          disabled={checks().length >= RESTORE_TEST_MAX_CHECKS}
          onClick={() =>
            setChecks([...checks(), { name: '', sql: 'SELECT count(*) FROM ', op: '>', value: '0' }])
          }
        >
          {t('rtest.form.addCheck')}
        </button>
      </fieldset>
      <div class="form-actions">
        <button
          type="submit"
          class="btn btn-primary"
          disabled={busy() || actionBlocked(ACTIONS.restoreTestSettings) !== undefined}
          title={actionBlocked(ACTIONS.restoreTestSettings)}
          data-action={actionAttr(ACTIONS.restoreTestSettings)}
        >
          {t('rtest.form.save')}
        </button>
      </div>
    </form>
  );
}
