// The "database" filter of the lists that can be narrowed to one database (backups, alerts): all
// databases or one, its choice kept by the page (in the URL).
import type { Database } from '@resistro/contract/schemas';
import { For, type JSX } from 'solid-js';
import { t } from '../i18n/index.ts';
import { Field } from './field.tsx';

export function DatabaseFilter(props: {
  databases: Database[] | undefined;
  value: string | undefined;
  onChange: (id: string | undefined) => void;
}): JSX.Element {
  return (
    <Field id="filter-database" label={t('backups.col.database')}>
      <select
        id="filter-database"
        value={props.value ?? ''}
        onChange={(e) => props.onChange(e.currentTarget.value || undefined)}
      >
        <option value="">{t('backups.allDatabases')}</option>
        <For each={props.databases ?? []}>
          {(d) => (
            <option value={d.id} selected={d.id === props.value}>
              {d.name}
            </option>
          )}
        </For>
      </select>
    </Field>
  );
}
