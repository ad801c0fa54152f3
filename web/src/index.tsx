import { render } from 'solid-js/web';
import { App } from './app.tsx';
import { startLocale } from './i18n/index.ts';
import { loadSession } from './lib/session.ts';
import './styles.css';

void loadSession();
// One language's texts before the first render (a chunk of their own; the other loads on a switch).
await startLocale();
render(() => <App />, document.getElementById('root')!);
