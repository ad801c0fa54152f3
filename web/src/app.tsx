import { Router } from '@solidjs/router';
import { type JSX, Suspense } from 'solid-js';
import { Loading } from './components/states.tsx';
import { routes } from './routes.ts';

export function App(): JSX.Element {
  return (
    <Router root={(props) => <Suspense fallback={<Loading />}>{props.children}</Suspense>}>{routes}</Router>
  );
}
