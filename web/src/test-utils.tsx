// Helpers for component tests: a router in memory and a fetch that answers like the API.
import { createMemoryHistory, MemoryRouter, Route } from '@solidjs/router';
import { render } from '@solidjs/testing-library';
import type { Component, JSX } from 'solid-js';
import { vi } from 'vitest';

export function renderAt(path: string, routes: Record<string, Component>) {
  const history = createMemoryHistory();
  history.set({ value: path });
  const result = render(() => (
    <MemoryRouter history={history}>
      {Object.entries(routes).map(([p, C]) => (
        <Route path={p} component={C} />
      ))}
      <Route path="*" component={(): JSX.Element => <p data-testid="elsewhere">elsewhere</p>} />
    </MemoryRouter>
  ));
  return { ...result, history };
}

type Reply = { status: number; body?: unknown };

/** Replaces fetch; `reply` maps "METHOD /path" to a response. Returns the recorded requests. */
export function stubApi(reply: (method: string, path: string, body: unknown) => Reply) {
  const calls: Array<{ method: string; path: string; body: unknown }> = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const path = new URL(url).pathname.replace(/^\/api\/v1/, '');
      const method = init.method ?? 'GET';
      const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
      calls.push({ method, path, body });
      const r = reply(method, path, body);
      return new Response(r.body === undefined ? null : JSON.stringify(r.body), {
        status: r.status,
        headers: { 'content-type': 'application/json' },
      });
    }),
  );
  return calls;
}
