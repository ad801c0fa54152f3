// Continuous protection of one database server (issue 13): its state, the restorable window as a
// timeline with the base backups and dumps on it, the lag against the RPO target, gaps and what
// the agent reports, the settings, and the "restore to…" helper.
import { type PitrStatus, slotFilling } from '@resistro/contract/pitr';
import type { Database } from '@resistro/contract/schemas';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { pt } from '../i18n/pitr-texts.ts';
import { formatBytes, formatDuration, formatMoment, formatRelative } from '../lib/format.ts';
import { pitrFamily } from '../lib/pitr.ts';
import { createNow, createPoll } from '../lib/poll.ts';
import { Fact } from './fact.tsx';
import { Icon } from './icons.tsx';
import { PitrRestoreHelper } from './pitr-restore-helper.tsx';
import { PitrSettingsForm } from './pitr-settings.tsx';
import { PitrTimeline } from './pitr-timeline.tsx';
import { ErrorState, Loading } from './states.tsx';
import { Badge } from './status-badge.tsx';
import { UsageMeter } from './usage-meter.tsx';

const TONES: Record<
  PitrStatus['state'],
  { tone: 'ok' | 'warn' | 'error' | 'neutral' | 'info'; symbol: string }
> = {
  off: { tone: 'neutral', symbol: '○' },
  starting: { tone: 'info', symbol: '●' },
  ok: { tone: 'ok', symbol: '✓' },
  lagging: { tone: 'warn', symbol: '!' },
  gap: { tone: 'error', symbol: '✗' },
  stalled: { tone: 'error', symbol: '✗' },
};

export function PitrStateBadge(props: { state: PitrStatus['state'] }): JSX.Element {
  return (
    <span data-testid="pitr-state" data-state={props.state}>
      <Badge tone={TONES[props.state].tone} symbol={TONES[props.state].symbol}>
        {pt(`pitr.state.${props.state}`)}
      </Badge>
    </span>
  );
}

export function PitrCard(props: { database: Database }): JSX.Element {
  const [status, { refetch, mutate }] = createResource(
    () => props.database.id,
    (id) => api.pitrStatus(id),
  );
  const now = createNow(15_000);
  // while protection starts, the window appears within a minute or two: look more often
  createPoll(
    () => void refetch(),
    5_000,
    () => status.latest?.state === 'starting',
  );
  createPoll(
    () => void refetch(),
    10_000,
    () => status.latest !== undefined && status.latest.state !== 'starting' && status.latest.state !== 'off',
  );
  const [editing, setEditing] = createSignal(false);
  const family = () => pitrFamily(props.database.engine);

  return (
    <section class="card" id="pitr" aria-labelledby="pitr-title" data-testid="pitr">
      <div class="card-head">
        <h2 id="pitr-title">{pt('pitr.title')}</h2>
        <div class="card-actions">
          <Show when={status.latest}>{(s) => <PitrStateBadge state={s().state} />}</Show>
          <Show when={status.latest?.settings.enabled}>
            <button
              type="button"
              class="btn btn-secondary btn-sm"
              aria-expanded={editing()}
              onClick={() => setEditing(!editing())}
            >
              <Icon name="edit" size={16} />
              {pt('pitr.settings')}
            </button>
          </Show>
        </div>
      </div>
      <Show when={!status.error} fallback={<ErrorState error={status.error} compact retry={refetch} />}>
        <Show when={status.latest} fallback={<Loading />}>
          {(s) => (
            <>
              <p class="muted" data-testid="pitr-state-hint">
                {pt(`pitr.stateHint.${s().state}`)}
              </p>
              <Show
                when={s().settings.enabled}
                fallback={
                  <>
                    <p class="muted">{pt('pitr.intro')}</p>
                    <PitrSettingsForm databaseId={props.database.id} status={s()} onSaved={mutate} />
                  </>
                }
              >
                <PitrFacts status={s()} now={now()} />
                <PitrProblems status={s()} />
                <PitrTimeline status={s()} now={now()} />
                <Show when={family()}>
                  {(f) => <PitrRestoreHelper status={s()} database={props.database} family={f()} />}
                </Show>
                <Show when={editing()}>
                  <PitrSettingsForm
                    databaseId={props.database.id}
                    status={s()}
                    onSaved={(next) => {
                      mutate(next);
                      setEditing(false);
                    }}
                  />
                </Show>
              </Show>
            </>
          )}
        </Show>
      </Show>
    </section>
  );
}

function PitrFacts(props: { status: PitrStatus; now: Date }): JSX.Element {
  const s = () => props.status;
  const newest = () => s().baseBackups[0];
  const rpoMs = () => s().settings.rpoSeconds * 1000;
  return (
    <dl class="facts">
      <Fact
        label={pt('pitr.window')}
        sub={
          s().window
            ? pt('pitr.windowSub', {
                start: formatMoment(s().window!.start),
                end: formatMoment(s().window!.end),
              })
            : undefined
        }
      >
        <span data-testid="pitr-window">
          {s().window
            ? formatDuration(Date.parse(s().window!.end) - Date.parse(s().window!.start))
            : pt('pitr.windowNone')}
        </span>
      </Fact>
      <Fact
        label={pt('pitr.lag')}
        sub={
          s().reportedAt
            ? pt('pitr.lastReport', { when: formatRelative(s().reportedAt, props.now, 'past') })
            : undefined
        }
      >
        <Show when={s().lagSeconds !== null} fallback={<span class="muted">{pt('pitr.lagUnknown')}</span>}>
          <span class="pitr-lag" data-testid="pitr-lag">
            <UsageMeter
              value={s().lagSeconds! * 1000}
              max={rpoMs()}
              label={pt('pitr.lag')}
              text={pt('pitr.lagText', {
                lag: formatDuration(s().lagSeconds! * 1000),
                rpo: formatDuration(rpoMs()),
              })}
            />
          </span>
        </Show>
      </Fact>
      <Fact
        label={pt('pitr.baseBackup')}
        sub={
          s().baseBackupDue
            ? pt('pitr.baseBackupDue')
            : newest()
              ? formatBytes(newest()!.sizeBytes)
              : undefined
        }
      >
        {newest() ? formatRelative(newest()!.consistentAt, props.now, 'past') : pt('pitr.baseBackupNone')}
      </Fact>
      <Fact label={pt('pitr.logStored')}>
        {pt('pitr.logStoredText', { count: s().segmentCount, size: formatBytes(s().segmentBytes) })}
      </Fact>
    </dl>
  );
}

function PitrProblems(props: { status: PitrStatus }): JSX.Element {
  const filling = () => (slotFilling(props.status.slot) ? props.status.slot : null);
  return (
    <>
      <For each={props.status.gaps}>
        {(g) => (
          <div class="alert alert-error" role="alert" data-testid="pitr-gap">
            <Icon name="alert" />
            <div class="alert-body">
              <strong>{g.after ? pt('pitr.gapTitle', { after: g.after }) : pt('pitr.gapTitleStart')}</strong>
              <p>
                {g.toPosition
                  ? pt('pitr.gapRange', { from: g.fromPosition, to: g.toPosition })
                  : pt('pitr.gapOpen', { from: g.fromPosition })}
              </p>
              <Show when={g.missing.length > 0}>
                <p>{pt('pitr.gapMissing', { names: g.missing.join(', ') })}</p>
              </Show>
            </div>
          </div>
        )}
      </For>
      <Show when={props.status.error}>
        {(e) => (
          <div class="alert alert-warn" role="status">
            <Icon name="alert" />
            <p>{pt('pitr.agentError', { message: e().message })}</p>
          </div>
        )}
      </Show>
      <Show when={filling()}>
        {(slot) => (
          <div class="alert alert-warn" role="status">
            <Icon name="alert" />
            <p>{pt('pitr.slotFilling', { slot: slot().name, size: formatBytes(slot().retainedBytes) })}</p>
          </div>
        )}
      </Show>
    </>
  );
}
