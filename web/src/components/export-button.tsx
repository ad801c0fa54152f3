// "Download all": the export manifest (every successful backup, or one database's, with its
// SHA-256 and a link valid 7 days) saved as one JSON file. `resistro export --all` downloads and
// verifies them all; the manifest is for doing it with other tools. Works while read-only.
import { createSignal, type JSX } from 'solid-js';
import { api, errorMessage } from '../api.ts';
import { t, tn } from '../i18n/index.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import { actionBlocked } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { Icon } from './icons.tsx';

export function saveJson(fileName: string, value: unknown): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function ExportButton(props: { databaseId?: string; name?: string; class?: string }): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const download = async () => {
    setBusy(true);
    try {
      const manifest = await api.exportManifest(props.databaseId ? { databaseId: props.databaseId } : {});
      const safe = (props.name ?? 'all').replace(/[^A-Za-z0-9._-]+/g, '_');
      saveJson(`resistro-export-${safe}-${manifest.generatedAt.slice(0, 10)}.json`, manifest);
      showToast(tn('export.saved', manifest.backups));
    } catch (e) {
      showToast(errorMessage(e), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      type="button"
      class={props.class ?? 'btn btn-secondary'}
      disabled={busy() || actionBlocked(ACTIONS.exportManifest) !== undefined}
      title={actionBlocked(ACTIONS.exportManifest) ?? t('export.hint')}
      data-action={actionAttr(ACTIONS.exportManifest)}
      data-testid={props.databaseId ? 'export-database' : 'export-all'}
      onClick={download}
    >
      <Icon name="download" size={16} />
      {busy() ? t('state.working') : props.databaseId ? t('export.database') : t('export.all')}
    </button>
  );
}
