// Component tests run with both languages' texts already fetched, so a switch applies at once as it
// does in the browser once a language was used (i18n/index.ts; i18n.test.tsx tests the loading).
import { LOCALES, loadLocale } from './i18n/index.ts';

await Promise.all(LOCALES.map(loadLocale));
