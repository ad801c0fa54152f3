// Every page is its own lazily loaded chunk; only the shell and the router load up front.
import type { RouteDefinition } from '@solidjs/router';
import { lazy } from 'solid-js';
import { AppShell } from './components/app-shell.tsx';

export const routes: RouteDefinition[] = [
  { path: '/login', component: lazy(() => import('./pages/login.tsx')) },
  { path: '/signup', component: lazy(() => import('./pages/signup.tsx')) },
  { path: '/invitation', component: lazy(() => import('./pages/invitation.tsx')) },
  { path: '/forgot-password', component: lazy(() => import('./pages/forgot-password.tsx')) },
  { path: '/reset-password', component: lazy(() => import('./pages/reset-password.tsx')) },
  { path: '/verify-email', component: lazy(() => import('./pages/verify-email.tsx')) },
  {
    path: '/',
    component: AppShell,
    children: [
      { path: '/', component: lazy(() => import('./pages/start.tsx')) },
      { path: '/onboarding', component: lazy(() => import('./pages/onboarding.tsx')) },
      { path: '/checkout', component: lazy(() => import('./pages/checkout.tsx')) },
      { path: '/databases', component: lazy(() => import('./pages/databases.tsx')) },
      { path: '/databases/new', component: lazy(() => import('./pages/database-form.tsx')) },
      { path: '/databases/:id', component: lazy(() => import('./pages/database-detail.tsx')) },
      { path: '/databases/:id/edit', component: lazy(() => import('./pages/database-form.tsx')) },
      { path: '/backups', component: lazy(() => import('./pages/backups.tsx')) },
      { path: '/alerts', component: lazy(() => import('./pages/alerts.tsx')) },
      { path: '/alerts/:id', component: lazy(() => import('./pages/alert-detail.tsx')) },
      { path: '/agents', component: lazy(() => import('./pages/agents.tsx')) },
      { path: '/settings', component: lazy(() => import('./pages/settings.tsx')) },
      { path: '/audit', component: lazy(() => import('./pages/audit.tsx')) },
      { path: '/reports', component: lazy(() => import('./pages/reports.tsx')) },
      { path: '*', component: lazy(() => import('./pages/not-found.tsx')) },
    ],
  },
];
