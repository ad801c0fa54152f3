import { PLANS } from '@resistro/contract/plans';
import { A, useNavigate, useParams } from '@solidjs/router';
import { createResource, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { DatabaseForm } from '../components/database-form.tsx';
import { Icon } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { Async, EmptyState } from '../components/states.tsx';
import { t, tn } from '../i18n/index.ts';
import { createBody, updateBody } from '../lib/database-form.ts';
import { updateAccount } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';

export default function DatabaseFormPage(): JSX.Element {
  const params = useParams<{ id?: string }>();
  const navigate = useNavigate();
  const [data, { refetch }] = createResource(
    () => params.id ?? 'new',
    async (id) => {
      const [agents, { account }, editing] = await Promise.all([
        api.allAgents(),
        api.account(),
        id === 'new' ? Promise.resolve(undefined) : api.getDatabase(id).then((r) => r.database),
      ]);
      updateAccount(account);
      return { agents: agents, account, editing };
    },
  );

  return (
    <div class="page page-narrow">
      <PageHeader
        title={params.id ? t('dbForm.editTitle') : t('dbForm.addTitle')}
        description={params.id ? undefined : t('dbForm.addSubtitle')}
        back={
          <A href={params.id ? `/databases/${params.id}` : '/databases'} class="back-link">
            <Icon name="chevronLeft" size={16} />
            {params.id ? t('dbForm.backToDatabase') : t('databases.title')}
          </A>
        }
      />
      <Async of={data} retry={refetch}>
        {(d) => (
          <Show
            when={d().agents.length > 0}
            fallback={
              <div class="card">
                <EmptyState
                  icon="server"
                  title={t('dbForm.noAgentTitle')}
                  action={
                    <A href="/onboarding" class="btn btn-primary">
                      {t('start.connectAgent')}
                    </A>
                  }
                >
                  {t('dbForm.noAgentText')}
                </EmptyState>
              </div>
            }
          >
            <Show
              when={
                !d().editing &&
                d().account.limits.maxDatabases !== null &&
                d().account.usage.databases >= (d().account.limits.maxDatabases ?? 0)
              }
            >
              <div class="alert alert-info" role="status">
                <Icon name="alert" />
                <p>
                  {tn('databases.limitReached', d().account.limits.maxDatabases ?? 0)}{' '}
                  <A href="/settings#plan" class="alert-link">
                    {t('databases.upgrade')}
                  </A>
                </p>
              </div>
            </Show>
            <DatabaseForm
              ctx={{
                agents: d().agents,
                maxRetentionDays: d().account.limits.maxRetentionDays,
                editing: d().editing,
              }}
              planName={PLANS[d().account.plan].name}
              onCancel={() => navigate(params.id ? `/databases/${params.id}` : '/databases')}
              onSubmit={async (values) => {
                const current = d().editing;
                const { database } = current
                  ? await api.updateDatabase(current.id, await updateBody(values, current, d().agents))
                  : await api.createDatabase(await createBody(values, d().agents));
                showToast(current ? t('dbForm.saved') : t('dbForm.created', { name: database.name }));
                navigate(`/databases/${database.id}`);
              }}
            />
          </Show>
        )}
      </Async>
    </div>
  );
}
