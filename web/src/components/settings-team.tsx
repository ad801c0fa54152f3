// Settings → Team: the members with their roles, open invitations, inviting by e-mail, changing a
// role or the download grant, removing a member (their API keys are then listed to keep or revoke).
// What the logged-in role may not do is disabled with the reason (docs/teams.md).

import { ROLES, type Role } from '@resistro/contract/roles';
import type { ApiKey } from '@resistro/contract/schemas';
import type { Invitation, Member } from '@resistro/contract/teams';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { ApiClientError, api } from '../api.ts';
import { type MessageKey, t } from '../i18n/index.ts';
import { ACTIONS, type Action, actionAttr } from '../lib/actions.ts';
import { formatDateTime } from '../lib/format.ts';
import { actionBlocked, me } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { checkEmail, focusFirstInvalid, type Problem } from '../lib/validate.ts';
import { ConfirmFor } from './confirm-dialog.tsx';
import { DataTable } from './data-table.tsx';
import { control, Field } from './field.tsx';
import { Icon } from './icons.tsx';
import { Async, ErrorState } from './states.tsx';

const roleName = (r: Role) => t(`role.${r}` as MessageKey);

export function TeamSection(): JSX.Element {
  const [team, { refetch, mutate }] = createResource(() => api.allMembers());
  const [email, setEmail] = createSignal('');
  const [inviteRole, setInviteRole] = createSignal<Role>('viewer');
  const [canDownload, setCanDownload] = createSignal(false);
  const [problem, setProblem] = createSignal<Problem | string>();
  const [error, setError] = createSignal<unknown>();
  const [busy, setBusy] = createSignal(false);
  const [toRemove, setToRemove] = createSignal<Member>();
  const [orphanKeys, setOrphanKeys] = createSignal<{ email: string; keys: ApiKey[] }>();
  let form: HTMLFormElement | undefined;

  /** Why this member may not change the team: below admin, or a closed account. */
  // each control asks the route table for its own route (removing a member stays possible on a
  // closed account; inviting does not)
  const blocked = (action: Action = ACTIONS.invite) => actionBlocked(action);
  const isOwner = () => me()?.user.role === 'owner';
  const ownerBlocked = () => (isOwner() ? undefined : t('team.ownerOnly'));
  const problemText = () => {
    const p = problem();
    return typeof p === 'string' ? p : p ? t(p.key, p.params) : undefined;
  };

  const invite = async (e: SubmitEvent) => {
    e.preventDefault();
    setError(undefined);
    const p = checkEmail(email());
    setProblem(p);
    if (p) return focusFirstInvalid(form);
    setBusy(true);
    try {
      const r = await api.invite({
        email: email().trim(),
        role: inviteRole(),
        ...(inviteRole() === 'viewer' && { canDownload: canDownload() }),
      });
      setEmail('');
      showToast(
        r.mailed ? t('team.invited', { email: r.invitation.email }) : t('team.notMailed'),
        r.mailed ? 'ok' : 'error',
      );
      void refetch();
    } catch (err) {
      setError(err);
      if (err instanceof ApiClientError && err.fields?.email) setProblem(err.fields.email);
    } finally {
      setBusy(false);
    }
  };

  const change = async (m: Member, body: { role?: Role; canDownload?: boolean }) => {
    try {
      const { member } = await api.updateMember(m.id, body);
      mutate((cur) => cur && { ...cur, items: cur.items.map((x) => (x.id === m.id ? member : x)) });
      showToast(t('team.changed', { email: m.email }));
    } catch (err) {
      showToast(err instanceof Error ? err.message : String(err), 'error', 8000);
      void refetch();
    }
  };

  const withdraw = async (i: Invitation) => {
    await api.withdrawInvitation(i.id);
    showToast(t('team.withdrawn', { email: i.email }));
    void refetch();
  };

  return (
    <section class="card settings-section" id="team" aria-labelledby="team-title" data-testid="team">
      <div class="card-head">
        <h2 id="team-title">{t('team.title')}</h2>
        <p class="muted">{t('team.hint')}</p>
      </div>

      <Show
        when={!blocked()}
        fallback={
          <p class="muted" data-testid="team-blocked">
            {blocked()}
          </p>
        }
      >
        <form ref={form} class="inline-form" onSubmit={invite} novalidate aria-label={t('team.invite')}>
          <Show when={error()}>
            <ErrorState error={error()} compact />
          </Show>
          <div class="inline-form-row">
            <Field id="invite-email" label={t('auth.email')} error={problemText()} class="grow">
              <input
                {...control('invite-email', problemText())}
                type="email"
                value={email()}
                placeholder="colleague@example.com"
                onInput={(e) => setEmail(e.currentTarget.value)}
                autocomplete="off"
              />
            </Field>
            <Field
              id="invite-role"
              label={t('team.role')}
              hint={t(`role.hint.${inviteRole()}` as MessageKey)}
            >
              <select
                {...control('invite-role', undefined, true)}
                onChange={(e) => setInviteRole(e.currentTarget.value as Role)}
              >
                <For each={ROLES.filter((r) => r !== 'owner' || isOwner()).reverse()}>
                  {(r) => (
                    <option value={r} selected={r === inviteRole()}>
                      {roleName(r)}
                    </option>
                  )}
                </For>
              </select>
            </Field>
            <Show when={inviteRole() === 'viewer'}>
              <label class="checkbox">
                <input
                  type="checkbox"
                  id="invite-download"
                  checked={canDownload()}
                  onChange={(e) => setCanDownload(e.currentTarget.checked)}
                />
                {t('team.canDownload')}
              </label>
            </Show>
            <div class="inline-form-submit">
              <button type="submit" class="btn btn-primary" disabled={busy()}>
                <Icon name="plus" size={16} />
                {busy() ? t('state.working') : t('team.invite')}
              </button>
            </div>
          </div>
        </form>
      </Show>

      <Show when={orphanKeys()}>
        {(o) => (
          <div class="alert alert-warn" role="status" data-testid="orphan-keys">
            <Icon name="key" />
            <div class="alert-body">
              <strong>{t('team.orphanKeys', { email: o().email })}</strong>
              <ul class="stack-sm">
                <For each={o().keys}>
                  {(k) => (
                    <li>
                      <span class="mono">{k.prefix}…</span> {k.name} (
                      {t(`keys.scope.${k.scope}` as MessageKey)}){' '}
                      <button
                        type="button"
                        class="btn btn-danger-outline btn-sm"
                        onClick={async () => {
                          await api.revokeApiKey(k.id);
                          setOrphanKeys({ email: o().email, keys: o().keys.filter((x) => x.id !== k.id) });
                          showToast(t('keys.revoked', { name: k.name }));
                        }}
                      >
                        {t('keys.revoke')}
                      </button>
                    </li>
                  )}
                </For>
              </ul>
              <button type="button" class="btn btn-secondary btn-sm" onClick={() => setOrphanKeys(undefined)}>
                {t('team.keepKeys')}
              </button>
            </div>
          </div>
        )}
      </Show>

      <Async of={team} retry={refetch}>
        {(data) => (
          <>
            <DataTable
              caption={t('team.members')}
              rows={data().items}
              rowAttrs={(m) => ({ 'data-member': m.email })}
              columns={[
                {
                  label: t('auth.email'),
                  wide: true,
                  cell: (m) => (
                    <>
                      <strong>{m.email}</strong>
                      <Show when={m.id === me()?.user.id}>
                        {' '}
                        <span class="badge badge-neutral">{t('team.you')}</span>
                      </Show>
                    </>
                  ),
                },
                {
                  label: t('team.role'),
                  cell: (m) => {
                    const reason = () =>
                      blocked(ACTIONS.updateMember) ?? (m.role === 'owner' ? ownerBlocked() : undefined);
                    return (
                      <select
                        data-action={actionAttr(ACTIONS.updateMember)}
                        class="input input-sm"
                        aria-label={t('team.roleOf', { email: m.email })}
                        disabled={reason() !== undefined}
                        title={reason()}
                        onChange={(e) => change(m, { role: e.currentTarget.value as Role })}
                      >
                        <For each={ROLES.filter((r) => r !== 'owner' || isOwner() || m.role === 'owner')}>
                          {(r) => (
                            <option value={r} selected={r === m.role}>
                              {roleName(r)}
                            </option>
                          )}
                        </For>
                      </select>
                    );
                  },
                },
                {
                  label: t('team.download'),
                  cell: (m) => (
                    <Show
                      when={m.role === 'viewer'}
                      fallback={<span class="muted">{t('team.downloadAlways')}</span>}
                    >
                      <input
                        type="checkbox"
                        aria-label={t('team.canDownloadOf', { email: m.email })}
                        checked={m.canDownload}
                        disabled={blocked(ACTIONS.updateMember) !== undefined}
                        title={blocked(ACTIONS.updateMember)}
                        data-action={actionAttr(ACTIONS.updateMember)}
                        onChange={(e) => change(m, { canDownload: e.currentTarget.checked })}
                      />
                    </Show>
                  ),
                },
                { label: t('team.since'), cell: (m) => formatDateTime(m.createdAt) },
              ]}
              actions={(m) => {
                const reason = () =>
                  blocked(ACTIONS.removeMember) ?? (m.role === 'owner' ? ownerBlocked() : undefined);
                return (
                  <button
                    data-action={actionAttr(ACTIONS.removeMember)}
                    type="button"
                    class="btn btn-danger-outline btn-sm"
                    aria-label={t('team.removeLabel', { email: m.email })}
                    disabled={reason() !== undefined}
                    title={reason()}
                    onClick={() => setToRemove(m)}
                  >
                    {t('team.remove')}
                  </button>
                );
              }}
            />
            <Show when={data().invitations.length > 0}>
              <h3 class="section-subtitle">{t('team.pending')}</h3>
              <DataTable
                caption={t('team.pending')}
                rows={data().invitations}
                rowAttrs={(i) => ({ 'data-invitation': i.email })}
                columns={[
                  { label: t('auth.email'), wide: true, cell: (i) => <strong>{i.email}</strong> },
                  { label: t('team.role'), cell: (i) => roleName(i.role) },
                  { label: t('team.expires'), cell: (i) => formatDateTime(i.expiresAt) },
                ]}
                actions={(i) => (
                  <button
                    type="button"
                    class="btn btn-secondary btn-sm"
                    disabled={blocked(ACTIONS.withdrawInvitation) !== undefined}
                    title={blocked(ACTIONS.withdrawInvitation)}
                    data-action={actionAttr(ACTIONS.withdrawInvitation)}
                    onClick={() => withdraw(i)}
                  >
                    {t('team.withdraw')}
                  </button>
                )}
              />
            </Show>
          </>
        )}
      </Async>

      <ConfirmFor
        item={toRemove()}
        title={(m) => t('team.removeTitle', { email: m.email })}
        confirmLabel={t('team.remove')}
        danger
        onClose={() => setToRemove(undefined)}
        onConfirm={async (m) => {
          const r = await api.removeMember(m.id);
          mutate((cur) => cur && { ...cur, items: cur.items.filter((x) => x.id !== m.id) });
          showToast(t('team.removed', { email: m.email }));
          if (r.apiKeys.length > 0) setOrphanKeys({ email: m.email, keys: r.apiKeys });
        }}
      >
        {() => <p>{t('team.removeText')}</p>}
      </ConfirmFor>
    </section>
  );
}
