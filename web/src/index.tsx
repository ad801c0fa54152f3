import { render } from 'solid-js/web';
import { App } from './app.tsx';
import { locale } from './i18n/index.ts';
import { loadSession } from './lib/session.ts';
import './styles.css';

document.documentElement.lang = locale();
void loadSession();
render(() => <App />, document.getElementById('root')!);
