// Why a backup failed, as a code the dashboard and the alerts put into the account's language.
// The agent sends it beside its own English text (`error`, often with a tool's stderr), which the
// dashboard shows untranslated below the sentence as the tool's output. An older agent sends no
// code: then only the text is shown, as before.
import * as v from 'valibot';
import { Text } from './text.ts';

/**
 * One code per kind of fix, derived from what the agent classifies (EngineError codes, a stopped
 * agent, a full disk, a refused completion). Parameters (all optional strings) by code:
 * - tool_missing, tool_too_old, tool_failed, tool_killed, input_failed: tool
 * - connection_failed: host, port; auth_failed: user; database_missing: database
 */
export const BACKUP_ERROR_CODES = [
  'connection_failed',
  'auth_failed',
  'database_missing',
  'permission_denied',
  'tool_missing',
  'tool_too_old',
  'tool_failed',
  'tool_killed',
  'input_failed',
  'disk_full',
  'agent_stopped',
  'spool_full',
  'upload_refused',
  'internal',
] as const;
export type BackupErrorCode = (typeof BACKUP_ERROR_CODES)[number];

export const BackupErrorCodeSchema = v.picklist(BACKUP_ERROR_CODES, 'is not a known backup error code');

/** Small and bounded: at most 8 parameters of at most 500 characters each. */
export const BackupErrorParams = v.pipe(
  v.record(
    v.pipe(v.string(), v.regex(/^[a-zA-Z]{1,40}$/, 'must be a parameter name')),
    v.pipe(Text, v.maxLength(500, 'is too long')),
  ),
  v.check((p) => Object.keys(p).length <= 8, 'has too many parameters'),
);
export type BackupErrorParams = v.InferOutput<typeof BackupErrorParams>;
