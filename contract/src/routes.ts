// The route table of /api/v1: one entry per operation, with the schemas it takes and returns.
// The OpenAPI document is generated from it, so the document cannot drift from validation.
import type { GenericSchema } from 'valibot';
import * as s from './schemas.ts';

export type RouteAccess = 'public' | 'read' | 'write' | 'agent' | 'download';
export type RouteSpec = {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  summary: string;
  access: RouteAccess;
  body?: GenericSchema;
  query?: GenericSchema;
  response?: GenericSchema;
  status?: number;
};

export const ROUTES: RouteSpec[] = [
  { method: 'get', path: '/health', summary: 'Liveness', access: 'public' },
  { method: 'post', path: '/auth/signup', summary: 'Create an account and log in', access: 'public', body: s.SignupBody, response: s.MeResponse, status: 201 },
  { method: 'post', path: '/auth/login', summary: 'Log in (sets the session cookie)', access: 'public', body: s.LoginBody, response: s.MeResponse },
  { method: 'post', path: '/auth/logout', summary: 'Log out', access: 'public', status: 204 },
  { method: 'get', path: '/auth/me', summary: 'The logged-in user and account', access: 'read', response: s.MeResponse },
  { method: 'get', path: '/account', summary: 'Plan, limits, usage', access: 'read' },
  { method: 'patch', path: '/account', summary: 'Change plan or alert e-mails', access: 'write', body: s.UpdateAccountBody },
  { method: 'delete', path: '/account', summary: 'Cancel the account (backups stay downloadable 30 days)', access: 'write', status: 202 },
  { method: 'get', path: '/api-keys', summary: 'List API keys', access: 'write', response: s.ApiKeyList },
  { method: 'post', path: '/api-keys', summary: 'Create an API key (the secret is shown once)', access: 'write', body: s.CreateApiKeyBody, response: s.CreatedApiKey, status: 201 },
  { method: 'delete', path: '/api-keys/{id}', summary: 'Revoke an API key', access: 'write', status: 204 },
  { method: 'post', path: '/agent/heartbeat', summary: 'Agent heartbeat: registers the agent, returns its work', access: 'agent', body: s.HeartbeatBody, response: s.HeartbeatResponse },
  { method: 'get', path: '/agents', summary: 'List agents', access: 'read', response: s.AgentList },
  { method: 'get', path: '/agents/{id}', summary: 'One agent', access: 'read' },
  { method: 'delete', path: '/agents/{id}', summary: 'Remove an agent without databases', access: 'write', status: 204 },
  { method: 'get', path: '/databases', summary: 'List databases', access: 'read', response: s.DatabaseList },
  { method: 'post', path: '/databases', summary: 'Add a database', access: 'write', body: s.CreateDatabaseBody, status: 201 },
  { method: 'get', path: '/databases/{id}', summary: 'One database', access: 'read' },
  { method: 'patch', path: '/databases/{id}', summary: 'Change a database', access: 'write', body: s.UpdateDatabaseBody },
  { method: 'post', path: '/databases/{id}/pause', summary: 'Pause its schedule', access: 'write' },
  { method: 'post', path: '/databases/{id}/resume', summary: 'Resume its schedule', access: 'write' },
  { method: 'post', path: '/databases/{id}/backup-now', summary: 'Ask its agent for a backup now', access: 'write', response: s.BackupNowResponse, status: 202 },
  { method: 'delete', path: '/databases/{id}', summary: 'Delete a database (its backups stay until retention ends)', access: 'write', status: 204 },
  { method: 'get', path: '/backups', summary: 'List backups, newest first (cursor pagination)', access: 'read', query: s.ListBackupsQuery, response: s.BackupList },
  { method: 'post', path: '/backups', summary: 'Agent: start a backup (creates the multipart upload)', access: 'agent', body: s.StartBackupBody, response: s.StartBackupResponse, status: 201 },
  { method: 'get', path: '/backups/{id}', summary: 'One backup', access: 'download' },
  { method: 'post', path: '/backups/{id}/parts', summary: 'Agent: presigned part URLs', access: 'agent', body: s.PartUrlsBody, response: s.PartUrlsResponse },
  { method: 'post', path: '/backups/{id}/complete', summary: 'Agent: complete the upload; verified before success', access: 'agent', body: s.CompleteBackupBody },
  { method: 'post', path: '/backups/{id}/fail', summary: 'Agent: report a failure (aborts the upload)', access: 'agent', body: s.FailBackupBody },
  { method: 'get', path: '/backups/{id}/download', summary: 'A short-lived download URL', access: 'download', response: s.DownloadResponse },
  { method: 'delete', path: '/backups/{id}', summary: 'Delete a backup', access: 'write', status: 204 },
];
