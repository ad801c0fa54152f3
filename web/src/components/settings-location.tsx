// Settings → Second storage location (3-2-1, issue 18): a second S3 bucket of the customer's that
// receives a copy of every backup, or of the first of each month. The secret key goes to the
// server once and is never shown again (the server keeps it sealed); the form shows the key id's
// first characters. Business plan and up.
import type { Account } from '@resistro/contract/schemas';
import { createResource, createSignal, type JSX, Show } from 'solid-js';
import { ApiClientError, api } from '../api.ts';
import { rt } from '../i18n/retention-texts.ts';
import { ACTIONS } from '../lib/actions.ts';
import { formatDateTime } from '../lib/format.ts';
import { actionBlocked } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { control, Field } from './field.tsx';
import { ErrorState } from './states.tsx';

type Copies = 'all' | 'monthly';

export function LocationSection(props: { account: Account }): JSX.Element {
  const [location, { refetch, mutate }] = createResource(
    async () => (await api.getStorageLocation()).location,
  );
  const [endpoint, setEndpoint] = createSignal('');
  const [region, setRegion] = createSignal('');
  const [bucket, setBucket] = createSignal('');
  const [pathStyle, setPathStyle] = createSignal(true);
  const [keyId, setKeyId] = createSignal('');
  const [secret, setSecret] = createSignal('');
  const [copies, setCopies] = createSignal<Copies>('all');
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<unknown>();
  const [fields, setFields] = createSignal<Record<string, string>>({});
  const [confirmRemove, setConfirmRemove] = createSignal(false);
  const allowed = () => props.account.plan !== 'starter';

  const save = async (e: SubmitEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setFields({});
    try {
      const { location: saved } = await api.putStorageLocation({
        endpoint: endpoint().trim(),
        region: region().trim(),
        bucket: bucket().trim(),
        pathStyle: pathStyle(),
        accessKeyId: keyId().trim(),
        secretAccessKey: secret(),
        copies: copies(),
      });
      mutate(saved);
      // SECURITY: the secret leaves the page's memory once it is stored
      setSecret('');
      showToast(rt('location.saved'));
    } catch (err) {
      setError(err);
      if (err instanceof ApiClientError && err.fields) setFields(err.fields);
    } finally {
      setBusy(false);
    }
  };

  // A failure stays in the dialog (ConfirmDialog shows it); success closes it.
  const remove = async () => {
    await api.deleteStorageLocation();
    mutate(null);
    setConfirmRemove(false);
    showToast(rt('location.removed'));
  };

  return (
    <section class="card settings-section" id="second-location" aria-labelledby="location-title">
      <div class="card-head">
        <h2 id="location-title">{rt('location.title')}</h2>
        <p class="muted">{rt('location.hint')}</p>
      </div>
      <Show when={!allowed()}>
        <p class="alert alert-info">{rt('location.planNeeded')}</p>
      </Show>
      <Show when={location.error}>
        <ErrorState error={location.error} compact retry={refetch} />
      </Show>
      <Show when={location()}>
        {(l) => (
          <div class="location-current">
            <dl class="kv">
              <dt>{rt('location.bucket')}</dt>
              <dd>
                <code>{l().bucket}</code> · {l().endpoint} · {l().region}
              </dd>
              <dt>{rt('location.accessKeyId')}</dt>
              <dd>
                <code>{l().accessKeyIdPrefix}</code>
              </dd>
              <dt>{rt('location.copies')}</dt>
              <dd>{l().copies === 'all' ? rt('location.copiesAll') : rt('location.copiesMonthly')}</dd>
              <dt>{rt('location.method')}</dt>
              <dd>
                {l().method === 'server_copy' ? rt('location.methodServer') : rt('location.methodTransfer')}
              </dd>
              <dt>{rt('location.objectLock')}</dt>
              <dd>{l().objectLock ? rt('location.objectLockYes') : rt('location.objectLockNo')}</dd>
              <dt>{rt('location.updated')}</dt>
              <dd>{formatDateTime(l().updatedAt)}</dd>
            </dl>
            <button
              type="button"
              class="btn btn-secondary btn-sm"
              disabled={actionBlocked(ACTIONS.removeStorageLocation) !== undefined}
              title={actionBlocked(ACTIONS.removeStorageLocation)}
              onClick={() => setConfirmRemove(true)}
            >
              {rt('location.remove')}
            </button>
          </div>
        )}
      </Show>
      <Show when={error()}>
        <ErrorState error={error()} compact />
      </Show>
      <form class="form-grid" onSubmit={save} novalidate aria-label={rt('location.formLabel')}>
        <Field
          id="location-endpoint"
          label={rt('location.endpoint')}
          error={fields().endpoint}
          hint={rt('location.endpointHint')}
        >
          <input
            {...control('location-endpoint', fields().endpoint, true)}
            type="url"
            required
            value={endpoint()}
            placeholder="https://fsn1.your-objectstorage.com"
            onInput={(e) => setEndpoint(e.currentTarget.value)}
          />
        </Field>
        <Field id="location-region" label={rt('location.region')} error={fields().region}>
          <input
            {...control('location-region', fields().region)}
            required
            value={region()}
            placeholder="eu-central-1"
            onInput={(e) => setRegion(e.currentTarget.value)}
          />
        </Field>
        <Field id="location-bucket" label={rt('location.bucket')} error={fields().bucket}>
          <input
            {...control('location-bucket', fields().bucket)}
            required
            value={bucket()}
            onInput={(e) => setBucket(e.currentTarget.value)}
          />
        </Field>
        <Field id="location-key-id" label={rt('location.accessKeyId')} error={fields().accessKeyId}>
          <input
            {...control('location-key-id', fields().accessKeyId)}
            required
            autocomplete="off"
            value={keyId()}
            onInput={(e) => setKeyId(e.currentTarget.value)}
          />
        </Field>
        <Field
          id="location-secret"
          label={rt('location.secret')}
          error={fields().secretAccessKey}
          hint={rt('location.secretHint')}
        >
          <input
            {...control('location-secret', fields().secretAccessKey, true)}
            type="password"
            required
            autocomplete="new-password"
            value={secret()}
            onInput={(e) => setSecret(e.currentTarget.value)}
          />
        </Field>
        <Field id="location-copies" label={rt('location.copies')} error={fields().copies}>
          <select
            {...control('location-copies', fields().copies)}
            value={copies()}
            onChange={(e) => setCopies(e.currentTarget.value as Copies)}
          >
            <option value="all">{rt('location.copiesAll')}</option>
            <option value="monthly">{rt('location.copiesMonthly')}</option>
          </select>
        </Field>
        <label class="checkbox">
          <input
            type="checkbox"
            checked={pathStyle()}
            onChange={(e) => setPathStyle(e.currentTarget.checked)}
          />
          {rt('location.pathStyle')}
        </label>
        <div class="form-actions">
          <button
            type="submit"
            class="btn btn-primary"
            disabled={busy() || !allowed() || actionBlocked(ACTIONS.setStorageLocation) !== undefined}
          >
            {busy() ? rt('location.checking') : rt('location.save')}
          </button>
        </div>
      </form>
      <ConfirmDialog
        open={confirmRemove()}
        title={rt('location.removeTitle')}
        confirmLabel={rt('location.remove')}
        danger
        onConfirm={remove}
        onClose={() => setConfirmRemove(false)}
      >
        <p>{rt('location.removeText')}</p>
      </ConfirmDialog>
    </section>
  );
}
