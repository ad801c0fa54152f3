// A failed backup's cause in the user's language: the sentence and hint for the code the agent
// sent, then the agent's own text untranslated ("Tool output": the tool's own words). A backup
// from an older agent has no code: its text is shown alone, as before.
import { BACKUP_ERROR_CODES, type BackupErrorCode } from '@resistro/contract/backup-errors';
import { type JSX, Show } from 'solid-js';
import { type MessageKey, t } from '../i18n/index.ts';

export type BackupErrorSource = {
  error: string | null;
  errorCode?: BackupErrorCode | null | undefined;
  errorParams?: Record<string, string> | null | undefined;
};

/** The localized sentence and hint, or undefined without a code this dashboard knows. */
export function describeBackupError(b: BackupErrorSource): { sentence: string; hint: string } | undefined {
  const code = b.errorCode;
  if (!code || !(BACKUP_ERROR_CODES as readonly string[]).includes(code)) return undefined;
  const params = {
    tool: t('backupError.defaultTool'),
    host: '?',
    port: '?',
    user: '?',
    database: '?',
    ...b.errorParams,
  };
  return {
    sentence: t(`backupError.code.${code}` as MessageKey, params),
    hint: t(`backupError.hint.${code}` as MessageKey, params),
  };
}

/** The cause (with hint) and the agent's raw text below it; the raw text alone without a code. */
export function BackupErrorText(props: { backup: BackupErrorSource; fallback?: string }): JSX.Element {
  const described = () => describeBackupError(props.backup);
  const raw = () => props.backup.error ?? props.fallback ?? '';
  return (
    <Show when={described()} fallback={<pre class="error-text">{raw()}</pre>}>
      {(d) => (
        <div class="backup-error" data-testid="backup-error">
          <p class="backup-error-sentence">{d().sentence}</p>
          <p class="backup-error-hint muted">{d().hint}</p>
          <Show when={props.backup.error}>
            {(text) => (
              <details class="check-detail">
                <summary>{t('backupError.toolOutput')}</summary>
                <pre class="error-text">{text()}</pre>
              </details>
            )}
          </Show>
        </div>
      )}
    </Show>
  );
}
