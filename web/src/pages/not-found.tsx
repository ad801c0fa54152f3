import { A } from '@solidjs/router';
import type { JSX } from 'solid-js';
import { PageHeader } from '../components/page-header.tsx';
import { EmptyState } from '../components/states.tsx';
import { t } from '../i18n/index.ts';

export default function NotFoundPage(): JSX.Element {
  return (
    <div class="page">
      <PageHeader title={t('notFound.title')} />
      <div class="card">
        <EmptyState
          icon="alert"
          title={t('notFound.text')}
          action={
            <A href="/" class="btn btn-primary">
              {t('notFound.home')}
            </A>
          }
        />
      </div>
    </div>
  );
}
