// The restore tests of one database: its last verified restore and measured restore time, "test
// now", the history with each verdict's reasons, and the test settings.
import {
  isRestoreTestActive,
  type RestoreTest,
  type RestoreTestSettings,
} from '@resistro/contract/restore-tests';
import type { Database } from '@resistro/contract/schemas';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { api, errorMessage } from '../api.ts';
import { type MessageKey, t } from '../i18n/index.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import { formatDateTime, formatDuration } from '../lib/format.ts';
import { createPoll } from '../lib/poll.ts';
import { actionBlocked } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { Icon } from './icons.tsx';
import { CancelJobButton, HistoryTable, TimeCell } from './job-history.tsx';
import { RestoreTestSettingsForm } from './restore-test-settings.tsx';
import { RestoreTestBadge, RestoreTestReasons } from './restore-test-verdict.tsx';
import { Async, EmptyState } from './states.tsx';

type Data = { items: RestoreTest[]; settings: RestoreTestSettings };

export function RestoreTestsSection(props: { database: Database; databases: Database[] }): JSX.Element {
  const [data, { refetch, mutate }] = createResource(
    () => props.database.id,
    async (id): Promise<Data> => {
      const [list, { settings }] = await Promise.all([
        api.listRestoreTests({ databaseId: id, limit: 20 }),
        api.getRestoreTestSettings(id),
      ]);
      return { items: list.items, settings };
    },
  );
  const [busy, setBusy] = createSignal(false);
  const [editing, setEditing] = createSignal(false);
  const active = () => data.latest?.items.some((x) => isRestoreTestActive(x.state)) ?? false;
  createPoll(() => void refetch(), 3_000, active);

  const lastPassed = () => data.latest?.items.find((x) => x.state === 'passed');
  const testNow = async () => {
    setBusy(true);
    try {
      await api.createRestoreTest({ databaseId: props.database.id });
      showToast(t('rtest.requested'));
      void refetch();
    } catch (e) {
      showToast(errorMessage(e), 'error', 10_000);
    } finally {
      setBusy(false);
    }
  };
  const cancel = async (x: RestoreTest) => {
    try {
      await api.cancelRestoreTest(x.id);
      showToast(t('rtest.cancelled'));
      void refetch();
    } catch (e) {
      showToast(errorMessage(e), 'error', 10_000);
    }
  };

  return (
    <section
      class="card"
      id="restore-tests"
      aria-labelledby="restore-tests-title"
      data-testid="restore-tests"
    >
      <div class="card-head">
        <h2 id="restore-tests-title">{t('rtest.title')}</h2>
        <div class="card-actions">
          <button
            type="button"
            class="btn btn-secondary btn-sm"
            aria-expanded={editing()}
            onClick={() => setEditing(!editing())}
          >
            <Icon name="edit" size={16} />
            {t('rtest.settings')}
          </button>
          <button
            type="button"
            class="btn btn-primary btn-sm"
            disabled={busy() || active() || actionBlocked(ACTIONS.testRestore) !== undefined}
            title={actionBlocked(ACTIONS.testRestore)}
            data-action={actionAttr(ACTIONS.testRestore)}
            onClick={testNow}
          >
            <Icon name="play" size={16} />
            {t('rtest.testNow')}
          </button>
        </div>
      </div>
      <p class="muted">{t('rtest.intro')}</p>
      <Async of={data} retry={refetch}>
        {(d) => (
          <>
            <p data-testid="last-verified">
              <strong>{t('rtest.lastVerified')}: </strong>
              <Show when={lastPassed()} fallback={<span class="muted">{t('rtest.lastVerifiedNever')}</span>}>
                {(p) => (
                  <>
                    <time datetime={p().finishedAt ?? ''}>{formatDateTime(p().finishedAt)}</time>
                    <span class="muted">
                      {' '}
                      · {t('rtest.rto', { duration: formatDuration(p().restoreMs) })}
                    </span>
                  </>
                )}
              </Show>
            </p>
            <Show when={editing()}>
              <RestoreTestSettingsForm
                database={props.database}
                databases={props.databases}
                settings={d().settings}
                onSaved={(settings) => {
                  mutate({ ...d(), settings });
                  setEditing(false);
                }}
              />
            </Show>
            <Show
              when={d().items.length > 0}
              fallback={
                <EmptyState icon="archive" title={t('rtest.title')}>
                  {d().settings.nextDueAt
                    ? t('rtest.historyEmpty', { when: formatDateTime(d().settings.nextDueAt) })
                    : t('rtest.historyEmptyOff')}
                </EmptyState>
              }
            >
              <HistoryTable
                testid="restore-test-history"
                caption={t('rtest.title')}
                columns={[
                  { label: t('rtest.col.result') },
                  { label: t('rtest.col.when') },
                  { label: t('rtest.col.backup') },
                  { label: t('rtest.col.rto'), num: true, title: t('rtest.rtoHint') },
                  { label: t('rtest.col.by') },
                ]}
              >
                <For each={d().items}>
                  {(x) => (
                    <tr data-restore-test-id={x.id} data-state={x.state}>
                      <td data-label={t('rtest.col.result')}>
                        <RestoreTestBadge state={x.state} />
                        <Show when={x.state === 'running' && x.phase}>
                          <span class="muted"> {t(`rtest.phase.${x.phase}` as MessageKey)}</span>
                        </Show>
                        <Show when={isRestoreTestActive(x.state)}>
                          <CancelJobButton
                            action={ACTIONS.cancelRestoreTest}
                            requested={x.cancelRequested}
                            label={t('rtest.cancel')}
                            requestedLabel={t('rtest.cancelling')}
                            onClick={() => cancel(x)}
                          />
                        </Show>
                        <Show when={x.state !== 'pending' && x.state !== 'running'}>
                          <RestoreTestReasons test={x} />
                        </Show>
                      </td>
                      <TimeCell label={t('rtest.col.when')} at={x.requestedAt} />
                      <TimeCell label={t('rtest.col.backup')} at={x.backupStartedAt} />
                      <td data-label={t('rtest.col.rto')} class="num" data-testid="restore-test-rto">
                        {x.restoreMs !== null ? formatDuration(x.restoreMs) : '–'}
                      </td>
                      <td data-label={t('rtest.col.by')}>
                        <span class="muted">{x.requestedBy ?? t('rtest.bySchedule')}</span>
                      </td>
                    </tr>
                  )}
                </For>
              </HistoryTable>
            </Show>
          </>
        )}
      </Async>
    </section>
  );
}
