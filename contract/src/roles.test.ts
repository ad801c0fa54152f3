import { describe, expect, it } from 'vitest';
import { ROLES, roleAtLeast } from './roles.ts';
import { findRoute, ROUTES, requiredRole, roleAllows } from './routes.ts';

describe('roles', () => {
  it('orders owner > admin > operator > viewer', () => {
    expect(roleAtLeast('owner', 'viewer')).toBe(true);
    expect(roleAtLeast('admin', 'owner')).toBe(false);
    expect(roleAtLeast('operator', 'operator')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
  });

  it('derives the role from the access where a route names none', () => {
    expect(requiredRole({ access: 'read' })).toEqual({ role: 'viewer', downloadGrant: false });
    expect(requiredRole({ access: 'write' })).toEqual({ role: 'operator', downloadGrant: false });
    expect(requiredRole({ access: 'download' })).toEqual({ role: 'viewer', downloadGrant: true });
    expect(requiredRole({ access: 'agent' })).toBeNull();
    expect(requiredRole({ access: 'public' })).toBeNull();
    expect(requiredRole({ access: 'write', role: 'owner' })).toEqual({ role: 'owner', downloadGrant: false });
  });

  it('lets a viewer download only with the grant', () => {
    const dl = { access: 'download' as const };
    expect(roleAllows(dl, { role: 'viewer', canDownload: false })).toBe(false);
    expect(roleAllows(dl, { role: 'viewer', canDownload: true })).toBe(true);
    expect(roleAllows(dl, { role: 'operator', canDownload: false })).toBe(true);
  });

  it('finds the route of a request, ids included, and no other', () => {
    expect(findRoute('DELETE', '/databases/abc')?.path).toBe('/databases/{id}');
    expect(findRoute('GET', '/backups/abc/download')?.path).toBe('/backups/{id}/download');
    expect(findRoute('GET', '/backups/abc')?.path).toBe('/backups/{id}');
    expect(findRoute('PUT', '/databases')).toBeUndefined();
    expect(findRoute('GET', '/databases/a/b/c')).toBeUndefined();
    // every route of the table is found by its own path
    for (const r of ROUTES) expect(findRoute(r.method, r.path.replace(/\{\w+\}/g, 'x1'))).toBe(r);
    expect(ROLES).toEqual(['owner', 'admin', 'operator', 'viewer']);
  });
});
