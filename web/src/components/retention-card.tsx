// A database's retention (issue 18): its retention days or grandfather-father-son tiers (the
// first good backup of each of the last N days, weeks, months, years in the account's time zone),
// and object lock for new backups (every backup for some days, or the first of a day/week/month/
// year for some years). Before saving, the form shows which existing backups the rule would
// delete (the server runs the retention job's own conditions); Save waits for that preview.
import type { RetentionPreview, RetentionRule, RetentionTiers } from '@resistro/contract/retention';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { ApiClientError, api } from '../api.ts';
import { type RetentionTextKey, rt } from '../i18n/retention-texts.ts';
import { ACTIONS } from '../lib/actions.ts';
import { formatBytes, formatDateTime } from '../lib/format.ts';
import { actionBlocked } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { control, Field } from './field.tsx';
import { ErrorState, Loading } from './states.tsx';

const TIER_NAMES = ['daily', 'weekly', 'monthly', 'yearly'] as const;
type TierName = (typeof TIER_NAMES)[number];
const PREVIEW_SHOWN = 20;
const YEAR_DAYS = 365;

/** Whole numbers only; anything else is sent as it is and refused by the server with its field. */
const toCount = (s: string) => (s.trim() === '' ? 0 : Number(s));

export function RetentionCard(props: { databaseId: string; onSaved?: () => void }): JSX.Element {
  const [rule, { refetch }] = createResource(
    () => props.databaseId,
    async (id) => (await api.getRetention(id)).rule,
  );
  return (
    <section class="card" id="retention" aria-labelledby="retention-title">
      <div class="card-head">
        <h2 id="retention-title">{rt('retention.title')}</h2>
      </div>
      <Show when={!rule.error} fallback={<ErrorState error={rule.error} compact retry={refetch} />}>
        <Show when={rule()} fallback={<Loading />}>
          {(r) => <RetentionForm rule={r()} databaseId={props.databaseId} onSaved={props.onSaved} />}
        </Show>
      </Show>
    </section>
  );
}

function RetentionForm(props: {
  rule: RetentionRule;
  databaseId: string;
  onSaved?: (() => void) | undefined;
}): JSX.Element {
  const start = props.rule;
  const [mode, setMode] = createSignal<'days' | 'tiers'>(start.mode);
  const [tiers, setTiers] = createSignal<Record<TierName, string>>({
    daily: String(start.tiers?.daily ?? 7),
    weekly: String(start.tiers?.weekly ?? 4),
    monthly: String(start.tiers?.monthly ?? 0),
    yearly: String(start.tiers?.yearly ?? 0),
  });
  const [lockAll, setLockAll] = createSignal(start.objectLock?.all ? String(start.objectLock.all) : '');
  const [lockYears, setLockYears] = createSignal<Record<TierName, string>>(
    Object.fromEntries(
      TIER_NAMES.map((n) => {
        const days = start.objectLock?.[n];
        return [n, days ? String(Math.round((days / YEAR_DAYS) * 100) / 100) : ''];
      }),
    ) as Record<TierName, string>,
  );
  const [preview, setPreview] = createSignal<RetentionPreview>();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<unknown>();
  const [fields, setFields] = createSignal<Record<string, string>>({});

  const chosenTiers = (): RetentionTiers | null =>
    mode() === 'days'
      ? null
      : {
          daily: toCount(tiers().daily),
          weekly: toCount(tiers().weekly),
          monthly: toCount(tiers().monthly),
          yearly: toCount(tiers().yearly),
        };
  const chosenLock = () => {
    const lock: Record<string, number> = {};
    if (lockAll().trim()) lock.all = Number(lockAll());
    for (const n of TIER_NAMES) {
      const years = lockYears()[n].trim();
      if (years) lock[n] = Math.round(Number(years) * YEAR_DAYS);
    }
    return Object.keys(lock).length > 0 ? lock : null;
  };
  // Any change makes the preview stale: Save needs a preview of exactly what is saved.
  const changed = () => setPreview(undefined);

  const fail = (err: unknown) => {
    setError(err);
    if (err instanceof ApiClientError && err.fields) setFields(err.fields);
  };

  const runPreview = async () => {
    setBusy(true);
    setError(undefined);
    setFields({});
    try {
      setPreview(await api.previewRetention(props.databaseId, chosenTiers()));
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  const save = async (e: SubmitEvent) => {
    e.preventDefault();
    if (!preview()) return runPreview();
    setBusy(true);
    setError(undefined);
    setFields({});
    try {
      await api.putRetention(props.databaseId, { tiers: chosenTiers(), objectLock: chosenLock() as never });
      setPreview(undefined);
      showToast(rt('retention.saved'));
      props.onSaved?.();
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="retention-form" onSubmit={save} novalidate aria-label={rt('retention.title')}>
      <p class="muted">{rt('retention.hint', { days: props.rule.planMaxDays, zone: props.rule.timeZone })}</p>
      <Show when={error()}>
        <ErrorState error={error()} compact />
      </Show>
      <fieldset class="radio-group">
        <legend>{rt('retention.mode')}</legend>
        <label class="radio">
          <input
            type="radio"
            name="retention-mode"
            value="days"
            checked={mode() === 'days'}
            onChange={() => {
              setMode('days');
              changed();
            }}
          />
          {rt('retention.modeDays', { days: props.rule.retentionDays })}
        </label>
        <label class="radio">
          <input
            type="radio"
            name="retention-mode"
            value="tiers"
            checked={mode() === 'tiers'}
            onChange={() => {
              setMode('tiers');
              changed();
            }}
          />
          {rt('retention.modeTiers')}
        </label>
      </fieldset>
      <Show when={mode() === 'tiers'}>
        <div class="form-grid tiers-grid">
          <For each={TIER_NAMES}>
            {(n) => (
              <Field
                id={`tier-${n}`}
                label={rt(`retention.tier.${n}` as RetentionTextKey)}
                error={fields().tiers}
              >
                <input
                  {...control(`tier-${n}`, fields().tiers)}
                  type="number"
                  min="0"
                  step="1"
                  inputmode="numeric"
                  value={tiers()[n]}
                  onInput={(e) => {
                    setTiers({ ...tiers(), [n]: e.currentTarget.value });
                    changed();
                  }}
                />
              </Field>
            )}
          </For>
        </div>
      </Show>

      <fieldset class="lock-settings" disabled={!props.rule.objectLockAvailable}>
        <legend>{rt('retention.lockTitle')}</legend>
        <p class="muted">
          {props.rule.objectLockAvailable ? rt('retention.lockHint') : rt('retention.lockUnavailable')}
        </p>
        <div class="form-grid">
          <Field id="lock-all" label={rt('retention.lockAll')} error={fields()['objectLock.all']}>
            <input
              {...control('lock-all', fields()['objectLock.all'])}
              type="number"
              min="1"
              step="1"
              value={lockAll()}
              onInput={(e) => setLockAll(e.currentTarget.value)}
            />
          </Field>
          <For each={TIER_NAMES}>
            {(n) => (
              <Field
                id={`lock-${n}`}
                label={rt(`retention.lockTier.${n}` as RetentionTextKey)}
                error={fields()[`objectLock.${n}`]}
              >
                <input
                  {...control(`lock-${n}`, fields()[`objectLock.${n}`])}
                  type="number"
                  min="0"
                  step="any"
                  value={lockYears()[n]}
                  onInput={(e) => setLockYears({ ...lockYears(), [n]: e.currentTarget.value })}
                />
              </Field>
            )}
          </For>
        </div>
      </fieldset>

      <Show when={preview()}>
        {(p) => (
          <div class="retention-preview" role="status">
            <Show
              when={p().deletedCount > 0}
              fallback={<p>{rt('retention.previewNone', { kept: p().keptCount })}</p>}
            >
              <p>
                <strong>
                  {rt('retention.previewDeleted', {
                    count: p().deletedCount,
                    size: formatBytes(p().deletedBytes),
                  })}
                </strong>
              </p>
              <ul class="preview-list">
                <For each={p().deleted.slice(0, PREVIEW_SHOWN)}>
                  {(b) => (
                    <li>
                      {formatDateTime(b.startedAt)} ·{' '}
                      {b.status === 'succeeded'
                        ? formatBytes(b.sizeBytes ?? 0)
                        : rt('retention.previewFailed')}
                    </li>
                  )}
                </For>
              </ul>
              <Show when={p().deletedCount > PREVIEW_SHOWN}>
                <p class="muted">
                  {rt('retention.previewMore', { count: p().deletedCount - PREVIEW_SHOWN })}
                </p>
              </Show>
              <p class="muted">{rt('retention.previewKept', { kept: p().keptCount })}</p>
            </Show>
            <Show when={p().lockedCount > 0}>
              <p class="muted">{rt('retention.previewLocked', { count: p().lockedCount })}</p>
            </Show>
          </div>
        )}
      </Show>

      <div class="form-actions">
        <button type="button" class="btn btn-secondary" disabled={busy()} onClick={() => void runPreview()}>
          {rt('retention.preview')}
        </button>
        <button
          type="submit"
          class="btn btn-primary"
          disabled={busy() || !preview() || actionBlocked(ACTIONS.setRetention) !== undefined}
          title={preview() ? undefined : rt('retention.previewFirst')}
        >
          {rt('retention.save')}
        </button>
      </div>
    </form>
  );
}
